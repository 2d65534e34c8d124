import type { Rule } from '../rule';
import { count, keyRange, raw, rawValue, setTop } from './shared';

/** TRL SFTConfig's default max_length. */
const TRL_DEFAULT = 1024;

export const trlMaxLengthDefault: Rule = {
  code: 'trl-max-length-default',
  severity: 'warning',
  dialects: ['trl'],
  doc: {
    title: "TRL's `max_length` default of 1024 truncates silently",
    why: "SFTConfig's `max_length` defaults to 1024 tokens: longer examples are cut at the end, where a chat example's assistant answer is, with no warning. Chat and instruction data often runs longer, and the TrainingArguments-era name `max_seq_length` (removed in TRL 0.20) is no longer read, so a config that sets it trains at 1024 too.",
    fix: 'Set `max_length` to a length that covers the data (2048 suits most chat data; the data-truncation check measures local files).',
    thresholds:
      '`max_length` missing (a `max_length: null` means no truncation and is not reported). The fix sets 2048, or the power of two above the 95th percentile of the estimated example lengths of a local `dataset_name` file.',
  },
  check(ctx) {
    if (Object.prototype.hasOwnProperty.call(raw(ctx), 'max_length')) return [];
    const legacy = rawValue(ctx, 'max_seq_length');
    const lengths = ctx.data.train?.tokenLengths ?? [];
    let suggestion = 2048;
    let dataNote = '';
    if (lengths.length) {
      const sorted = Float64Array.from(lengths).sort();
      const p95 = sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.95) - 1)];
      const over = lengths.filter((n) => n > TRL_DEFAULT).length;
      suggestion = 2 ** Math.ceil(Math.log2(Math.max(p95, TRL_DEFAULT + 1)));
      dataNote = ` ${count(over)} of the ${count(lengths.length)} examples read are estimated longer than 1024 tokens.`;
    }
    const legacyNote =
      legacy !== undefined
        ? ` \`max_seq_length: ${String(legacy)}\` is not read by current TRL (renamed to \`max_length\`).`
        : '';
    return [
      {
        message: `\`max_length\` is not set: TRL's SFTConfig truncates every example at 1024 tokens, silently, cutting the end of longer ones, where the assistant's answer is.${legacyNote}${dataNote} Set \`max_length: ${suggestion}\` (activation memory grows with it; the estimate shows the cost).`,
        range: keyRange(ctx, ['max_seq_length', 'dataset_name', 'model_name_or_path'], 'key'),
        fixes: [
          {
            title: `Set \`max_length: ${suggestion}\``,
            edits: setTop(ctx, 'max_length', String(suggestion)),
            preferred: true,
          },
        ],
      },
    ];
  },
};

import type { Rule } from '../rule';
import { count, maxOf, reportRange } from './shared';

/** The value the quick fix sets: the runner's default, and a length most chat examples fit in. */
export const SUGGESTED_MAX_LENGTH = 2048;

export const maxLengthMissing: Rule = {
  code: 'max-length-missing',
  severity: 'warning',
  // Native-only: reads keys (or runner behaviour) the other dialects do not have.
  dialects: ['native'],
  doc: {
    title: '`data.max_length` is not set',
    why: 'The sequence length bounds activation memory per step. Unset, it is whatever the trainer defaults to (TRL 1024, the Tunelab runner 2048, `null` in TRL means no truncation at all), so one very long example can run the GPU out of memory hours into a run, or examples are cut at a length nobody chose. The memory estimate and the truncation check also need the real value.',
    fix: 'Set `data.max_length` just above your longest real examples (the data-truncation check tells you how many are longer); 2048 suits most chat data.',
    thresholds: `Fires whenever the key is missing or null; the quick fix sets ${SUGGESTED_MAX_LENGTH}, the runner's default.`,
  },
  check(ctx) {
    const present = ctx.has(['data', 'max_length']);
    const value = ctx.value(['data', 'max_length']);
    // A value of another type is the schema's finding.
    if (present && value !== null) return [];
    const lengths = ctx.data.train?.tokenLengths ?? [];
    const longest = lengths.length ? maxOf(lengths) : undefined;
    const dataNote =
      longest !== undefined
        ? ` The longest training example read is about ${count(longest)} tokens.`
        : '';
    const message =
      (present
        ? '`data.max_length: null` means no truncation: one very long example can run the GPU out of memory mid-run.'
        : '`data.max_length` is not set: the sequence length (and with it activation memory) is left to the trainer default (TRL 1024, the Tunelab runner 2048), and one long example can run the GPU out of memory mid-run.') +
      dataNote +
      ` Set it explicitly, e.g. \`max_length: ${SUGGESTED_MAX_LENGTH}\`.`;
    return [
      {
        message,
        range: reportRange(ctx, ['data', 'max_length']),
        fixes: [
          {
            title: `Set \`max_length: ${SUGGESTED_MAX_LENGTH}\``,
            edits: ctx.edit.set(['data'], 'max_length', String(SUGGESTED_MAX_LENGTH)),
            preferred: true,
          },
        ],
      },
    ];
  },
};

import { exactSourceAt } from '../../parse';
import type { Rule } from '../rule';
import { keyRange, rawValue } from './shared';

export const llamafactoryMaxLength: Rule = {
  code: 'llamafactory-max-length',
  severity: 'warning',
  dialects: ['llamafactory'],
  doc: {
    title: 'LLaMA-Factory `max_length` is a generation setting, not the sequence length',
    why: 'In TRL and the native format `max_length` is the training sequence length; in LLaMA-Factory it belongs to GeneratingArguments (predict, chat, evaluation with generation) and training ignores it. The training sequence length is `cutoff_len`, 2048 when unset: a config that sets `max_length: 8192` for long examples still truncates them at 2048, silently.',
    fix: 'Rename `max_length` to `cutoff_len`.',
    thresholds: '`max_length` set and `cutoff_len` missing.',
  },
  check(ctx) {
    const value = rawValue(ctx, 'max_length');
    if (value === undefined || rawValue(ctx, 'cutoff_len') !== undefined) return [];
    const key = exactSourceAt(ctx.parsed.root, ['max_length'])?.keyRange;
    return [
      {
        message: `\`max_length: ${String(value)}\` only limits generation in LLaMA-Factory (GeneratingArguments); training truncates at \`cutoff_len\`, which is not set and defaults to 2048, so longer examples are cut. Rename it to \`cutoff_len\`.`,
        range: keyRange(ctx, 'max_length', 'key'),
        fixes: key
          ? [
              {
                title: 'Rename to `cutoff_len`',
                edits: [{ range: key, newText: 'cutoff_len' }],
                preferred: true,
              },
            ]
          : undefined,
      },
    ];
  },
};

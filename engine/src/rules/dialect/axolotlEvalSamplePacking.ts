import type { Rule } from '../rule';
import { keyRange, rawValue, setTop } from './shared';

export const axolotlEvalSamplePacking: Rule = {
  code: 'axolotl-eval-sample-packing',
  severity: 'warning',
  dialects: ['axolotl'],
  doc: {
    title: 'Axolotl `sample_packing` also packs the evaluation split',
    why: '`eval_sample_packing` follows `sample_packing` when unset, so the evaluation split is packed too. A small split (a few percent of a small dataset) packs into fewer sequences than one evaluation step needs, and Axolotl stops after preprocessing with "eval dataset split is too small for sample_packing. You should set `eval_sample_packing: False`"; where it runs, packed evaluation loss is not comparable with unpacked runs.',
    fix: 'Set `eval_sample_packing: false`.',
    thresholds:
      '`sample_packing: true`, an evaluation split (`val_set_size` above 0 or `test_datasets`), evaluation not switched off (`eval_strategy: no`) and `eval_sample_packing` missing or null.',
  },
  check(ctx) {
    if (rawValue(ctx, 'sample_packing') !== true) return [];
    if (rawValue(ctx, 'eval_sample_packing') !== undefined) return [];
    if (rawValue(ctx, 'eval_strategy') === 'no') return [];
    const valSize = rawValue(ctx, 'val_set_size');
    const tests = rawValue(ctx, 'test_datasets');
    const split =
      typeof valSize === 'number' && valSize > 0
        ? `\`val_set_size: ${valSize}\``
        : Array.isArray(tests) && tests.length > 0
          ? '`test_datasets`'
          : undefined;
    if (!split) return [];
    return [
      {
        message: `\`sample_packing: true\` with an evaluation split (${split}) packs the evaluation set too: a small split packs into fewer sequences than one evaluation step needs, and Axolotl stops after preprocessing with "eval dataset split is too small for sample_packing"; packed eval loss is also not comparable with unpacked runs. Set \`eval_sample_packing: false\`.`,
        range: keyRange(ctx, 'sample_packing'),
        fixes: [
          {
            title: 'Set `eval_sample_packing: false`',
            edits: setTop(ctx, 'eval_sample_packing', 'false'),
            preferred: true,
          },
        ],
      },
    ];
  },
};

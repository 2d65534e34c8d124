import type { Rule } from '../rule';

export const dataSectionMissing: Rule = {
  code: 'data-section-missing',
  severity: 'error',
  // Native-only: a dialect names its data its own way (`datasets`, `dataset`), and its view has no `data` when it has none.
  dialects: ['native'],
  doc: {
    title: 'A training config without a `data` section',
    why: 'The runner trains on `data.train_file`. Without a `data` section there is nothing to train on, and every data check (file exists, format, size, truncation, chat template) has nothing to look at, so the config would look clean until the run stops after loading the model.',
    fix: 'Add a `data` section with `train_file` (a JSON Lines file, relative to the config file), `format` and `max_length`.',
    thresholds:
      'A config with a valid `method` (so a run that trains) and no top-level `data` key.',
  },
  check(ctx) {
    if (!ctx.plan.method || ctx.has(['data'])) return [];
    return [
      {
        message: `\`method: ${ctx.plan.method}\` trains, but there is no \`data\` section: nothing to train on, and the data checks have nothing to look at. Add \`data:\` with \`train_file\` (JSON Lines, relative to this file), \`format\` and \`max_length\`.`,
        range: ctx.rangeAt(['method']),
      },
    ];
  },
};

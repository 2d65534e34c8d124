import type { Rule } from '../rule';

export const exportSafeSerialization: Rule = {
  code: 'export-safe-serialization',
  severity: 'warning',
  // Native-only: reads keys (or runner behaviour) the other dialects do not have.
  dialects: ['native'],
  doc: {
    title: '`export.safe_serialization: false` writes pickled weights',
    why: 'With `false`, older transformers write `pytorch_model.bin` pickles instead of `.safetensors`. Serving engines such as vLLM and TGI expect safetensors (memory-mapped, fast to load), the Hub flags pickles, and loading a pickle runs arbitrary code. transformers 5 ignores `false` and writes safetensors anyway, so the setting only does harm.',
    fix: 'Set `export.safe_serialization: true`, or remove the key (true is the default).',
  },
  check(ctx) {
    if (ctx.value(['export', 'safe_serialization']) !== false) return [];
    return [
      {
        message:
          '`safe_serialization: false` writes pickled `.bin` weights: vLLM and TGI expect `.safetensors`, and loading a pickle runs arbitrary code. Set it to true.',
        range: ctx.rangeAt(['export', 'safe_serialization']),
        fixes: [
          {
            title: 'Set `safe_serialization: true`',
            edits: ctx.edit.replace(['export', 'safe_serialization'], 'true'),
            preferred: true,
          },
        ],
      },
    ];
  },
};

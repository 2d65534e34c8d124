import { suggestGpuIds } from '../../hardware/gpus';
import { yamlScalar } from '../../edits';
import type { QuickFix } from '../../types';
import type { Rule } from '../rule';

const OBJECT_FORM = '`{ name, memory_gb }` (e.g. `{ name: MI300X, memory_gb: 192 }`)';

export const gpuUnknown: Rule = {
  code: 'gpu-unknown',
  severity: 'warning',
  doc: {
    title: 'A GPU name that is not in the catalog',
    why: "The memory check, the bf16 and FlashAttention checks and the time estimate all need the GPU's memory and generation. A name Tunelab cannot place (a typo such as `H1OO`, a size the card does not come in, a card outside the catalog) would otherwise turn them all off without a word, and a run that does not fit would look fine.",
    fix: 'Use a catalog id (config.md, "GPU ids"; the quick fix sets the nearest one), or describe the card as a mapping `{ name, memory_gb }` (optionally `bf16`, `flash_attention`).',
  },
  check(ctx) {
    const name = ctx.gpuUnknown;
    if (name === undefined || !name.trim()) return [];
    const suggestions = suggestGpuIds(name);
    const didYouMean = suggestions.length
      ? ` Did you mean ${suggestions.map((id) => `\`${id}\``).join(', ')}?`
      : '';
    const written = ctx.value(['hardware', 'gpu']);
    const inConfig = written === name && ctx.has(['hardware', 'gpu']);
    const what = inConfig
      ? `\`hardware.gpu: ${name}\` is not a GPU Tunelab knows`
      : `The GPU \`${name}\` given for this check is not one Tunelab knows`;
    const fixes: QuickFix[] = [];
    if (inConfig && suggestions.length) {
      const edits = ctx.edit.replace(['hardware', 'gpu'], yamlScalar(suggestions[0]));
      if (edits.length) fixes.push({ title: `Set gpu: ${suggestions[0]}`, edits, preferred: true });
    }
    return [
      {
        message: `${what}, so the memory check and the GPU-dependent checks are off.${didYouMean} For a card outside the catalog write ${OBJECT_FORM}.`,
        range: inConfig
          ? ctx.rangeAt(['hardware', 'gpu'])
          : ctx.rangeAt(['hardware', 'gpu'], 'key'),
        fixes: fixes.length ? fixes : undefined,
      },
    ];
  },
};

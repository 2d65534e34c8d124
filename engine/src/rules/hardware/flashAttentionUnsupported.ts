import type { Rule } from '../rule';

/** Compute capability each FlashAttention kernel needs (flash-attn 2: Ampere; flash-attn 3: Hopper). */
const MIN_CAPABILITY: Record<string, number> = {
  flash_attention_2: 8.0,
  flash_attention_3: 9.0,
};

export const flashAttentionUnsupported: Rule = {
  code: 'flash-attention-unsupported',
  severity: 'warning',
  doc: {
    title: 'FlashAttention on a GPU or OS it does not support',
    why: '`attn_implementation: flash_attention_2` needs the `flash-attn` package, which runs on Ampere or newer GPUs (compute capability 8.0: A100, A10G, L4, RTX 30xx and later) and publishes no Windows builds; `flash_attention_3` needs Hopper (H100, H200). On a T4, a V100 or a Windows launch the model fails to load ("FlashAttention only supports Ampere GPUs or newer" or an import error).',
    fix: "Use `attn_implementation: sdpa`: PyTorch's scaled-dot-product attention runs everywhere and uses memory-efficient kernels where the GPU has them.",
    thresholds:
      "flash_attention_2: compute capability < 8.0; flash_attention_3: < 9.0 (from `hardware.gpu`, or the mapping's `flash_attention` field for flash_attention_2); any FlashAttention when the launch target runs Windows. Silent when neither the GPU nor the OS is known.",
  },
  check(ctx) {
    const attn = ctx.value(['model', 'attn_implementation']);
    if (typeof attn !== 'string' || !(attn in MIN_CAPABILITY)) return [];
    const gpu = ctx.gpu;
    const gpuLacks =
      gpu !== undefined &&
      (attn === 'flash_attention_2'
        ? !gpu.flashAttention
        : gpu.computeCapability < MIN_CAPABILITY[attn]);
    const windows = ctx.targetOs === 'windows';
    if (!gpuLacks && !windows) return [];
    const reason =
      gpuLacks && gpu
        ? `${gpu.name} (compute capability ${gpu.computeCapability}) cannot run \`${attn}\`, which needs ${attn === 'flash_attention_2' ? 'an Ampere or newer GPU (8.0)' : 'a Hopper GPU (9.0)'}`
        : `\`${attn}\` needs the flash-attn package, which publishes no Windows builds, and the launch target runs Windows`;
    return [
      {
        message: `${reason}: the model would fail to load. Use \`attn_implementation: sdpa\`.`,
        range: ctx.rangeAt(['model', 'attn_implementation']),
        fixes: [
          {
            title: 'Set `attn_implementation: sdpa`',
            edits: ctx.edit.replace(['model', 'attn_implementation'], 'sdpa'),
            preferred: true,
          },
        ],
      },
    ];
  },
};

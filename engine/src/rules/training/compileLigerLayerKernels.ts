import { chainEdits, setKey } from '../../edits';
import { LIGER_LAYER_KERNEL_KEYS } from '../../estimate/fusedLoss';
import type { ParsedYaml } from '../../parse';
import type { Rule } from '../rule';
import { reportRange } from '../method/shared';

export const compileLigerLayerKernels: Rule = {
  code: 'compile-liger-layer-kernels',
  severity: 'info',
  doc: {
    title: "Compiled layers with Liger's layer kernels inside",
    why: "With `torch_compile: true` the runner compiles each decoder layer. Liger Kernel's RMSNorm, SwiGLU and RoPE are Triton kernels dynamo cannot trace, so each one breaks the layer's graph into pieces and takes back much of what compiling gives. Measured on an H100 (8B LoRA, packed rows, no recomputation): 12,802 tokens/s with Liger's layer kernels inside the compiled layers, 14,008 with them off and Liger's fused loss kept; the compiler fuses the same norm and MLP work itself, at the same memory.",
    fix: 'Set `liger_kernel_config: {rms_norm: false, swiglu: false, rope: false}` under `training`: Liger keeps its fused linear cross-entropy (no fp32 logits), the compiler does the rest.',
    thresholds:
      "`training.torch_compile: true` (or a compile backend or mode) with `use_liger_kernel: true`, and `liger_kernel_config` leaving `rms_norm` or `swiglu` on (Liger's default). Measured in runner/bench/results/throughput-h100-compile.json.",
  },
  check(ctx) {
    const t = ctx.plan.training;
    if (!t.torchCompile || !t.useLigerKernel) return [];
    const config = t.ligerKernelConfig;
    if (config?.rmsNorm === false && config?.swiglu === false) return [];
    const key =
      ['torch_compile', 'torch_compile_mode', 'torch_compile_backend'].find((k) =>
        ctx.has(['training', k]),
      ) ?? 'use_liger_kernel';
    const at = ['training', key];
    const edits = chainEdits(
      ctx.parsed.text,
      LIGER_LAYER_KERNEL_KEYS.map(
        (key) => (p: ParsedYaml) => setKey(p, ['training', 'liger_kernel_config'], key, 'false'),
      ),
    );
    return [
      {
        message:
          "Liger's RMSNorm, SwiGLU and RoPE kernels break the compiled layers' graph (dynamo cannot trace them): on an H100, 8B LoRA ran 12,802 tokens/s with them and 14,008 with only Liger's fused loss. Turn them off in `liger_kernel_config`; the compiler fuses the same work at the same memory.",
        range: reportRange(ctx, at),
        fixes: [
          {
            title:
              "Keep Liger's fused loss only (`liger_kernel_config`: rms_norm, swiglu, rope false)",
            edits,
            preferred: true,
          },
        ],
      },
    ];
  },
};

// Liger Kernel's fused linear cross-entropy (`training.use_liger_kernel`).
// Read from liger_kernel/ops/fused_linear_cross_entropy.py (linkedin/Liger-Kernel
// at ead96b6): the loss never builds `[tokens, vocab]` fp32 logits. It splits
// the BT tokens into chunks of nextPow2(ceil(BT / ceil(V / H))) rows, so a
// chunk's logits weigh about as much as the hidden states, computes each
// chunk's logits in the matmul dtype (bf16 under autocast), turns them into
// their gradient in place, and accumulates grad_input (BT × H, the input's
// dtype) during the forward; backward only rescales it. Evaluation is not
// fused: Liger's forward skips the logits only while training
// (`skip_logits = self.training and labels is not None`).
//
// Also what the plan says is fused besides: Liger's layer kernels and the
// runner's compiled layers (`torch_compile`).
//
// Its chunk is freed before the layers' backward, which then starts with every
// saved activation (or checkpoint) and grad_input still alive: the last
// layer's backward temporaries, and with checkpointing its recomputed
// activations, take the chunk's place at the start of backward and outweigh
// it as soon as they are bigger (measured: the Liger + checkpointing runs of
// runner/bench/results/throughput-h100*.json peak 0.7-1.5 GiB above the
// checkpoints + chunk, by the recomputed layer).

import type { Plan } from '../plan';

export function usesFusedLoss(plan: Plan): boolean {
  return (
    plan.training.useLigerKernel === true &&
    plan.training.ligerKernelConfig?.fusedLinearCrossEntropy !== false
  );
}

export function withFusedLoss(plan: Plan, on: boolean): Plan {
  return { ...plan, training: { ...plan.training, useLigerKernel: on } };
}

/** The runner compiles the decoder layers (`training.torch_compile`; sharded runs keep Trainer's compile). */
export function compiledLayers(plan: Plan): boolean {
  return plan.training.torchCompile === true;
}

/**
 * The layers' norms and gated MLP keep what a fused kernel keeps: Liger's
 * RMSNorm and SwiGLU, or the compiled layers, whose partitioner saves the same
 * (measured: 8B LoRA, 2 × 2048 rows, no recomputation: 41.9 GiB allocated
 * compiled with Liger's loss only, 41.7 with Liger's kernels eager;
 * runner/bench/results/throughput-h100-compile.json).
 */
export function fusedLayerKernels(plan: Plan): boolean {
  if (compiledLayers(plan)) return true;
  const config = plan.training.ligerKernelConfig;
  return (
    plan.training.useLigerKernel === true && config?.rmsNorm !== false && config?.swiglu !== false
  );
}

/** The `liger_kernel_config` keys of Liger's layer kernels (its fused loss is another key). */
export const LIGER_LAYER_KERNEL_KEYS = ['rms_norm', 'swiglu', 'rope'] as const;

/**
 * Compiled layers on or off. With Liger on, compiling turns Liger's layer
 * kernels off (dynamo cannot trace them: they break the compiled graph, measured
 * 12,802 tokens/s against 14,008 with Liger's fused loss only) and keeps its loss.
 */
export function withCompiledLayers(plan: Plan, on: boolean): Plan {
  const training = { ...plan.training, torchCompile: on };
  if (on && training.useLigerKernel)
    training.ligerKernelConfig = {
      ...training.ligerKernelConfig,
      rmsNorm: false,
      swiglu: false,
    };
  return { ...plan, training };
}

function nextPow2(n: number): number {
  return 2 ** Math.ceil(Math.log2(Math.max(1, n)));
}

/** Rows of one chunk, as Liger sizes it: inc_factor = ceil(V/H), chunk = nextPow2(ceil(BT/inc_factor)). */
export function fusedLossChunkRows(tokens: number, vocab: number, hidden: number): number {
  const incFactor = Math.ceil(vocab / hidden);
  return Math.min(nextPow2(Math.ceil(tokens / incFactor)), nextPow2(tokens));
}

export interface FusedLossBytes {
  chunkRows: number;
  /** One chunk's logits (their gradient is written over them). */
  chunk: number;
  /** The last layer's backward working set, alive after the chunk is freed. */
  layerBackward: number;
  /** grad_input kept from the loss forward to its backward, and the fp32 per-token loss. */
  gradInput: number;
  /** lm_head's gradient, accumulated in the forward when lm_head trains. */
  gradWeight: number;
  /** The loss's own tensors: chunk, grad_input and grad_weight (what the allocator's reserve follows). */
  loss: number;
  /** Alive at the start of backward: the bigger of the chunk and the layer's backward, + the rest. */
  total: number;
}

export function fusedLossBytes(
  tokens: number,
  vocab: number,
  hidden: number,
  matmulBytes: number,
  inputBytes: number,
  lmHeadGradBytes: number,
  layerBackwardBytes = 0,
): FusedLossBytes {
  const chunkRows = fusedLossChunkRows(tokens, vocab, hidden);
  const chunk = chunkRows * vocab * matmulBytes;
  const gradInput = tokens * hidden * inputBytes + 4 * tokens;
  const gradWeight = lmHeadGradBytes;
  const total = Math.max(chunk, layerBackwardBytes) + gradInput + gradWeight;
  const loss = chunk + gradInput + gradWeight;
  return {
    chunkRows,
    chunk,
    layerBackward: layerBackwardBytes,
    gradInput,
    gradWeight,
    loss,
    total,
  };
}

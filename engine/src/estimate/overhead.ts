// What nvidia-smi shows beyond the tensors PyTorch allocated: the CUDA
// context, library workspaces (cuBLAS, NCCL), and the caching allocator's
// reserve over its allocations (fragmentation).

const GiB = 1024 ** 3;

/** CUDA context at init, measured (torch 2.11, H100/H200). */
export const CUDA_CONTEXT_BYTES = 0.514 * GiB;
/** cuBLAS/cuDNN workspaces and kernels loaded once training starts, measured on every row. */
export const TRAINING_WORKSPACE_BYTES = 0.234 * GiB;
/** NCCL communicators and buffers per GPU with two or more ranks, measured (2× H200). */
export const NCCL_BYTES = 0.83 * GiB;

/**
 * Fragmentation: the caching allocator's reserve over its allocations at the
 * peak (reserved − allocated, 0.4 to 20 GiB in the measurements).
 *
 * The allocator keeps freed blocks for reuse and never returns them during
 * training, so short-lived big tensors leave holes that later allocations of
 * other sizes only partly fill:
 * - the loss's logits: the bf16 logits block is freed before backward but is
 *   too small for the fp32 gradients allocated next, and the fp32 blocks get
 *   split by later allocations;
 * - with gradient checkpointing, each layer's recomputed activations are
 *   allocated and freed again while gradients accumulate between them;
 * - gradients of full fine-tuning allocated during backward, interleaved with
 *   activation blocks;
 * - fp32 master weights with gradient checkpointing: each layer's recompute
 *   allocates bf16 activations and the bf16 copies autocast makes of the
 *   layer's weights, and frees them once the layer's fp32 gradients (twice
 *   the size of those copies) have been allocated around them: the holes are
 *   too small for the next layer's fp32 gradients, so a large share of the
 *   gradients lands in fresh segments (fitted on Qwen2.5-0.5B's one such row,
 *   it predicts Llama-3.2-1B's: -10.0% before, +0.4% after);
 * - foreach AdamW without gradient accumulation: the gradients are
 *   allocated during backward into the blocks the loss and the activations
 *   free, so the step's temporaries (one tensor per parameter) find only what
 *   the gradients left and take fresh segments for the rest (measured on
 *   Llama-3.2-1B full fine-tuning: the foreach reserve is the fused one plus
 *   exactly the temporaries). With accumulation the gradients exist before
 *   the last backward, whose freed blocks hold the temporaries (the
 *   Mistral-like spot check reuses them). Exact, not fitted;
 * - FSDP / ZeRO-3: all-gather and reduce-scatter run on their own CUDA
 *   streams, and the allocator keeps a separate pool per stream: the compute
 *   stream's high-water mark (reached at the start of backward) stays
 *   reserved while the sharded gradients are allocated on another stream, and
 *   the communication buffers add a share of the sharded state;
 * - adapters whose forward frees no block as large as the cuBLAS workspace:
 *   the backward's workspace lands in a freed fp32 logits block, and the
 *   next step's logits take a fresh one (workspaceStrand.ts).
 *
 * Full fine-tuning with checkpointing on one GPU (fused 16-bit AdamW, no
 * accumulation) replaces these terms by an exact count: the first step,
 * which runs without the optimizer states, sets the reserve
 * (firstStepReserve.ts; only the base below is added).
 *
 * Each driver is a byte count the estimator already has; the coefficients
 * are calibrated (bench/estimate.ts fits them on the Qwen2.5-0.5B and
 * Llama-3.1-8B rows only and reports the error on the other models).
 */
export interface FragmentationFeatures {
  /** fp32 logits and gradients at the start of backward (12 B × tokens × vocab). */
  logitsBytes: number;
  /** One layer's saved activations when it is recomputed (gradient checkpointing), else 0. */
  recomputeBytes: number;
  /** Gradients allocated during backward (full fine-tuning; ≈0 for adapters). */
  backwardGradBytes: number;
  /** fp32 gradients allocated during a checkpointed backward under autocast (fp32 master weights), else 0. */
  fp32CheckpointGradBytes: number;
  /** FSDP / ZeRO-3: weights, states and gradients held on this GPU, else 0. */
  shardedStateBytes: number;
  /** FSDP / ZeRO-3: compute-stream high-water the communication streams cannot reuse. */
  streamSplitBytes: number;
  /** foreach optimizer temporaries that find no freed block, beyond the peak allocation (see above). */
  stepFreshBytes: number;
  /** One fp32 logits block when the backward's cuBLAS workspace lands in one (workspaceStrand.ts), else 0. */
  strandedLogitsBytes: number;
}

export interface FragmentationCoefficients {
  base: number;
  logits: number;
  recompute: number;
  backwardGrads: number;
  fp32CheckpointGrads: number;
  sharded: number;
  strandedLogits: number;
}

/** Fitted on the Qwen2.5-0.5B and Llama-3.1-8B rows (bench/estimate.ts prints the fit). */
export const FRAGMENTATION: FragmentationCoefficients = {
  base: 0.234 * GiB,
  logits: 0.182,
  recompute: 0.675,
  backwardGrads: 0.156,
  fp32CheckpointGrads: 0.564,
  sharded: 0.03,
  strandedLogits: 0.798,
};

export function fragmentationBytes(
  x: FragmentationFeatures,
  c: FragmentationCoefficients = FRAGMENTATION,
): number {
  return (
    c.base +
    c.logits * x.logitsBytes +
    c.recompute * x.recomputeBytes +
    c.backwardGrads * x.backwardGradBytes +
    c.fp32CheckpointGrads * x.fp32CheckpointGradBytes +
    c.sharded * x.shardedStateBytes +
    c.strandedLogits * x.strandedLogitsBytes +
    x.streamSplitBytes +
    x.stepFreshBytes
  );
}

/**
 * The smallest memory a run completes in sits below nvidia-smi on a roomy
 * card: under pressure the caching allocator frees its wholly unused cached
 * segments and retries, so only free space inside segments that still hold a
 * live block is lost. The OOM messages of the capped runs
 * (runner/bench/results/whole-runs-h100-ooms.json) show the failing request is
 * the fp32 logits (4 B × tokens × vocab) every time; the slack is what the
 * allocator cannot hand it contiguously:
 * - rows of varying length (unpacked real data): each micro-batch has its own
 *   length, so the previous logits block is the wrong size and is split by
 *   the next forward: a share of one fp32 logits block is lost; and full
 *   fine-tuning's gradients, allocated into blocks backward freed, pin those
 *   segments (a constant, alike on both shapes);
 * - every run: the forward's short-lived MLP intermediates (tokens × MLP
 *   width, bf16) split cached segments the logits would otherwise reuse;
 * - full fine-tuning that accumulates over micro-batches of one shape: the
 *   first micro-batch's backward allocates the gradients into the fp32
 *   logits blocks the loss has just freed, and they stay alive through the
 *   next forward, so what they leave of one block (4 B × tokens × vocab −
 *   gradients) is free but pinned and too small for that forward's logits,
 *   which take a fresh block beside it (1B: 1.6 GiB, 0.5B: 3.7 GiB; zero
 *   where the gradients fill the block). Without accumulation zero_grad
 *   frees them first; varying rows have their own constant above. The
 *   adapters' few MiB of gradients fit smaller cached blocks: no hole.
 * Liger's fused loss never asks for a whole logits block: no slack then.
 * Fitted on the 20 resolved whole runs under the bound the shared truth sets:
 * a run completes in what nvidia-smi showed for it, so on the 85 fixed-length
 * rows the smallest memory may not exceed the measured device memory
 * (bench/estimate/slackFit.ts refits and prints both).
 */
export interface SlackFeatures {
  /** One fp32 logits block (4 B × tokens × vocab) when row lengths vary, else 0. */
  varyingLogitsBytes: number;
  /** One forward MLP intermediate in bf16 (2 B × tokens × MLP width). */
  mlpIntermediateBytes: number;
  /** Full fine-tuning on rows of varying length. */
  fullVaryingRows: boolean;
  /**
   * Full fine-tuning accumulating over fixed-shape micro-batches: one fp32
   * logits block less the gradients (≥ 0), else 0.
   */
  accumulatedHoleBytes: number;
}

export interface SlackCoefficients {
  varyingLogits: number;
  mlpIntermediate: number;
  fullVaryingRows: number;
  /** Absent: 0, so a caller that zeroes the other three has no slack at all. */
  accumulatedHole?: number;
}

export const SLACK: SlackCoefficients = {
  varyingLogits: 0.48,
  mlpIntermediate: 13,
  fullVaryingRows: 0.85 * GiB,
  accumulatedHole: 1,
};

export function slackBytes(x: SlackFeatures, c: SlackCoefficients = SLACK): number {
  return (
    c.varyingLogits * x.varyingLogitsBytes +
    c.mlpIntermediate * x.mlpIntermediateBytes +
    (x.fullVaryingRows ? c.fullVaryingRows : 0) +
    (c.accumulatedHole ?? 0) * x.accumulatedHoleBytes
  );
}

/**
 * What the allocator holds above the tensors with expandable segments
 * (`PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True`, the runner's default):
 * it maps pages into one growing segment and unmaps free ones under pressure,
 * so no freed block is stranded and a run completes within a fraction of a GiB
 * of its allocated peak. Rows of varying length still leave partly used pages
 * between tensors of the changing shapes. Set from 20 whole runs
 * (runner/bench/results/whole-runs-h100-expandable.json, npm run bench:estimate):
 * packed runs completed under caps 0.09-0.43 GiB above their allocated peak, unpacked
 * ones 0.30-0.76, and two unpacked full runs failed 0.10 and 0.26 GiB above it.
 */
export const EXPANDABLE_SLACK = { fixedRows: 0.05 * GiB, varyingRows: 0.25 * GiB };

export function expandableSlackBytes(
  rowsVary: boolean,
  c: typeof EXPANDABLE_SLACK = EXPANDABLE_SLACK,
): number {
  return rowsVary ? c.varyingRows : c.fixedRows;
}

/** How each phase's overhead note names the reserve (memory.ts renames it for expandable segments). */
export const RESERVE_WORDS = 'allocator reserve over allocation';
export const EXPANDABLE_RESERVE_WORDS =
  'allocator slack with expandable segments (the runner sets PYTORCH_CUDA_ALLOC_CONF)';

/** Coefficients that give a constant reserve: expandable segments' slack in every phase. */
export function slackOnly(bytes: number): FragmentationCoefficients {
  return {
    base: bytes,
    logits: 0,
    recompute: 0,
    backwardGrads: 0,
    fp32CheckpointGrads: 0,
    sharded: 0,
    strandedLogits: 0,
  };
}

/**
 * Allocated peak + CUDA context and workspaces (+ NCCL) + slack. The runner
 * empties the allocator's cache before its evaluation after training, whose
 * slack is not measured: there, tensors and context only (and expandable
 * segments' slack, which is every phase's).
 */
export function smallestMemoryBytes(
  x: {
    allocated: number;
    ncclBytes: number;
    finalAllocated: number;
    slack: SlackFeatures;
    /** With expandable segments: their slack, in place of the default allocator's. */
    expandableSlack?: number;
  },
  c: SlackCoefficients = SLACK,
): number {
  const context = CUDA_CONTEXT_BYTES + TRAINING_WORKSPACE_BYTES;
  return Math.round(
    Math.max(
      x.allocated + context + x.ncclBytes + (x.expandableSlack ?? slackBytes(x.slack, c)),
      x.finalAllocated + context + (x.expandableSlack ?? 0),
    ),
  );
}

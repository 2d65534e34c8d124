// The time model's constants: fitted ones (bench/time.ts refits them) and the
// ones measured directly by an A/B or a profile on the GPU machine. The model
// that uses them is throughput.ts.

/** Dense bf16 matmul rate measured on an H100 SXM (798 TFLOP/s) over its 989 TFLOP/s datasheet peak. */
export const MEASURED_MATMUL_FRACTION = 798 / 989;
/** H100 SXM datasheet dense bf16 TFLOP/s: the GPU the constants were fitted on. */
export const CALIBRATION_TFLOPS = 989;

/** The fitted constants (bench/time.ts refits them and prints leave-one-out errors). */
export interface ThroughputConstants {
  /**
   * Fraction of the measured matmul rate reached on the model's FLOPs (norms,
   * loss and kernels' tails included), for a hidden width of 2048.
   */
  matmulEfficiency: number;
  /**
   * How that fraction grows with the hidden width: × (hidden / 2048)^this.
   * Wider layers run bigger matmuls closer to the GPU's rate and spend a
   * smaller share on width-linear work (norms, activations, RoPE): fitted,
   * 8B (hidden 4096) runs about 10% faster per FLOP than 1B (2048).
   */
  matmulSizeExponent: number;
  /** Seconds per token per adapted width (in + out features of each LoRA-wrapped module, all layers). */
  adapterSecondsPerTokenWidth: number;
  /**
   * Seconds per layer per micro-step when padded batches change shape under
   * cuDNN's attention, PyTorch's first choice on an H100: it builds a plan for
   * every new shape. Every padded run measured before the runner turned cuDNN's
   * attention off for them (runner/tunelab_runner/attention_backends.py), and the
   * plain recipe, paid it.
   */
  cudnnAttentionPlanSecondsPerLayer: number;
  /**
   * Seconds per layer per micro-step when padded batches change shape without
   * cuDNN's attention (the runner now): measured, the A/B below.
   */
  variableShapeSecondsPerLayer: number;
  /**
   * Host seconds per decoder layer per micro-step, every method: eager
   * PyTorch and autograd launching each op (forward, recompute, backward).
   * What paces narrow models: 24 layers of Qwen2.5-0.5B run a packed full
   * micro-step no faster than 16 wider layers of Llama-3.2-1B.
   */
  hostSecondsPerLayer: number;
  /** Host seconds per LoRA-wrapped module per micro-step. */
  hostSecondsPerAdapter: number;
  /** Extra host seconds per 4-bit module per micro-step (bitsandbytes' dequantizing matmul). */
  hostSecondsPerQuantizedModule: number;
  /**
   * The first optimizer step's one-time cost beyond a normal step, per decoder
   * layer: the first pass through each layer loads its kernels, picks cuBLAS
   * algorithms for its shapes, grows the allocator and creates the optimizer
   * states. The median over the whole runs (first step less the median
   * step) per layer, not least squares: a few first runs on a fresh machine
   * pay seconds more (bench/TIME.md).
   */
  firstStepSecondsPerLayer: number;
  /**
   * GPU compute time left with Liger Kernel (`use_liger_kernel`): its fused
   * RMSNorm, SwiGLU, RoPE and linear cross-entropy remove memory-bound passes
   * and the fp32 logits. Fitted on the three Liger runs of the benchmark
   * (1B and 8B, with and without checkpointing).
   */
  ligerComputeScale: number;
  /**
   * QLoRA after prepare_model_for_kbit_training with its fp32 upcast: GPU
   * seconds per computed token per unit of layers × hidden width, the casts
   * autocast makes of the fp32 norms', embeddings' and lm_head's outputs and
   * weights on every use. Measured, not fitted: the QLoRA profile's step with
   * the upcast less the same step with those weights back in bf16 (1B, 4 ×
   * 2048 packed tokens: 0.414 − 0.295 s; bench/results/qlora-profile-1b-h100.md).
   */
  kbitUpcastSecondsPerTokenWidth: number;
  /**
   * peft's cast of every LoRA input to the fp32 adapter's dtype and autocast's
   * cast straight back, per token per unit of adapted input width (Σ in over
   * the wrapped modules and layers). The runner skips it under autocast
   * (model_loading.skip_adapter_input_cast_under_autocast), so a user's run has
   * none; the runs measured before that, and the plain Trainer script, paid it.
   * Measured, not fitted: the A/B of the benchmark (8B LoRA, Liger, no
   * checkpointing, 2 × 2048 packed rows: 9,748 tokens/s with the cast, 11,152
   * without; runner/bench/results/throughput-h100-8b-rerun.json).
   */
  peftInputCastSecondsPerTokenWidth: number;
  /**
   * The same cast's host side, per LoRA-wrapped module per micro-step: the
   * cast ops eager PyTorch and autocast launch around each adapter in every
   * pass. Fitted with the others: narrow models, whose step the host paces,
   * ran LoRA 15-30% faster once the runner skipped the cast (Qwen2.5-0.5B
   * packed: 0.83-0.88 s a step with it, 0.60 s without), which the GPU-side
   * term above, hidden under the host time, cannot show (bench/TIME.md).
   */
  peftInputCastHostSecondsPerAdapter: number;
  /**
   * Cost of attention's FLOPs under sdpa with a mask (packed rows' block
   * diagonal, padded batches: the memory-efficient kernel over every key of the
   * row) relative to the matmuls' rate; flex attention's block mask runs at
   * the matmuls' rate over each example's own keys. Measured, not fitted: the
   * benchmark's 8B LoRA pair (Liger, no checkpointing, 2 × 2048 packed rows:
   * 11,152 tokens/s with sdpa, 12,079 with flex) is 28 ms per micro-step, which
   * at the fitted 8B matmul rate (449 TFLOP/s) is sdpa's 13.2 PFLOP of attention
   * at 1.2× the cost of flex's 3.1 (a span of 486 keys; time.ts flexAttentionSpan).
   * The 8B QLoRA and 1B LoRA pairs (1.08× each) are predicted within 4%.
   */
  denseMaskAttentionScale: number;
  /**
   * Compiled decoder layers (`training.torch_compile`; the runner compiles each
   * layer in place): the compiler fuses LoRA's dropout, scale and add with their
   * neighbours and launches a few kernels per layer instead of each op. Three
   * measured scales, each from the one row of
   * runner/bench/results/throughput-h100-compile.json that shows it (the other
   * compiled rows check them; bench/TIME.md):
   * - the adapter path's GPU seconds: 8B LoRA, 2 × 2048 rows, no recomputation,
   *   14,008 tokens/s compiled against 11,574 eager (Liger, flex) in one call;
   */
  compiledAdapterScale: number;
  /**
   * - the host's seconds: 8B QLoRA at one row per micro-step (11,116 tokens/s),
   *   the only compiled row the host paces;
   */
  compiledHostScale: number;
  /** - QLoRA's fp32-upcast casts: 1B QLoRA with the upcast kept (46,144 tokens/s). */
  compiledUpcastScale: number;
}

/** The QLoRA profile's fp32-upcast step less its bf16 step (1B shape, 16 layers × 2048, 4 × 2048 tokens). */
const UPCAST_PROFILE_SECONDS = 0.414 - 0.295;

/**
 * The A/B's seconds per computed token (1/9,748 − 1/11,152 per real token, rows
 * 99.8% full) over its three passes' worth of casts (no checkpointing: × 0.75)
 * and Llama-3.1-8B's adapted input width: 32 layers × (6 × 4096 + 14336).
 */
const PEFT_CAST_AB_SECONDS_PER_TOKEN = (1 / 9748 - 1 / 11152) * 0.998;
const PEFT_CAST_AB_INPUT_WIDTH = 32 * (6 * 4096 + 14336);

/**
 * runner/bench/results/attention-shapes-h100-first/ (runner/bench/attention_shapes.py measures
 * the same): a padded 1B LoRA micro-step with cuDNN's attention off, median of 24 new shapes
 * less median of 12 shapes seen before, over its 16 layers (checkpointing on: one pass).
 * With cuDNN's attention the same micro-steps took 268 against 132 ms: 8.5 ms per layer,
 * near the 9.8 ms fitted on the runs measured with it.
 */
const NEW_SHAPE_AB_SECONDS_PER_LAYER = (144e-3 - 134e-3) / 16;

/** Solved from their rows by bench/time.ts --compile-scales (with the fitted constants above them). */
const COMPILED_SCALES = {
  compiledAdapterScale: 0.8541,
  compiledHostScale: 0.4086,
  compiledUpcastScale: 0.5357,
};

/**
 * Fitted by least squares on log(time) over the 62 runs of bench/TIME.md (42 by step time, 20 whole
 * runs), with a hinge at the 20% target; the 12 whole runs of 24 steps are held out.
 */
export const FITTED: ThroughputConstants = {
  matmulEfficiency: 0.4763,
  matmulSizeExponent: 0.1442,
  adapterSecondsPerTokenWidth: 1.769e-11,
  cudnnAttentionPlanSecondsPerLayer: 0.009759,
  variableShapeSecondsPerLayer: NEW_SHAPE_AB_SECONDS_PER_LAYER,
  hostSecondsPerLayer: 0.008156,
  hostSecondsPerAdapter: 0.0006801,
  hostSecondsPerQuantizedModule: 0.0007088,
  firstStepSecondsPerLayer: 36.72e-3,
  ligerComputeScale: 0.5499,
  kbitUpcastSecondsPerTokenWidth: UPCAST_PROFILE_SECONDS / (4 * 2048 * 16 * 2048),
  peftInputCastSecondsPerTokenWidth:
    PEFT_CAST_AB_SECONDS_PER_TOKEN / (0.75 * PEFT_CAST_AB_INPUT_WIDTH),
  denseMaskAttentionScale: 1.2,
  peftInputCastHostSecondsPerAdapter: 0.0004442,
  ...COMPILED_SCALES,
};

// Where the cuBLAS workspace lands, and what it costs when it lands in the
// loss's logits (PyTorch's default allocator only).
//
// PyTorch allocates one cuBLAS workspace per handle and stream through the
// caching allocator, the first time a matmul runs there. Training's backward
// runs on its own thread, so a second workspace is allocated at the first
// backward matmul (lm_head's), right after the loss, and lives to the end.
// The allocator gives it the smallest cached free block that holds it. If the
// forward freed no block that large, that block is one of the fp32 logits
// blocks the loss has just freed: what is left of it is a few MiB too small
// for the next step's logits, which take one more fresh segment of 4 B ×
// tokens × vocab. Read off the allocation traces of the shared truth's
// Qwen2.5-0.5B rows (runner/bench/results/truth-rows-h100/, bench/ESTIMATE.md):
// the 32 MiB block landed in a logits block in every row where the largest
// other free block was below 32 MiB, and those rows reserve one fp32 logits
// block more than their siblings, in every repeat. With the workspace off
// (CUBLAS_WORKSPACE_CONFIG=:0:0) the q/v row allocates no such block and
// reserves 1.19 GiB less (truth-rows-workspace-off.json). The strand happens
// once per process: a process that has trained before keeps its backward's
// workspace (the Qwen3-0.6B shape reserves 10.97 GiB first, 9.84 second,
// truth-rows-one-process.json), and a training run starts a fresh one.
//
// Limited to adapters: their gradients and optimizer states are a few MiB and
// find small holes, so the workspace is the one block that decides. Full
// fine-tuning allocates its gradients and first AdamW states into the same
// freed blocks, which the linear terms of overhead.ts average.

const MiB = 1024 ** 2;

/**
 * PyTorch's default cuBLAS workspace (CUBLAS_WORKSPACE_CONFIG unset):
 * 4096 KiB × 8 from compute capability 9.0 (Hopper) on, else
 * 4096 KiB × 2 + 16 KiB × 8. An unknown GPU gets the larger one.
 */
export function cublasWorkspaceBytes(computeCapability: number | undefined): number {
  return computeCapability === undefined || computeCapability >= 9
    ? 32 * MiB
    : 8 * MiB + 128 * 1024;
}

export interface StrandInputs {
  method: 'full' | 'lora' | 'qlora';
  /** Tokens of one micro-batch (what one logits block holds). */
  tokens: number;
  vocab: number;
  hidden: number;
  /** MLP width a token passes through. */
  mlpWidth: number;
  /** Widest input among the LoRA-wrapped modules (0 without LoRA). */
  widestAdapterInput: number;
  /** LoRA dropout probability (0: peft wraps no dropout). */
  loraDropout: number;
  /** QLoRA: prepare_model_for_kbit_training upcasts the embedding to fp32. */
  prepareKbit: boolean;
  /** The fused (chunked) loss allocates no whole logits blocks. */
  fusedLoss: boolean;
  computeCapability: number | undefined;
}

/**
 * The largest block the forward frees before the first backward matmul,
 * other than the loss's, in bytes, as the traces show them:
 * - one MLP intermediate (2 B × tokens × MLP width), freed within each layer;
 * - LoRA dropout on a 16-bit base: an fp32 temporary of the widest wrapped
 *   input (4 B × tokens × width; down_proj's is the MLP width), freed as
 *   the dropout returns. Under QLoRA the 4-bit layers' dequantization
 *   temporaries land in those blocks and split them;
 * - QLoRA prepared for k-bit training: the 16-bit embedding its fp32 upcast
 *   freed (vocab × hidden).
 */
export function largestFreedBlockBytes(x: StrandInputs): number {
  const candidates = [2 * x.tokens * x.mlpWidth];
  if (x.method === 'lora' && x.loraDropout > 0) {
    candidates.push(4 * x.tokens * x.widestAdapterInput);
  }
  if (x.method === 'qlora' && x.prepareKbit) candidates.push(2 * x.vocab * x.hidden);
  return Math.max(...candidates);
}

/** One fp32 logits block when the backward's workspace lands in the loss's freed logits, else 0. */
export function strandedLogitsBytes(x: StrandInputs): number {
  if (x.method === 'full' || x.fusedLoss) return 0;
  const stranded = largestFreedBlockBytes(x) < cublasWorkspaceBytes(x.computeCapability);
  return stranded ? 4 * x.tokens * x.vocab : 0;
}

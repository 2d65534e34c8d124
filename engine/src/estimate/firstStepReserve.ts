// Full fine-tuning with gradient checkpointing: the first step's reserve is
// the run's (PyTorch's default allocator only).
//
// AdamW allocates its states at the end of the first step, so that step
// peaks without them. Its loss holds three fp32 logits blocks (the upcast,
// log_softmax's output and the gradient, 4 B × tokens × vocab each); the
// third is allocated after the 16-bit logits block (2 B × tokens × vocab)
// has been freed, which is too small for it: the first step reserves its
// allocated peak plus that 16-bit block. With checkpointing the forward
// leaves few other holes, so the states land in the cached logits blocks:
// first the 16-bit one, then as many fp32 ones as the rest needs. Every fp32
// block a state tensor splits is too small for the next step's logits, which
// take a fresh segment for it; the 16-bit block is not needed whole again
// (the next step's 16-bit logits fit in an fp32 block that is still whole and
// is freed before the gradient block is asked for). So above the steady peak,
// which holds the states, the allocator reserves
//   16-bit block + k fp32 blocks − states,  k = ⌈(states − 16-bit block) / fp32 block⌉,
// plus the base every run reserves. Read off the allocation traces of the
// shared truth's Qwen2.5-0.5B full rows (runner/bench/results/truth-rows-h100/,
// bench/ESTIMATE.md): at 2048×4 tokens 1.65 of the 1.84 GiB of states sit in
// the 16-bit logits segment and no later segment is made (k = 0); at 2048×1
// they split two fp32 blocks and the second step makes two fresh ones
// (k = 2). No constant is fitted: the base is overhead.ts's.
//
// Out of scope, left to overhead.ts's linear terms: without checkpointing the
// states take the forward's freed activation blocks first and the next
// forward's activations then split the logits blocks; with accumulation the
// first micro-batch's gradients stay in the freed logits blocks; several GPUs
// (DDP's gradient buckets, sharded states); foreach AdamW's step temporaries;
// fp32 weights; and states plus gradients too large for the cached logits
// blocks, which then take fresh segments of their own.

export interface FirstStepInputs {
  method: 'full' | 'lora' | 'qlora';
  checkpointing: boolean;
  accumulating: boolean;
  numGpus: number;
  /** Fused AdamW (no step temporaries), states in the weights' 16-bit dtype, on the GPU. */
  fusedAdamw16: boolean;
  /** The fused (chunked) loss allocates no whole logits blocks. */
  fusedLoss: boolean;
  /** Gemma-2's soft-capping adds a block to the loss's. */
  logitSoftcap: boolean;
  tokens: number;
  vocab: number;
  /** Optimizer states on the GPU, bytes. */
  states: number;
  /** Gradients, bytes (alive when the states are allocated). */
  gradients: number;
}

/**
 * The reserve above the steady peak that the first step leaves, without the
 * base (16-bit block + k fp32 blocks − states), or undefined where the rule
 * does not apply.
 */
export function firstStepReserveBytes(x: FirstStepInputs): number | undefined {
  const applies =
    x.method === 'full' &&
    x.checkpointing &&
    !x.accumulating &&
    x.numGpus === 1 &&
    x.fusedAdamw16 &&
    !x.fusedLoss &&
    !x.logitSoftcap;
  if (!applies) return undefined;
  const block16 = 2 * x.tokens * x.vocab;
  const block32 = 4 * x.tokens * x.vocab;
  // what the first step allocates after its peak must fit the cached logits blocks
  if (x.states + x.gradients > block16 + 3 * block32) return undefined;
  const splitBlocks = Math.ceil(Math.max(0, x.states - block16) / block32);
  return block16 + splitBlocks * block32 - x.states;
}

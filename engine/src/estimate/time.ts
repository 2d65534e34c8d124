// Training time from FLOPs: matmul FLOPs per token over the GPUs' dense bf16
// throughput at an assumed utilisation. A first-order figure (±50%), meant
// to tell minutes from hours from days.

import type { GpuSpec } from '../hardware/types';
import type { ModelArchitecture } from '../models/types';
import type { Plan } from '../plan';
import { layoutOf, loraParams, loraTargets, paramGroups } from './arch';
import { resolveSettings } from './settings';
import type { TrainTimeEstimate } from './types';

/** Model FLOPs utilisation assumed with packed sequences (no padding). */
export const UTILIZATION_PACKED = 0.35;
/** ...and without packing: padding and short sequences waste most of each batch. */
export const UTILIZATION_PADDED = 0.15;
/** Extra factor for QLoRA: every matmul dequantizes its 4-bit weight first. */
export const QLORA_SLOWDOWN = 0.75;
/** Dense bf16 TFLOP/s assumed when no GPU is known (H100 SXM). */
const DEFAULT_TFLOPS = 989;

export function estimateTrainTime(
  plan: Plan,
  model: ModelArchitecture,
  gpu: GpuSpec | undefined,
  tokensPerEpoch: number,
): TrainTimeEstimate {
  const s = resolveSettings(plan);
  const layout = layoutOf(model);
  const groups = paramGroups(layout);
  const assumptions: string[] = [];

  // Parameters a token's matmuls touch: decoder linears (active experts only)
  // and lm_head (a matmul even when tied to the embedding; the lookup is not).
  let activeLinear = 0;
  for (const l of layout.linears) activeLinear += l.inFeatures * l.outFeatures * l.activePerToken;
  const matmulParams = layout.layers * activeLinear + layout.vocab * layout.hidden;
  // Causal attention scores and weighted sum: 2 matmuls × 2 FLOPs × (S/2 keys on average) × width.
  const attnForward = 2 * layout.layers * layout.qWidth * s.seqLen;
  const forward = 2 * matmulParams + attnForward;

  let flopsPerToken: number;
  if (s.method === 'full') {
    flopsPerToken = 3 * forward;
    assumptions.push(
      `full: 6 × ${(matmulParams / 1e9).toFixed(2)}B matmul params per token (forward + backward) + attention`,
    );
  } else {
    const adapter = s.lora ? loraParams(layout, loraTargets(layout, s.lora.targets), s.lora.r) : 0;
    // Backward through frozen weights needs input gradients only (no weight gradients).
    flopsPerToken = 2 * forward + attnForward + 6 * adapter;
    assumptions.push(
      `${s.method}: 4 × ${(matmulParams / 1e9).toFixed(2)}B frozen matmul params per token (forward + input gradients) + 6 × ${(adapter / 1e6).toFixed(1)}M adapter params + attention`,
    );
  }
  if (s.checkpointing) {
    flopsPerToken += forward;
    assumptions.push('gradient checkpointing recomputes the forward: + 2 × params per token');
  }

  const epochs = Math.max(1, plan.training.epochs || 1);
  const tokens = tokensPerEpoch * epochs;
  const totalFlops = flopsPerToken * tokens;
  let utilization = s.packing ? UTILIZATION_PACKED : UTILIZATION_PADDED;
  assumptions.push(
    `${Math.round(utilization * 100)}% of peak bf16 throughput (${s.packing ? 'packed sequences' : 'padded batches, no packing'})`,
  );
  if (s.method === 'qlora') {
    utilization *= QLORA_SLOWDOWN;
    assumptions.push(`× ${QLORA_SLOWDOWN} for QLoRA's 4-bit dequantization`);
  }
  const tflops = gpu?.tflopsBf16 ?? DEFAULT_TFLOPS;
  if (!gpu) assumptions.push(`no GPU given: assumed ${DEFAULT_TFLOPS} TFLOP/s (H100)`);
  const seconds = totalFlops / (s.numGpus * tflops * 1e12 * utilization);
  assumptions.push(
    `${tokens.toLocaleString('en-US')} tokens (${epochs} epoch${epochs > 1 ? 's' : ''}) on ${s.numGpus} × ${tflops} TFLOP/s; ${(groups.total / 1e9).toFixed(2)}B params total`,
  );
  return { tokens, flopsPerToken, totalFlops, utilization, seconds, assumptions };
}

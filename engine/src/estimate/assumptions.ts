// The estimate's standing assumptions that follow from the settings alone
// (the fused loss, QLoRA's upcast, FSDP's masters, ZeRO, eager attention,
// mixture of experts): one sentence each, beside the breakdown.

import type { ModelArchitecture } from '../models/types';
import type { Layout } from './arch';
import type { RunSettings } from './settings';
import type { StateBytes } from './states';

export function settingAssumptions(
  s: RunSettings,
  st: StateBytes,
  layout: Layout,
  model: ModelArchitecture,
  fused: boolean,
): string[] {
  const out: string[] = [];
  if (fused) {
    out.push(
      "Liger Kernel: its fused loss keeps a chunk of logits, its RMSNorm and SwiGLU save less per layer (activations.ts); evaluation's loss is not fused",
    );
  }
  if (s.prepareKbit) {
    out.push(
      'prepare_model_for_kbit_training: embeddings, lm_head and norms in fp32 and fp32 activations in the MLP (stabler, costs memory)',
    );
  }
  if (st.fsdpUpcast) {
    out.push(
      'FSDP with bf16 mixed precision keeps fp32 master weights: accelerate upcasts the trainable parameters before sharding, so weights, gradients and AdamW states cost 16 B/param before the split (bf16: false would keep 8 B/param)',
    );
  }
  if (s.parallelism.startsWith('zero')) {
    out.push(
      'DeepSpeed ZeRO figures follow its design (not measured here): bf16 params, fp32 master + AdamW states partitioned',
    );
  }
  if (s.attention === 'eager') {
    out.push(
      `eager attention keeps ${layout.heads}×${s.seqLen}×${s.seqLen} scores per layer: use sdpa or flash_attention_2`,
    );
  }
  if ((model.numExperts ?? 0) > 0) {
    out.push('mixture of experts: activations counted for the top-k routed experts (approximate)');
  }

  return out;
}

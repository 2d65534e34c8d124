// Microsoft Phi-3, Phi-3.5 and Phi-4 (model_type "phi3": fused `qkv_proj`
// and `gate_up_proj`). All are released chat-tuned only. Numbers from each
// model's config.json on the Hub.

import type { ChatTemplateFamily } from '../types';
import { defineModel, type ModelShape } from './define';

const PHI_3_MINI: ModelShape = {
  family: 'phi3',
  hiddenSize: 3072,
  numLayers: 32,
  numAttentionHeads: 32,
  numKeyValueHeads: 32,
  intermediateSize: 8192,
  vocabSize: 32064,
  tiedEmbeddings: false,
};
const PHI_3_MEDIUM: ModelShape = {
  family: 'phi3',
  hiddenSize: 5120,
  numLayers: 40,
  numAttentionHeads: 40,
  numKeyValueHeads: 10,
  intermediateSize: 17920,
  vocabSize: 32064,
  tiedEmbeddings: false,
};
// Phi-4 keeps Phi-3 medium's layers with a 100k tiktoken vocabulary.
const PHI_4: ModelShape = { ...PHI_3_MEDIUM, vocabSize: 100352 };

function phi(
  id: string,
  displayName: string,
  sizeLabel: string,
  shape: ModelShape,
  chatTemplate: ChatTemplateFamily = 'phi-3',
) {
  return defineModel({ id, displayName, sizeLabel, kind: 'instruct', chatTemplate }, shape);
}

export const PHI_MODELS = [
  phi('microsoft/Phi-3-mini-4k-instruct', 'Phi-3 mini 4k Instruct', '3.8B', PHI_3_MINI),
  phi('microsoft/Phi-3-mini-128k-instruct', 'Phi-3 mini 128k Instruct', '3.8B', PHI_3_MINI),
  phi('microsoft/Phi-3-medium-4k-instruct', 'Phi-3 medium 4k Instruct', '14B', PHI_3_MEDIUM),
  phi('microsoft/Phi-3-medium-128k-instruct', 'Phi-3 medium 128k Instruct', '14B', PHI_3_MEDIUM),
  phi('microsoft/Phi-3.5-mini-instruct', 'Phi-3.5 mini Instruct', '3.8B', PHI_3_MINI),
  // Phi-4's template is ChatML-shaped (<|im_start|>role<|im_sep|>...<|im_end|>).
  phi('microsoft/phi-4', 'Phi-4', '14B', PHI_4, 'chatml'),
];

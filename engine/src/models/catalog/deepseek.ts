// DeepSeek-R1 distills: Qwen2.5 and Llama 3 bodies fine-tuned on R1 reasoning
// traces, with DeepSeek's chat template. Released chat-tuned only. The 1.5B
// and 7B start from Qwen2.5-Math, whose lm_head is not tied (unlike Qwen2.5-1.5B).

import { LLAMA_3_70B_SHAPE, LLAMA_3_8B_SHAPE } from './llama';
import { QWEN2_1_5B_SHAPE, QWEN2_5_14B_SHAPE, QWEN2_5_32B_SHAPE, QWEN2_7B_SHAPE } from './qwen';
import { defineModel, type ModelShape } from './define';

function distill(name: string, sizeLabel: string, shape: ModelShape) {
  return defineModel(
    {
      id: `deepseek-ai/DeepSeek-R1-Distill-${name}`,
      displayName: `DeepSeek-R1-Distill ${name.replace('-', ' ')}`,
      sizeLabel,
      kind: 'instruct',
      chatTemplate: 'deepseek',
    },
    shape,
  );
}

export const DEEPSEEK_MODELS = [
  distill('Qwen-1.5B', '1.5B', { ...QWEN2_1_5B_SHAPE, tiedEmbeddings: false }),
  distill('Qwen-7B', '7B', QWEN2_7B_SHAPE),
  distill('Qwen-14B', '14B', QWEN2_5_14B_SHAPE),
  distill('Qwen-32B', '32B', QWEN2_5_32B_SHAPE),
  distill('Llama-8B', '8B', LLAMA_3_8B_SHAPE),
  distill('Llama-70B', '70B', LLAMA_3_70B_SHAPE),
];

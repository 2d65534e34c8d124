// The JSON Schema of each dialect, and the "did you mean" aliases users bring
// from the other tools (keys that are not typos, so edit distance misses them).

import axolotlSchema from '../../../schemas/axolotl.schema.json';
import llamafactorySchema from '../../../schemas/llamafactory.schema.json';
import trlSchema from '../../../schemas/trl-sft.schema.json';
import { NATIVE_SCHEMA, type JsonSchema } from '../schema/schemaTree';
import type { Dialect } from '../types';

const SCHEMAS: Record<Dialect, JsonSchema> = {
  native: NATIVE_SCHEMA,
  axolotl: axolotlSchema as unknown as JsonSchema,
  llamafactory: llamafactorySchema as unknown as JsonSchema,
  trl: trlSchema as unknown as JsonSchema,
};

/** The JSON Schema that describes a config of `dialect`. */
export function schemaFor(dialect: Dialect): JsonSchema {
  return SCHEMAS[dialect];
}

/** How each tool is named in messages. */
export const DIALECT_LABEL: Record<Dialect, string> = {
  native: 'Tunelab',
  axolotl: 'Axolotl',
  llamafactory: 'LLaMA-Factory',
  trl: 'TRL',
};

/** What the tool does with a key it does not know, for unknown-key messages. */
export const UNKNOWN_KEY_BEHAVIOUR: Record<Exclude<Dialect, 'native'>, string> = {
  axolotl: 'Axolotl ignores keys it does not know, so the setting is silently lost.',
  llamafactory:
    'LLaMA-Factory stops at start-up with "Some keys are not used by the HfArgumentParser".',
  trl: 'The TRL CLI stops at start-up with "Unknown arguments from config file".',
};

/** Top-level aliases per dialect (lower-case key → the dialect's key). */
export const DIALECT_KEY_ALIASES: Record<Exclude<Dialect, 'native'>, Record<string, string>> = {
  axolotl: {
    model_name_or_path: 'base_model',
    model: 'base_model',
    lora_rank: 'lora_r',
    r: 'lora_r',
    rank: 'lora_r',
    target_modules: 'lora_target_modules',
    lora_target: 'lora_target_modules',
    lora_targets: 'lora_target_modules',
    modules_to_save: 'lora_modules_to_save',
    max_seq_length: 'sequence_len',
    max_length: 'sequence_len',
    seq_len: 'sequence_len',
    cutoff_len: 'sequence_len',
    sequence_length: 'sequence_len',
    max_seq_len: 'sequence_len',
    per_device_train_batch_size: 'micro_batch_size',
    batch_size_per_device: 'micro_batch_size',
    num_train_epochs: 'num_epochs',
    epochs: 'num_epochs',
    optim: 'optimizer',
    lr_scheduler_type: 'lr_scheduler',
    lr: 'learning_rate',
    template: 'chat_template',
    packing: 'sample_packing',
    dataset: 'datasets',
    use_rslora: 'peft_use_rslora',
    use_dora: 'peft_use_dora',
    torch_dtype: 'bf16',
    attention: 'attn_implementation',
  },
  llamafactory: {
    base_model: 'model_name_or_path',
    model: 'model_name_or_path',
    lora_r: 'lora_rank',
    r: 'lora_rank',
    rank: 'lora_rank',
    lora_target_modules: 'lora_target',
    target_modules: 'lora_target',
    lora_modules_to_save: 'additional_target',
    modules_to_save: 'additional_target',
    max_seq_length: 'cutoff_len',
    sequence_len: 'cutoff_len',
    seq_len: 'cutoff_len',
    max_seq_len: 'cutoff_len',
    max_source_length: 'cutoff_len',
    chat_template: 'template',
    micro_batch_size: 'per_device_train_batch_size',
    batch_size: 'per_device_train_batch_size',
    num_epochs: 'num_train_epochs',
    epochs: 'num_train_epochs',
    optimizer: 'optim',
    lr_scheduler: 'lr_scheduler_type',
    lr: 'learning_rate',
    load_in_4bit: 'quantization_bit',
    load_in_8bit: 'quantization_bit',
    bnb_4bit_quant_type: 'quantization_type',
    flash_attention: 'flash_attn',
    attn_implementation: 'flash_attn',
    sample_packing: 'packing',
    datasets: 'dataset',
    dataset_name: 'dataset',
    method: 'finetuning_type',
    adapter: 'finetuning_type',
  },
  trl: {
    base_model: 'model_name_or_path',
    model: 'model_name_or_path',
    lora_rank: 'lora_r',
    r: 'lora_r',
    rank: 'lora_r',
    target_modules: 'lora_target_modules',
    lora_target: 'lora_target_modules',
    modules_to_save: 'lora_modules_to_save',
    sequence_len: 'max_length',
    seq_len: 'max_length',
    cutoff_len: 'max_length',
    max_seq_len: 'max_length',
    micro_batch_size: 'per_device_train_batch_size',
    batch_size: 'per_device_train_batch_size',
    num_epochs: 'num_train_epochs',
    epochs: 'num_train_epochs',
    optimizer: 'optim',
    lr_scheduler: 'lr_scheduler_type',
    lr: 'learning_rate',
    dataset: 'dataset_name',
    chat_template: 'chat_template_path',
    template: 'chat_template_path',
    adapter: 'use_peft',
    peft: 'use_peft',
    bnb_4bit_use_double_quant: 'use_bnb_nested_quant',
    sample_packing: 'packing',
  },
};

// Which tool a YAML file is written for, from its content: Axolotl, LLaMA-Factory
// or TRL's CLI (the native format is decided in ../dialect.ts). A modeline
// comment (`# tunelab: dialect=axolotl`) or a setting overrides the guess.

import { isRecord } from '../parse';
import type { Dialect } from '../types';

/** Names accepted in a modeline or setting, with the dialect each means. */
const DIALECT_NAMES: Record<string, Dialect> = {
  native: 'native',
  tunelab: 'native',
  axolotl: 'axolotl',
  llamafactory: 'llamafactory',
  'llama-factory': 'llamafactory',
  llama_factory: 'llamafactory',
  lmf: 'llamafactory',
  trl: 'trl',
  'trl-sft': 'trl',
};

/** The dialect a name stands for (`axolotl`, `llama-factory`, `trl`...), or undefined. */
export function dialectFromName(name: string | undefined): Dialect | undefined {
  return name ? DIALECT_NAMES[name.trim().toLowerCase()] : undefined;
}

export interface Modeline {
  dialect?: Dialect;
  /** `gpu=H100-80GB`: the GPU the estimate checks against (dialects have no hardware section). */
  gpu?: string;
  /** `num_gpus=2`. */
  numGpus?: number;
  /** A dialect name the modeline gives that Tunelab does not know. */
  unknownDialect?: string;
}

const MODELINE = /^[ \t]*#[ \t]*tunelab:[ \t]*(.*)$/im;

/** Reads `# tunelab: dialect=axolotl gpu=A100-80GB num_gpus=2` from the text. */
export function readModeline(text: string): Modeline {
  const match = MODELINE.exec(text);
  if (!match) return {};
  const result: Modeline = {};
  for (const pair of match[1].split(/[\s,;]+/)) {
    const [key, value] = pair.split('=', 2);
    if (!value) continue;
    const name = key.toLowerCase().replace(/-/g, '_');
    if (name === 'dialect') {
      const dialect = dialectFromName(value);
      if (dialect) result.dialect = dialect;
      else result.unknownDialect = value;
    } else if (name === 'gpu') result.gpu = value;
    else if (name === 'num_gpus' && /^[1-9]\d*$/.test(value)) result.numGpus = Number(value);
  }
  return result;
}

/** Keys only TRL's SFT script reads (SFTConfig, ScriptArguments, ModelConfig), not LLaMA-Factory. */
const TRL_KEYS = [
  'dataset_name',
  'use_peft',
  'dataset_text_field',
  'completion_only_loss',
  'assistant_only_loss',
  'chat_template_path',
  'max_length',
  'packing_strategy',
  'padding_free',
  'lora_target_modules',
  'lora_r',
  'dataset_train_split',
  'model_init_kwargs',
];

/** Axolotl's own keys that go with `base_model`. */
const AXOLOTL_KEYS = [
  'adapter',
  'datasets',
  'micro_batch_size',
  'sequence_len',
  'num_epochs',
  'lora_r',
  'sample_packing',
];

/** The tool a parsed config is written for, judged from its keys alone. */
export function detectFromContent(value: unknown): Exclude<Dialect, 'native'> | undefined {
  if (!isRecord(value)) return undefined;
  const has = (key: string) => Object.prototype.hasOwnProperty.call(value, key);
  if (typeof value.base_model === 'string' && AXOLOTL_KEYS.some(has)) return 'axolotl';
  if (typeof value.model_name_or_path !== 'string') return undefined;
  if (has('stage') && has('finetuning_type')) return 'llamafactory';
  if (TRL_KEYS.some(has) || (Array.isArray(value.datasets) && !has('stage'))) return 'trl';
  return undefined;
}

/** Cheap text test before parsing: could this file be a config of another tool? */
export function mightBeDialectConfig(text: string): boolean {
  return /^(base_model|model_name_or_path)[ \t]*:/m.test(text) || MODELINE.test(text);
}

// TRL SFT CLI config (`trl sft --config cfg.yaml`) → the equivalent native
// config. TRL 1.13's defaults differ from TrainingArguments and peft:
// ModelConfig dtype float32 (also the 4-bit compute dtype), lora_r 16,
// lora_alpha 32, lora_dropout 0.05; SFTConfig max_length 1024,
// gradient_checkpointing true, bf16 true unless fp16, learning_rate 2e-5.

import { isRecord } from '../parse';
import { schemaFor } from './schemas';
import { scalarText, ViewBuilder, zeroStage, type DialectView, type DialectWrite } from './view';
import type { Path } from '../types';

function trainingKeys(): string[] {
  const native = schemaFor('native').properties?.training?.properties ?? {};
  const own = schemaFor('trl').properties ?? {};
  return Object.keys(native).filter((k) => k in own);
}

let TRAINING: string[] | undefined;

const LORA_KEYS: [string, string][] = [
  ['lora_r', 'r'],
  ['lora_alpha', 'lora_alpha'],
  ['lora_dropout', 'lora_dropout'],
  ['lora_target_modules', 'target_modules'],
  ['lora_modules_to_save', 'modules_to_save'],
  ['lora_task_type', 'task_type'],
  ['use_rslora', 'use_rslora'],
  ['use_dora', 'use_dora'],
];

const LORA_DEFAULTS: Record<string, number> = { r: 16, lora_alpha: 32, lora_dropout: 0.05 };

export function trlView(config: Record<string, unknown>): DialectView {
  TRAINING ??= trainingKeys();
  const b = new ViewBuilder(config);
  const peft = b.get('use_peft') === true;
  const quant4 = b.get('load_in_4bit') === true;
  const quant8 = !quant4 && b.get('load_in_8bit') === true;
  const method = peft ? (quant4 || quant8 ? 'qlora' : 'lora') : 'full';
  b.set(['method'], method, b.has('use_peft') ? 'use_peft' : undefined);

  const dtype = b.str('dtype') ?? 'float32';
  b.copy('model_name_or_path', ['model', 'name_or_path']);
  b.copy('model_revision', ['model', 'revision']);
  b.copy('attn_implementation', ['model', 'attn_implementation']);
  b.copy('trust_remote_code', ['model', 'trust_remote_code']);
  b.set(['model', 'dtype'], dtype, b.has('dtype') ? 'dtype' : undefined);

  if (method === 'qlora') {
    const quantization = quant4
      ? {
          load_in_4bit: true,
          bnb_4bit_quant_type: b.str('bnb_4bit_quant_type') ?? 'nf4',
          bnb_4bit_compute_dtype: dtype === 'auto' ? 'bfloat16' : dtype,
          bnb_4bit_use_double_quant: b.bool('use_bnb_nested_quant') ?? false,
        }
      : { load_in_8bit: true };
    b.set(['quantization'], quantization, quant4 ? 'load_in_4bit' : 'load_in_8bit');
    if (b.has('bnb_4bit_quant_type'))
      b.source(['quantization', 'bnb_4bit_quant_type'], ['bnb_4bit_quant_type']);
    if (b.has('dtype')) b.source(['quantization', 'bnb_4bit_compute_dtype'], ['dtype']);
    if (b.has('use_bnb_nested_quant'))
      b.source(['quantization', 'bnb_4bit_use_double_quant'], ['use_bnb_nested_quant']);
    b.set(['prepare_model_for_kbit_training'], true);
  }

  if (peft) {
    b.set(['lora'], {}, 'use_peft');
    for (const [key, native] of LORA_KEYS) {
      if (b.has(key)) b.copy(key, ['lora', native]);
      else if (native in LORA_DEFAULTS) b.set(['lora', native], LORA_DEFAULTS[native]);
    }
  }

  const maxLength = Object.prototype.hasOwnProperty.call(config, 'max_length')
    ? config.max_length
    : 1024;
  b.set(['data', 'max_length'], maxLength, 'max_length');
  b.copy('packing', ['data', 'packing']);
  b.copy('completion_only_loss', ['data', 'completion_only_loss']);
  b.copy('chat_template_path', ['data', 'chat_template']);
  const dataset = b.str('dataset_name');
  const mixture = b.get('datasets');
  const only = Array.isArray(mixture) && mixture.length === 1 ? mixture[0] : undefined;
  if (dataset && /\.jsonl?$/i.test(dataset)) {
    b.set(['data', 'train_file'], dataset, 'dataset_name');
    b.set(['data', 'format'], 'messages');
  } else if (
    isRecord(only) &&
    only.path === 'json' &&
    typeof only.data_files === 'string' &&
    /\.jsonl?$/i.test(only.data_files)
  ) {
    // `datasets: [{path: json, data_files: train.jsonl}]`: one local JSON Lines file.
    b.set(['data', 'train_file'], only.data_files, ['datasets', 0, 'data_files']);
    b.set(['data', 'format'], 'messages');
  }

  for (const key of TRAINING) b.copy(key, ['training', key]);
  if (!b.has('gradient_checkpointing')) b.set(['training', 'gradient_checkpointing'], true);
  if (!b.has('bf16')) b.set(['training', 'bf16'], b.get('fp16') !== true);
  const deepspeed = b.get('deepspeed');
  if (deepspeed !== undefined) {
    b.set(['launch', 'distributed', 'backend'], 'deepspeed', 'deepspeed');
    b.set(['launch', 'distributed', 'zero_stage'], zeroStage(deepspeed));
  } else if (b.get('fsdp') !== undefined && b.get('fsdp') !== false && b.get('fsdp') !== '') {
    b.set(['launch', 'distributed', 'backend'], 'fsdp', 'fsdp');
  }

  return {
    dialect: 'trl',
    config,
    value: b.value,
    sources: b.sources,
    derived: b.derived,
    anchors: {
      lora: [['use_peft']],
      quantization: [['load_in_4bit'], ['load_in_8bit']],
      prepare_model_for_kbit_training: [['use_peft']],
      data: [['dataset_name'], ['datasets']],
      method: [['use_peft'], ['model_name_or_path']],
      training: [['learning_rate'], ['num_train_epochs'], ['per_device_train_batch_size']],
      '*': [['model_name_or_path']],
    },
    write: writeTrl,
    keyNames: KEY_NAMES,
    estimable: true,
  };
}

const KEY_NAMES: Record<string, string> = {
  r: 'lora_r',
  'lora.r': 'lora_r',
  target_modules: 'lora_target_modules',
  modules_to_save: 'lora_modules_to_save',
  task_type: 'lora_task_type',
  'data.max_length': 'max_length',
  chat_template: 'chat_template_path',
  'data.chat_template': 'chat_template_path',
  bnb_4bit_compute_dtype: 'dtype',
  bnb_4bit_use_double_quant: 'use_bnb_nested_quant',
  'model.name_or_path': 'model_name_or_path',
  'model.dtype': 'dtype',
};

/** How a native key is written in TRL's CLI config. */
export function writeTrl(path: Path, text: string): DialectWrite | undefined {
  TRAINING ??= trainingKeys();
  if (path.length !== 2) return undefined;
  const [section, key] = path.map(String);
  if (section === 'training') return TRAINING?.includes(key) ? { path: [key], text } : undefined;
  if (section === 'lora') {
    const pair = LORA_KEYS.find(([, native]) => native === key);
    return pair ? { path: [pair[0]], text } : undefined;
  }
  if (section === 'data' && key === 'max_length') return { path: ['max_length'], text };
  if (section === 'quantization') {
    if (key === 'bnb_4bit_compute_dtype') return { path: ['dtype'], text };
    if (key === 'bnb_4bit_quant_type') return { path: ['bnb_4bit_quant_type'], text };
    if (key === 'bnb_4bit_use_double_quant')
      return { path: ['use_bnb_nested_quant'], text: String(scalarText(text) === true) };
    return undefined;
  }
  if (section === 'model' && (key === 'dtype' || key === 'attn_implementation'))
    return { path: [key], text };
  return undefined;
}

// Axolotl config (`axolotl train cfg.yml`) → the equivalent native config.
// Defaults are Axolotl's (src/axolotl/utils/schemas): micro_batch_size 1,
// num_epochs 1, sequence_len 512, bf16 auto, optimizer adamw_torch_fused; the
// QLoRA base is bitsandbytes NF4 with double quantization, computing in the
// training dtype (bf16 → bfloat16, fp16 → float16, else float32).

import { isRecord } from '../parse';
import type { Path } from '../types';
import { axolotlEvaluation } from './evaluation';
import { axolotlTemplateFamily, axolotlTemplateName } from './templates';
import { scalarText, ViewBuilder, zeroStage, type DialectView, type DialectWrite } from './view';

/** Native training key ← Axolotl key, copied as they are. */
const TRAINING_KEYS: [string, string][] = [
  ['micro_batch_size', 'per_device_train_batch_size'],
  ['eval_batch_size', 'per_device_eval_batch_size'],
  ['gradient_accumulation_steps', 'gradient_accumulation_steps'],
  ['num_epochs', 'num_train_epochs'],
  ['max_steps', 'max_steps'],
  ['optimizer', 'optim'],
  ['lr_scheduler', 'lr_scheduler_type'],
  ['warmup_steps', 'warmup_steps'],
  ['warmup_ratio', 'warmup_ratio'],
  ['max_grad_norm', 'max_grad_norm'],
  ['weight_decay', 'weight_decay'],
  ['adam_beta1', 'adam_beta1'],
  ['adam_beta2', 'adam_beta2'],
  ['adam_epsilon', 'adam_epsilon'],
  ['save_total_limit', 'save_total_limit'],
  ['save_steps', 'save_steps'],
  ['save_strategy', 'save_strategy'],
  ['save_only_model', 'save_only_model'],
  ['logging_steps', 'logging_steps'],
  ['eval_strategy', 'eval_strategy'],
  ['eval_steps', 'eval_steps'],
  ['dataloader_num_workers', 'dataloader_num_workers'],
  ['output_dir', 'output_dir'],
  ['seed', 'seed'],
  ['neftune_noise_alpha', 'neftune_noise_alpha'],
  ['torch_compile', 'torch_compile'],
  ['auto_find_batch_size', 'auto_find_batch_size'],
];

/** Native LoRA key ← Axolotl key. */
const LORA_KEYS: [string, string][] = [
  ['lora_r', 'r'],
  ['lora_alpha', 'lora_alpha'],
  ['lora_dropout', 'lora_dropout'],
  ['lora_modules_to_save', 'modules_to_save'],
  ['peft_use_rslora', 'use_rslora'],
  ['peft_use_dora', 'use_dora'],
  ['peft_layers_to_transform', 'layers_to_transform'],
];

const LEGACY_ATTENTION: Record<string, string> = {
  flash_attention: 'flash_attention_2',
  sdp_attention: 'sdpa',
  eager_attention: 'eager',
  xformers_attention: 'xformers',
  flex_attention: 'flex_attention',
  sage_attention: 'sage',
  s2_attention: 's2',
};

export interface AxolotlHints {
  /** False when the target GPU is known to lack bfloat16 (`bf16: auto` then means off). */
  gpuBf16?: boolean;
}

export function axolotlView(
  config: Record<string, unknown>,
  hints: AxolotlHints = {},
): DialectView {
  const b = new ViewBuilder(config);
  const adapter = b.str('adapter');
  const mqc = b.get('model_quantization_config');
  const bnbDtype = isRecord(mqc) && mqc.backend === 'bnb' ? mqc.weight_dtype : undefined;
  const quant4 = b.get('load_in_4bit') === true || adapter === 'qlora' || bnbDtype === 'nf4';
  const quant8 = !quant4 && (b.get('load_in_8bit') === true || bnbDtype === 'int8');
  const method =
    adapter === 'lora' || adapter === 'qlora'
      ? quant4 || quant8
        ? 'qlora'
        : 'lora'
      : adapter === undefined
        ? 'full'
        : undefined;
  b.set(['method'], method, adapter !== undefined ? 'adapter' : undefined);

  // Precision: bf16 defaults to `auto` (on when the GPU has it).
  const bf16Raw = config.bf16 === undefined || config.bf16 === null ? 'auto' : config.bf16;
  const bf16 = bf16Raw === true || (bf16Raw === 'auto' && hints.gpuBf16 !== false);
  const fp16 = b.get('fp16') === true;
  const dtype =
    bf16 || b.get('bfloat16') === true
      ? 'bfloat16'
      : fp16 || b.get('float16')
        ? 'float16'
        : 'float32';

  b.copy('base_model', ['model', 'name_or_path']);
  b.copy('model_revision', ['model', 'revision']);
  b.copy('revision_of_model', ['model', 'revision']);
  b.copy('trust_remote_code', ['model', 'trust_remote_code']);
  b.derive(['model', 'dtype'], dtype);
  const attn = b.str('attn_implementation');
  if (attn) b.set(['model', 'attn_implementation'], attn, 'attn_implementation');
  else {
    const flag = Object.keys(LEGACY_ATTENTION).find((k) => b.get(k) === true);
    if (flag) b.set(['model', 'attn_implementation'], LEGACY_ATTENTION[flag], flag);
  }
  const tokens = b.get('tokens');
  if (Array.isArray(tokens)) b.set(['model', 'add_tokens'], tokens, 'tokens');

  if (method === 'qlora') {
    const kwargs = isRecord(b.get('bnb_config_kwargs'))
      ? (b.get('bnb_config_kwargs') as Record<string, unknown>)
      : {};
    const quantKey = quant4
      ? b.has('load_in_4bit')
        ? 'load_in_4bit'
        : 'adapter'
      : b.has('load_in_8bit')
        ? 'load_in_8bit'
        : 'model_quantization_config';
    const quantization = quant4
      ? {
          load_in_4bit: true,
          bnb_4bit_quant_type: kwargs.bnb_4bit_quant_type ?? 'nf4',
          bnb_4bit_compute_dtype: dtype,
          bnb_4bit_use_double_quant: kwargs.bnb_4bit_use_double_quant ?? true,
        }
      : { load_in_8bit: true };
    b.set(['quantization'], quantization, quantKey);
    b.derived.push(['quantization', 'bnb_4bit_compute_dtype']);
    if (b.has('bf16')) b.source(['quantization', 'bnb_4bit_compute_dtype'], ['bf16']);
    b.set(['prepare_model_for_kbit_training'], true);
  }

  if (method === 'lora' || method === 'qlora') {
    b.set(['lora'], {}, adapter !== undefined ? 'adapter' : undefined);
    for (const [key, native] of LORA_KEYS) b.copy(key, ['lora', native]);
    if (b.get('lora_target_linear') === true) {
      b.set(['lora', 'target_modules'], 'all-linear', 'lora_target_linear');
    } else b.copy('lora_target_modules', ['lora', 'target_modules']);
  }

  b.set(
    ['data', 'max_length'],
    b.num('sequence_len') ?? 512,
    b.has('sequence_len') ? 'sequence_len' : undefined,
  );
  b.copy('sample_packing', ['data', 'packing']);
  const template = b.str('chat_template');
  if (template === 'jinja' && b.str('chat_template_jinja')) {
    b.set(['data', 'chat_template'], b.str('chat_template_jinja'), 'chat_template_jinja');
  } else if (template)
    b.set(['data', 'chat_template'], axolotlTemplateFamily(template), 'chat_template');
  datasetFile(b, 'datasets', 'train_file');
  datasetFile(b, 'test_datasets', 'eval_file');
  axolotlEvaluation(b);

  b.set(['training', 'learning_rate'], b.num('learning_rate'), 'learning_rate');
  for (const [key, native] of TRAINING_KEYS) b.copy(key, ['training', native]);
  if (!b.has('micro_batch_size')) b.set(['training', 'per_device_train_batch_size'], 1);
  if (!b.has('gradient_accumulation_steps')) b.set(['training', 'gradient_accumulation_steps'], 1);
  if (!b.has('num_epochs')) b.set(['training', 'num_train_epochs'], 1);
  const checkpointing = b.get('gradient_checkpointing');
  b.set(
    ['training', 'gradient_checkpointing'],
    checkpointing === undefined ? false : checkpointing !== false,
    checkpointing !== undefined ? 'gradient_checkpointing' : undefined,
  );
  if (bf16Raw === 'auto') b.derive(['training', 'bf16'], bf16);
  else b.set(['training', 'bf16'], bf16Raw, 'bf16');
  b.copy('fp16', ['training', 'fp16']);

  const deepspeed = b.get('deepspeed');
  if (deepspeed !== undefined) {
    b.set(['training', 'deepspeed'], deepspeed, 'deepspeed');
    b.set(['launch', 'distributed', 'backend'], 'deepspeed', 'deepspeed');
    b.set(['launch', 'distributed', 'zero_stage'], zeroStage(deepspeed));
  } else if (b.has('fsdp_config') || b.has('fsdp')) {
    b.set(
      ['launch', 'distributed', 'backend'],
      'fsdp',
      b.has('fsdp_config') ? 'fsdp_config' : 'fsdp',
    );
  }

  return {
    dialect: 'axolotl',
    config,
    value: b.value,
    sources: b.sources,
    derived: b.derived,
    anchors: {
      lora: [['adapter']],
      quantization: [['load_in_4bit'], ['load_in_8bit'], ['adapter']],
      prepare_model_for_kbit_training: [['adapter']],
      data: [['datasets'], ['sequence_len']],
      evaluation: [['do_causal_lm_eval']],
      method: [['adapter'], ['base_model']],
      training: [['learning_rate'], ['micro_batch_size']],
      '*': [['base_model']],
    },
    write: (path, text) => writeAxolotl(config, path, text),
    keyNames: KEY_NAMES,
    estimable: b.str('rl') === undefined && !b.get('reward_model') && method !== undefined,
  };
}

/** A local JSON Lines file of a `chat_template` or `completion` dataset, as the native data file. */
function datasetFile(b: ViewBuilder, key: string, native: 'train_file' | 'eval_file'): void {
  const list = b.get(key);
  if (!Array.isArray(list) || list.length !== 1 || !isRecord(list[0])) return;
  const entry = list[0];
  const path = typeof entry.path === 'string' ? entry.path : undefined;
  if (!path || !/\.jsonl?$/i.test(path)) return;
  const format =
    entry.type === 'chat_template' && (entry.field_messages ?? 'messages') === 'messages'
      ? 'messages'
      : entry.type === 'completion' && (entry.field ?? 'text') === 'text'
        ? 'text'
        : undefined;
  if (!format) return;
  b.set(['data', native], path, [key, 0, 'path']);
  if (native === 'train_file') b.set(['data', 'format'], format, [key, 0, 'type']);
}

const KEY_NAMES: Record<string, string> = {
  r: 'lora_r',
  'lora.r': 'lora_r',
  target_modules: 'lora_target_modules',
  modules_to_save: 'lora_modules_to_save',
  use_rslora: 'peft_use_rslora',
  max_length: 'sequence_len',
  'data.max_length': 'sequence_len',
  'data.chat_template': 'chat_template',
  per_device_train_batch_size: 'micro_batch_size',
  num_train_epochs: 'num_epochs',
  optim: 'optimizer',
  lr_scheduler_type: 'lr_scheduler',
  'model.name_or_path': 'base_model',
  'training.bf16': 'bf16',
  'training.deepspeed': 'deepspeed',
};

/** How a native key is written in Axolotl (`config`: the file, for conflicts). */
export function writeAxolotl(
  config: Record<string, unknown>,
  path: Path,
  text: string,
): DialectWrite | undefined {
  const [section, key] = path.map(String);
  if (path.length !== 2) return undefined;
  if (section === 'training') {
    if (key === 'warmup_steps' && Number(text) < 1) return { path: ['warmup_ratio'], text };
    const pair = TRAINING_KEYS.find(([, native]) => native === key);
    if (pair) return { path: [pair[0]], text };
    if (['learning_rate', 'gradient_checkpointing', 'bf16', 'fp16', 'deepspeed'].includes(key))
      return { path: [key], text };
    return undefined;
  }
  if (section === 'lora') {
    if (key === 'target_modules' && scalarText(text) === 'all-linear')
      return { path: ['lora_target_linear'], text: 'true' };
    const pair = LORA_KEYS.find(([, native]) => native === key);
    return pair
      ? { path: [pair[0]], text }
      : key === 'target_modules'
        ? { path: ['lora_target_modules'], text }
        : undefined;
  }
  if (section === 'data' && key === 'max_length') return { path: ['sequence_len'], text };
  if (section === 'data' && key === 'chat_template') {
    const name = axolotlTemplateName(String(scalarText(text)));
    return name ? { path: ['chat_template'], text: name } : undefined;
  }
  if (section === 'model' && key === 'attn_implementation') {
    // A legacy flag next to attn_implementation is an error in Axolotl: no fix then.
    if (Object.keys(LEGACY_ATTENTION).some((k) => config[k] !== undefined)) return undefined;
    return { path: ['attn_implementation'], text };
  }
  return undefined;
}

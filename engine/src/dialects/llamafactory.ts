// LLaMA-Factory config (`llamafactory-cli train cfg.yaml`) → the equivalent
// native config. LLaMA-Factory's own defaults (hparams/*.py): finetuning_type
// lora, lora_rank 8, lora_alpha = 2 × lora_rank, lora_target all,
// cutoff_len 2048, gradient checkpointing on (disable_gradient_checkpointing
// false), 4-bit quantization nf4 with double quantization computing in the
// training dtype. Trainer keys are transformers' TrainingArguments, 1:1.

import { llamafactoryEvaluation } from './evaluation';
import { schemaFor } from './schemas';
import { llamafactoryTemplateFamily, llamafactoryTemplateName } from './templates';
import {
  commaList,
  scalarText,
  ViewBuilder,
  zeroStage,
  type DialectView,
  type DialectWrite,
} from './view';
import type { Path } from '../types';

/** TrainingArguments keys the native `training` section shares with LLaMA-Factory. */
function trainingKeys(): string[] {
  const native = schemaFor('native').properties?.training?.properties ?? {};
  const own = schemaFor('llamafactory').properties ?? {};
  // warmup_ratio: transformers 4 (which LLaMA-Factory pins) still has it; the native schema does not.
  return [...Object.keys(native), 'warmup_ratio'].filter(
    (k) => k in own && k !== 'gradient_checkpointing',
  );
}

let TRAINING: string[] | undefined;

const ATTENTION: Record<string, string> = {
  fa2: 'flash_attention_2',
  sdpa: 'sdpa',
  disabled: 'eager',
};

export function llamafactoryView(config: Record<string, unknown>): DialectView {
  TRAINING ??= trainingKeys();
  const b = new ViewBuilder(config);
  const type = b.str('finetuning_type') ?? 'lora';
  const bits = b.num('quantization_bit');
  const bnb = (b.str('quantization_method') ?? 'bnb') === 'bnb';
  const quantized = type === 'lora' && bnb && (bits === 4 || bits === 8);
  const method =
    type === 'lora' ? (quantized ? 'qlora' : 'lora') : type === 'full' ? 'full' : undefined;
  b.set(['method'], method, b.has('finetuning_type') ? 'finetuning_type' : undefined);

  const bf16 = b.get('bf16') === true;
  const fp16 = b.get('fp16') === true;
  const pure = b.get('pure_bf16') === true;
  const compute = pure || bf16 ? 'bfloat16' : fp16 ? 'float16' : 'float32';
  const deepspeed = b.get('deepspeed');
  const stage = zeroStage(deepspeed);
  // Full tuning upcasts the trainable weights to fp32 unless pure_bf16 or ZeRO-3.
  const dtype = method === 'full' && !pure && stage !== 3 ? 'float32' : compute;

  b.copy('model_name_or_path', ['model', 'name_or_path']);
  b.copy('model_revision', ['model', 'revision']);
  b.copy('trust_remote_code', ['model', 'trust_remote_code']);
  b.derive(['model', 'dtype'], dtype);
  const attn = b.str('flash_attn');
  if (attn && ATTENTION[attn])
    b.set(['model', 'attn_implementation'], ATTENTION[attn], 'flash_attn');
  const added = commaList(b.get('add_tokens'));
  if (added?.length) b.set(['model', 'add_tokens'], added, 'add_tokens', true);

  if (quantized) {
    const quantization =
      bits === 4
        ? {
            load_in_4bit: true,
            bnb_4bit_quant_type: b.str('quantization_type') ?? 'nf4',
            bnb_4bit_compute_dtype: compute,
            bnb_4bit_use_double_quant: b.bool('double_quantization') ?? true,
          }
        : { load_in_8bit: true };
    b.set(['quantization'], quantization, 'quantization_bit');
    if (b.has('quantization_type'))
      b.source(['quantization', 'bnb_4bit_quant_type'], ['quantization_type']);
    b.derived.push(['quantization', 'bnb_4bit_compute_dtype']);
    b.source(
      ['quantization', 'bnb_4bit_compute_dtype'],
      [b.has('bf16') ? 'bf16' : 'quantization_bit'],
    );
    b.set(['prepare_model_for_kbit_training'], true);
  }

  if (method === 'lora' || method === 'qlora') {
    const r = b.num('lora_rank') ?? 8;
    b.set(['lora'], {}, b.has('finetuning_type') ? 'finetuning_type' : undefined);
    b.set(['lora', 'r'], r, b.has('lora_rank') ? 'lora_rank' : undefined);
    b.set(
      ['lora', 'lora_alpha'],
      b.num('lora_alpha') ?? 2 * r,
      b.has('lora_alpha') ? 'lora_alpha' : undefined,
    );
    b.copy('lora_dropout', ['lora', 'lora_dropout']);
    const target = commaList(b.get('lora_target') ?? 'all') ?? [];
    b.set(
      ['lora', 'target_modules'],
      target.length === 1 && target[0] === 'all' ? 'all-linear' : target,
      b.has('lora_target') ? 'lora_target' : undefined,
      typeof b.get('lora_target') === 'string',
    );
    const extra = commaList(b.get('additional_target'));
    if (extra)
      b.set(
        ['lora', 'modules_to_save'],
        extra,
        'additional_target',
        typeof b.get('additional_target') === 'string',
      );
    b.copy('use_rslora', ['lora', 'use_rslora']);
    b.copy('use_dora', ['lora', 'use_dora']);
  }

  b.set(
    ['data', 'max_length'],
    b.num('cutoff_len') ?? 2048,
    b.has('cutoff_len') ? 'cutoff_len' : undefined,
  );
  const packing = b.get('packing') === true || b.get('neat_packing') === true;
  if (b.has('packing') || b.has('neat_packing'))
    b.set(['data', 'packing'], packing, b.has('packing') ? 'packing' : 'neat_packing');
  const template = b.str('template');
  if (template) b.set(['data', 'chat_template'], llamafactoryTemplateFamily(template), 'template');

  for (const key of TRAINING)
    b.copy(key, ['training', key], (v) => (key === 'learning_rate' ? b.num(key) : v));
  const disabled = b.get('disable_gradient_checkpointing') === true;
  b.set(
    ['training', 'gradient_checkpointing'],
    !disabled,
    b.has('disable_gradient_checkpointing') ? 'disable_gradient_checkpointing' : undefined,
  );
  llamafactoryEvaluation(b);
  if (deepspeed !== undefined) {
    b.set(['launch', 'distributed', 'backend'], 'deepspeed', 'deepspeed');
    b.set(['launch', 'distributed', 'zero_stage'], stage);
  }

  const stageName = b.str('stage') ?? 'sft';
  return {
    dialect: 'llamafactory',
    config,
    value: b.value,
    sources: b.sources,
    derived: b.derived,
    anchors: {
      lora: [['finetuning_type'], ['lora_rank']],
      quantization: [['quantization_bit'], ['finetuning_type']],
      prepare_model_for_kbit_training: [['quantization_bit']],
      data: [['dataset'], ['template']],
      evaluation: [['predict_with_generate'], ['do_predict']],
      method: [['finetuning_type'], ['stage']],
      training: [['learning_rate'], ['num_train_epochs'], ['per_device_train_batch_size']],
      '*': [['model_name_or_path']],
    },
    write: writeLlamaFactory,
    keyNames: KEY_NAMES,
    estimable: (stageName === 'sft' || stageName === 'pt') && method !== undefined,
  };
}

const KEY_NAMES: Record<string, string> = {
  r: 'lora_rank',
  'lora.r': 'lora_rank',
  target_modules: 'lora_target',
  modules_to_save: 'additional_target',
  max_length: 'cutoff_len',
  'data.max_length': 'cutoff_len',
  chat_template: 'template',
  'data.chat_template': 'template',
  'model.name_or_path': 'model_name_or_path',
  bnb_4bit_quant_type: 'quantization_type',
  attn_implementation: 'flash_attn',
  'model.attn_implementation': 'flash_attn',
};

/** How a native key is written in LLaMA-Factory. */
export function writeLlamaFactory(path: Path, text: string): DialectWrite | undefined {
  TRAINING ??= trainingKeys();
  if (path.length !== 2) return undefined;
  const [section, key] = path.map(String);
  const value = scalarText(text);
  if (section === 'training') {
    // transformers 4 reads warmup_steps as a count: a ratio goes to warmup_ratio.
    if (key === 'warmup_steps' && typeof value === 'number' && value < 1)
      return { path: ['warmup_ratio'], text };
    if (key === 'gradient_checkpointing')
      return { path: ['disable_gradient_checkpointing'], text: value === true ? 'false' : 'true' };
    return TRAINING?.includes(key) ? { path: [key], text } : undefined;
  }
  if (section === 'lora') {
    if (key === 'r') return { path: ['lora_rank'], text };
    if (
      key === 'lora_alpha' ||
      key === 'lora_dropout' ||
      key === 'use_rslora' ||
      key === 'use_dora'
    )
      return { path: [key], text };
    if (key === 'target_modules')
      return {
        path: ['lora_target'],
        text: value === 'all-linear' ? 'all' : Array.isArray(value) ? value.join(',') : text,
      };
    if (key === 'modules_to_save')
      return { path: ['additional_target'], text: Array.isArray(value) ? value.join(',') : text };
    return undefined;
  }
  if (section === 'data' && key === 'max_length') return { path: ['cutoff_len'], text };
  if (section === 'data' && key === 'chat_template') {
    const name = llamafactoryTemplateName(String(value));
    return name ? { path: ['template'], text: name } : undefined;
  }
  if (section === 'quantization' && key === 'bnb_4bit_quant_type')
    return { path: ['quantization_type'], text };
  if (section === 'quantization' && key === 'bnb_4bit_use_double_quant')
    return { path: ['double_quantization'], text };
  if (section === 'model' && key === 'attn_implementation') {
    const name = Object.entries(ATTENTION).find(([, impl]) => impl === value)?.[0];
    return name ? { path: ['flash_attn'], text: name } : undefined;
  }
  return undefined;
}

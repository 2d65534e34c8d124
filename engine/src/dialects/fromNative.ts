// A native config written for another tool ("and back"): each native key
// goes through the dialect's writer; the result is read back through the
// dialect's view, and counts as lossless only when it trains the same plan.

import { parse, stringify } from 'yaml';
import { analyze, type Analysis } from '../engine';
import { yamlScalar } from '../edits';
import { isRecord } from '../parse';
import type { Plan } from '../plan';
import type { Dialect, Path } from '../types';
import { writeAxolotl } from './axolotl';
import { writeLlamaFactory } from './llamafactory';
import { DIALECT_LABEL } from './schemas';
import { writeTrl } from './trl';
import type { DialectWrite } from './view';

type Target = Exclude<Dialect, 'native'>;

export interface DialectConversion {
  text: string;
  /** Native keys with no equivalent in the tool (or that did not read back the same). */
  dropped: string[];
  lossless: boolean;
}

const WRITERS: Record<Target, (path: Path, text: string) => DialectWrite | undefined> = {
  axolotl: (path, text) => writeAxolotl({}, path, text),
  llamafactory: writeLlamaFactory,
  trl: writeTrl,
};

/** LoraConfig values that are peft's defaults for causal LM fine-tuning. */
const LORA_DEFAULTS: Record<string, unknown> = { bias: 'none', task_type: 'CAUSAL_LM' };

/** Native sections whose leaves the writers translate one by one. */
const LEAF_SECTIONS = ['lora', 'training', 'quantization'];

/**
 * Native keys a tool may derive rather than spell (Axolotl's compute dtype
 * follows bf16): without a writer they are judged by reading the plan back.
 */
const PLANNED = new Set([
  'quantization.bnb_4bit_quant_type',
  'quantization.bnb_4bit_compute_dtype',
  'quantization.bnb_4bit_use_double_quant',
  'model.dtype',
]);

/** The config of `analysis` (native) written for `dialect`. */
export function fromNativeConfig(
  analysis: Analysis,
  dialect: Target,
): DialectConversion | undefined {
  if (analysis.dialect !== 'native' || !isRecord(analysis.parsed?.value) || !analysis.plan) return;
  const native = analysis.parsed.value;
  const plan = analysis.plan;
  const out: Record<string, unknown> = {};
  const dropped: string[] = [];
  const write = (path: Path, value: unknown) => {
    const text = Array.isArray(value)
      ? `[${value.map((v) => yamlScalar(v as string)).join(', ')}]`
      : yamlScalar(value as string);
    const written = WRITERS[dialect](path, text);
    if (written) out[String(written.path[0])] = parse(written.text);
    else if (!PLANNED.has(path.join('.'))) dropped.push(path.join('.'));
  };

  const model = isRecord(native.model) ? native.model : {};
  out[dialect === 'axolotl' ? 'base_model' : 'model_name_or_path'] = model.name_or_path;
  writeMethod(dialect, plan, out);
  if (typeof model.revision === 'string') out.model_revision = model.revision;
  if (model.attn_implementation !== undefined)
    write(['model', 'attn_implementation'], model.attn_implementation);
  if (dialect === 'trl' && model.dtype !== undefined) out.dtype = model.dtype;

  for (const section of LEAF_SECTIONS) {
    const values = isRecord(native[section]) ? native[section] : {};
    for (const [key, value] of Object.entries(values)) {
      if (section === 'quantization' && (key === 'load_in_4bit' || key === 'load_in_8bit'))
        continue;
      // peft's defaults, which every tool shares: nothing to carry.
      if (section === 'lora' && LORA_DEFAULTS[key] === value) continue;
      write([section, key], value);
    }
  }
  // Native defaults the tool does not share (3 epochs where Axolotl has 1, batch 8
  // where it has 1, peft's alpha 8 where LLaMA-Factory doubles the rank): spelled out.
  for (const [path, value] of planDefaults(plan)) {
    const [section, key] = path;
    const given = isRecord(native[section]) && native[section][key] !== undefined;
    if (!given && value !== undefined) write(path, value);
  }
  const data = isRecord(native.data) ? native.data : {};
  for (const [key, value] of Object.entries(data)) {
    if (key === 'max_length' || key === 'chat_template') write(['data', key], value);
    else if (key === 'packing') out[dialect === 'axolotl' ? 'sample_packing' : 'packing'] = value;
    else if (key === 'train_file') writeDataFile(dialect, data, out, dropped);
    else if (key !== 'format') dropped.push(`data.${key}`);
  }
  // The tools run no evaluation after training of their own (dialects/evaluation.ts).
  for (const key of ['export', 'evaluation', 'launch', 'prepare_model_for_kbit_training'])
    if (key in native && key !== 'prepare_model_for_kbit_training') dropped.push(key);

  const hardware = isRecord(native.hardware) ? native.hardware : {};
  const modeline = [
    `dialect=${dialect}`,
    typeof hardware.gpu === 'string' ? `gpu=${hardware.gpu}` : '',
    typeof hardware.num_gpus === 'number' ? `num_gpus=${hardware.num_gpus}` : '',
  ].filter(Boolean);
  const text = `# tunelab: ${modeline.join(' ')}\n# Converted from a native Tunelab config for ${DIALECT_LABEL[dialect]}.\n${stringify(out)}`;

  // Read it back: a key that changes meaning on the way counts as lost.
  const back = analyze(text, `/converted.${dialect}.yaml`);
  const same = JSON.stringify(withoutWhere(back.plan)) === JSON.stringify(withoutWhere(plan));
  if (!same) dropped.push('(the converted config trains a different plan)');
  return { text, dropped, lossless: dropped.length === 0 };
}

function writeMethod(dialect: Target, plan: Plan, out: Record<string, unknown>): void {
  const method = plan.method;
  const bits = plan.quantization?.bits;
  if (dialect === 'axolotl') {
    if (method === 'lora') out.adapter = 'lora';
    if (method === 'qlora') {
      out.adapter = bits === 8 ? 'lora' : 'qlora';
      out[bits === 8 ? 'load_in_8bit' : 'load_in_4bit'] = true;
    }
  } else if (dialect === 'llamafactory') {
    out.stage = 'sft';
    out.do_train = true;
    out.finetuning_type = method === 'full' ? 'full' : 'lora';
    if (method === 'qlora') out.quantization_bit = bits ?? 4;
  } else {
    if (method !== 'full') out.use_peft = true;
    if (method === 'qlora') out[bits === 8 ? 'load_in_8bit' : 'load_in_4bit'] = true;
  }
}

function writeDataFile(
  dialect: Target,
  data: Record<string, unknown>,
  out: Record<string, unknown>,
  dropped: string[],
): void {
  const file = data.train_file;
  const format = data.format ?? 'messages';
  if (dialect === 'axolotl' && (format === 'messages' || format === 'text')) {
    out.datasets = [{ path: file, type: format === 'messages' ? 'chat_template' : 'completion' }];
  } else if (dialect === 'trl' && format === 'messages') {
    out.datasets = [{ path: 'json', data_files: file }];
  } else dropped.push('data.train_file');
}

function planDefaults(plan: Plan): [[string, string], unknown][] {
  const t = plan.training;
  const defaults: [[string, string], unknown][] = [
    [['training', 'num_train_epochs'], t.epochs],
    [['training', 'per_device_train_batch_size'], t.microBatch],
    [['training', 'gradient_accumulation_steps'], t.gradAccum],
    [['training', 'optim'], t.optimizer],
    [['training', 'gradient_checkpointing'], t.gradientCheckpointing],
    [['training', 'bf16'], t.bf16],
    [['data', 'max_length'], plan.data.maxLength],
  ];
  if (plan.lora) {
    defaults.push(
      [['lora', 'r'], plan.lora.r],
      [['lora', 'lora_alpha'], plan.lora.alpha],
      [['lora', 'lora_dropout'], plan.lora.dropout],
    );
  }
  return defaults;
}

function withoutWhere(plan: Plan | undefined): unknown {
  if (!plan) return undefined;
  const copy: Partial<Plan> = { ...plan };
  delete copy.where;
  return copy;
}

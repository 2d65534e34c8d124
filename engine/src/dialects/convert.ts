// "Convert to native config": the native config a dialect config amounts to,
// as YAML, with the tool's defaults written out so the run stays the same.
// Lossless only when every key that changes training has a native home: the
// keys without one are listed, and the conversion is refused while any is set.

import { stringify } from 'yaml';
import type { Analysis } from '../engine';
import { isRecord } from '../parse';
import type { Dialect } from '../types';
import { DIALECT_LABEL } from './schemas';

/** Keys that do not change what is trained (bookkeeping, caches, logging UI), per tool. */
const INERT: Record<Exclude<Dialect, 'native'>, readonly string[]> = {
  axolotl: [
    'strict',
    'model_type',
    'tokenizer_type',
    'type_of_model',
    'dataset_prepared_path',
    'val_set_size',
    'wandb_project',
    'wandb_entity',
    'wandb_watch',
    'wandb_name',
    'wandb_log_model',
    'wandb_run_id',
    'logging_steps',
    'evals_per_epoch',
    'saves_per_epoch',
    'save_steps',
    'eval_steps',
    'debug',
    'resume_from_checkpoint',
    'local_rank',
    'lora_model_dir',
    'lora_fan_in_fan_out',
    'xformers_attention',
    'tf32',
    'special_tokens',
    'hub_model_id',
  ],
  llamafactory: [
    'stage',
    'do_train',
    'dataset_dir',
    'max_samples',
    'overwrite_cache',
    'preprocessing_num_workers',
    'dataloader_num_workers',
    'plot_loss',
    'overwrite_output_dir',
    'save_only_model',
    'report_to',
    'ddp_timeout',
    'resume_from_checkpoint',
    'val_size',
    'per_device_eval_batch_size',
    'eval_strategy',
    'eval_steps',
    'logging_steps',
    'save_steps',
  ],
  trl: ['dataset_train_split', 'dataset_test_split', 'logging_steps', 'report_to', 'push_to_hub'],
};

export interface NativeConversion {
  /** The native config as YAML (also when not lossless, for a preview). */
  text: string;
  /** Keys of the dialect config that have no native equivalent and are set. */
  dropped: string[];
  /** Why the result would not run as is, besides dropped keys (no local data file...). */
  missing: string[];
  lossless: boolean;
}

const ORDER = [
  'method',
  'model',
  'quantization',
  'prepare_model_for_kbit_training',
  'lora',
  'data',
  'training',
  'hardware',
  'launch',
];

/** The native config `analysis` (of another dialect) amounts to. */
export function toNativeConfig(analysis: Analysis): NativeConversion | undefined {
  const view = analysis.view;
  if (!view || !analysis.dialect || analysis.dialect === 'native') return undefined;
  const value = structuredClone(view.value);
  const used = new Set(view.sources.map((s) => String(s.dialect[0])));
  const inert = new Set(INERT[view.dialect]);
  const dropped = Object.entries(view.config)
    .filter(([key, v]) => v !== null && v !== undefined && !used.has(key) && !inert.has(key))
    // A flag set to false restates the default off: nothing is lost without it.
    .filter(([, v]) => v !== false)
    .map(([key]) => key);
  const missing: string[] = [];
  const data = isRecord(value.data) ? value.data : {};
  if (typeof data.train_file !== 'string') {
    missing.push(
      'a local JSON Lines training file (`data.train_file`): the dataset is not a local .jsonl file',
    );
  }
  if (!value.method)
    missing.push(
      `a method (${DIALECT_LABEL[view.dialect]}'s adapter is none of full, LoRA, QLoRA)`,
    );
  const ordered: Record<string, unknown> = {};
  for (const key of ORDER) if (value[key] !== undefined) ordered[key] = value[key];
  const article = view.dialect === 'axolotl' ? 'an' : 'a';
  const header = `# Converted from ${article} ${DIALECT_LABEL[view.dialect]} config by Tunelab, with ${DIALECT_LABEL[view.dialect]}'s defaults written out.\n`;
  const notes = [
    ...dropped.map((k) => `#   not converted: ${k}`),
    ...missing.map((m) => `#   needs ${m}`),
  ];
  const text = header + (notes.length ? notes.join('\n') + '\n' : '') + stringify(ordered);
  return { text, dropped, missing, lossless: dropped.length === 0 && missing.length === 0 };
}

/** The file name of the converted config next to the original: `cfg.yml` → `cfg.finetune.yaml`. */
export function nativeFileName(fileName: string): string {
  return fileName.replace(/(\.finetune)?\.ya?ml$/i, '') + '.finetune.yaml';
}

/** The file name of a config converted for `dialect`: `run.finetune.yaml` → `run.axolotl.yml`. */
export function dialectFileName(fileName: string, dialect: Exclude<Dialect, 'native'>): string {
  const base = fileName.replace(/(\.finetune)?\.ya?ml$/i, '');
  return dialect === 'axolotl' ? `${base}.axolotl.yml` : `${base}.${dialect}.yaml`;
}

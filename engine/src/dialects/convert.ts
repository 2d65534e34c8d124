// "Convert to native config": the native config a dialect config amounts to,
// as YAML, with the tool's defaults written out so the run stays the same.
// Lossless only when every key that changes training has a native home: the
// keys without one are listed, and the conversion is refused while any is set.

import { stringify } from 'yaml';
import type { Analysis } from '../engine';
import { isRecord } from '../parse';
import type { Dialect } from '../types';
import { axolotlUnmappedMetrics } from './evaluation';
import { DIALECT_LABEL } from './schemas';

/** Keys that do not change what is trained (bookkeeping, caches, logging UI), per tool. */
const INERT: Record<Exclude<Dialect, 'native'>, readonly string[]> = {
  axolotl: [
    'strict',
    'model_type',
    'tokenizer_type',
    'type_of_model',
    'dataset_prepared_path',
    'wandb_project',
    'wandb_entity',
    'wandb_watch',
    'wandb_name',
    'wandb_log_model',
    'wandb_run_id',
    'logging_steps',
    'save_steps',
    'eval_steps',
    'debug',
    'resume_from_checkpoint',
    'local_rank',
    'lora_model_dir',
    'lora_fan_in_fan_out',
    'xformers_attention',
    'tf32',
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
    'logging_steps',
  ],
  trl: ['dataset_train_split', 'dataset_test_split', 'logging_steps', 'report_to', 'push_to_hub'],
};

/** Why a tool key has no native spelling, where the bare "no equivalent" would mislead. */
export const DROP_REASONS: Record<string, string> = {
  val_set_size:
    'a held-out fraction of the training file; native evaluates a separate data.eval_file (Axolotl: test_datasets)',
  evals_per_epoch:
    'evaluation needs data.eval_file (Axolotl: test_datasets), which this config lacks',
  val_size:
    'a held-out fraction of the training data; native evaluates a separate data.eval_file (LLaMA-Factory: eval_dataset)',
  eval_strategy: 'evaluation needs data.eval_file, which this config lacks',
  eval_steps: 'evaluation needs data.eval_file, which this config lacks',
  per_device_eval_batch_size: 'evaluation needs data.eval_file, which this config lacks',
  do_bench_eval:
    "Axolotl's own multiple-choice benchmark during training; native runs lm-evaluation-harness tasks after training instead (evaluation.lm_eval.tasks)",
  bench_dataset:
    "the data of Axolotl's own benchmark (do_bench_eval); native runs lm-evaluation-harness tasks instead (evaluation.lm_eval.tasks)",
  bench_split: "a split of Axolotl's benchmark data (do_bench_eval), which native does not run",
  eval_table_size:
    'a table of predictions logged to Weights & Biases; native keeps sample replies in eval.json (evaluation.task.max_samples sets how many prompts are answered)',
  eval_max_new_tokens:
    'the length of the Weights & Biases prediction table without do_causal_lm_eval; native: evaluation.generation.max_new_tokens',
  compute_accuracy:
    'token-level accuracy at evaluation, which native does not compute (it measures eval loss and perplexity, and exact_match on generated replies)',
  special_tokens:
    "native has no tokenizer special-token key (model.add_tokens adds new tokens): the tokenizer's own are used",
};

export interface NativeConversion {
  /** The native config as YAML (also when not lossless, for a preview). */
  text: string;
  /** Keys of the dialect config that have no native equivalent and are set. */
  dropped: string[];
  /** Why the result would not run as is, besides dropped keys (no local data file...). */
  missing: string[];
  /** Keys kept in meaning under another native spelling: `warmup_ratio: 0.03 → training.warmup_steps: 0.03 (…)`. */
  changed: string[];
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
  'evaluation',
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
  const changed: string[] = [];
  const explained = keepMeanings(view.dialect, view.config, value, changed);
  const dropped = Object.entries(view.config)
    .filter(([key]) => !explained.has(key))
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
  return {
    text,
    dropped,
    missing,
    changed,
    lossless: dropped.length === 0 && missing.length === 0,
  };
}

const section = (value: Record<string, unknown>, name: string): Record<string, unknown> => {
  if (!isRecord(value[name])) value[name] = {};
  return value[name] as Record<string, unknown>;
};

/**
 * Keys whose meaning the native config keeps under another spelling; each is
 * described in `changed`. Returns the tool keys so handled (not dropped).
 */
function keepMeanings(
  dialect: Exclude<Dialect, 'native'>,
  config: Record<string, unknown>,
  value: Record<string, unknown>,
  changed: string[],
): Set<string> {
  const handled = new Set<string>();
  const training = section(value, 'training');
  // transformers 5 removed warmup_ratio: a warmup_steps below 1 is the ratio.
  if (typeof training.warmup_ratio === 'number') {
    const ratio = training.warmup_ratio;
    delete training.warmup_ratio;
    if (training.warmup_steps === undefined && ratio > 0 && ratio < 1) {
      training.warmup_steps = ratio;
      changed.push(
        `warmup_ratio: ${ratio} → training.warmup_steps: ${ratio} (below 1 it is a ratio; transformers 5 removed warmup_ratio)`,
      );
    }
  }
  const data = section(value, 'data');
  if (dialect === 'llamafactory') {
    // LLaMA-Factory passes these to TrainingArguments under the same names.
    const same = (key: string) => {
      if (config[key] === undefined) return;
      training[key] ??= config[key];
      handled.add(key);
    };
    same('save_steps');
    // Evaluation settings keep their meaning only with eval data to run them on.
    if (typeof data.eval_file === 'string')
      for (const key of ['per_device_eval_batch_size', 'eval_strategy', 'eval_steps']) same(key);
    // A prediction run (mapped onto `evaluation`) is what do_predict asks for.
    if (isRecord(value.evaluation) && config.do_predict === true) handled.add('do_predict');
  }
  if (dialect !== 'axolotl') return handled;
  const unmapped = axolotlUnmappedMetrics(config);
  if (unmapped.length)
    changed.push(
      `do_causal_lm_eval: true → evaluation.task.metrics (computed once after training, not at every evaluation; ${unmapped.join(', ')}: no Tunelab metric, not computed)`,
    );
  // Axolotl masks the prompt unless train_on_inputs: true; native says it as completion_only_loss.
  if (data.completion_only_loss === undefined) {
    data.completion_only_loss = config.train_on_inputs !== true;
    if (config.train_on_inputs !== undefined)
      changed.push(
        `train_on_inputs: ${String(config.train_on_inputs)} → data.completion_only_loss: ${String(data.completion_only_loss)}`,
      );
    handled.add('train_on_inputs');
  }
  // Per-epoch counts become step ratios (a *_steps below 1 is a fraction of all steps).
  const epochs = typeof training.num_train_epochs === 'number' ? training.num_train_epochs : 1;
  const perEpoch = (key: string, strategy: string, steps: string) => {
    const n = config[key];
    if (typeof n !== 'number' || n <= 0 || training[steps] !== undefined) return;
    training[strategy] = 'steps';
    training[steps] = Number((1 / (n * epochs)).toPrecision(4));
    changed.push(
      `${key}: ${n} → training.${strategy}: steps, training.${steps}: ${training[steps]} (a ratio of all steps over ${epochs} epoch${epochs === 1 ? '' : 's'})`,
    );
    handled.add(key);
  };
  perEpoch('saves_per_epoch', 'save_strategy', 'save_steps');
  // Evaluating needs eval data: a held-out split (val_set_size) has no native spelling.
  if (typeof data.eval_file === 'string')
    perEpoch('evals_per_epoch', 'eval_strategy', 'eval_steps');
  return handled;
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

// What the estimate needs beyond the Plan: whether and how the run evaluates
// (eval_strategy, per_device_eval_batch_size) and the token lengths of the
// data it trains and evaluates on. Read from the config and the data summary
// the analysis already has; a re-estimate of a changed plan (a quick fix, a
// method conversion) reuses them, so every figure stands on the same data.

import { CHARS_PER_TOKEN } from '../data/inspect';
import { EVALUATION_DEFAULTS } from '../nativePlan';
import { tokenSourceText } from '../data/tokenCount';
import type { DataFileSummary, DataSummary } from '../data/types';
import { isRecord } from '../parse';

/** Token lengths of one data file as the analysis read them. */
export interface SampleLengths {
  /** Estimated tokens of each row read (chat markup included), ascending. */
  sorted: readonly number[];
  /** Only the first part of the file was read (it is larger than the read bound). */
  partial: boolean;
}

export interface RunInputs {
  /** The config evaluates: `data.eval_file` set and `eval_strategy` other than `no`. */
  evaluates: boolean;
  /** `per_device_eval_batch_size` as written; undefined: the runner's default, the training micro-batch. */
  evalBatch: number | undefined;
  /** Token lengths of `data.train_file`; undefined when it could not be read. */
  train: SampleLengths | undefined;
  /** Token lengths of `data.eval_file`; undefined when it could not be read. */
  eval: SampleLengths | undefined;
  /**
   * Token lengths of the rows the forgetting measure scores after training:
   * the first `evaluation.forgetting.max_samples` rows of its file
   * (`evaluation.forgetting.file`, else `data.general_data.file`); undefined
   * when it could not be read.
   */
  forgetting?: SampleLengths;
  /** Characters per token of the estimate, when no tokenizer counted the lengths. */
  charsPerToken: number;
  /**
   * Where the training data's token counts come from: `tokenizer: <path>` (the
   * model's tokenizer.json) or `chars-per-token 3.6`. Absent: the estimate.
   */
  tokenSource?: string;
  /** Why the training data's lengths are missing, when they are. */
  trainUnreadable?: string;
}

// The data reader returns the same summary while a file is unchanged: sort its
// lengths once, not on every analysis (every keystroke in the editor).
const sortedLengths = new WeakMap<DataFileSummary, SampleLengths>();

function lengthsOf(file: DataFileSummary | undefined): SampleLengths | undefined {
  if (!file?.exists || file.error || file.tokenLengths.length === 0) return undefined;
  let lengths = sortedLengths.get(file);
  if (!lengths) {
    lengths = { sorted: [...file.tokenLengths].sort((a, b) => a - b), partial: file.partial };
    sortedLengths.set(file, lengths);
  }
  return lengths;
}

// The forgetting measure scores the first max_samples rows: their lengths, per file and count.
const firstLengths = new WeakMap<DataFileSummary, { count: number; lengths: SampleLengths }>();

function firstLengthsOf(
  file: DataFileSummary | undefined,
  count: number,
): SampleLengths | undefined {
  if (!file?.exists || file.error || file.tokenLengths.length === 0) return undefined;
  const hit = firstLengths.get(file);
  if (hit?.count === count) return hit.lengths;
  const lengths = {
    sorted: file.tokenLengths.slice(0, count).sort((a, b) => a - b),
    // The part read holds every row scored unless it has fewer than `count`.
    partial: file.partial && file.tokenLengths.length < count,
  };
  firstLengths.set(file, { count, lengths });
  return lengths;
}

/** `evaluation.forgetting`'s file (else the general file, its default) and how many rows it scores. */
function forgettingLengths(
  root: Record<string, unknown>,
  data: DataSummary | undefined,
): SampleLengths | undefined {
  const evaluation = isRecord(root.evaluation) ? root.evaluation : {};
  const forgetting = isRecord(evaluation.forgetting) ? evaluation.forgetting : {};
  const ownFile = typeof forgetting.file === 'string' && forgetting.file !== '';
  // A file of its own that was not read (a relative path in an unsaved config) is not the general file.
  const file = data?.forgetting ?? (ownFile ? undefined : data?.general);
  const samples = forgetting.max_samples;
  const count =
    typeof samples === 'number' && Number.isInteger(samples) && samples >= 1
      ? samples
      : EVALUATION_DEFAULTS.forgettingMaxSamples;
  return firstLengthsOf(file, count);
}

function whyUnreadable(name: string | undefined, file: DataFileSummary | undefined): string {
  if (!name) return 'data.train_file not set';
  if (!file) return `${name} not read (unsaved config: relative path)`;
  if (!file.exists) return `${name} not found`;
  if (file.error) return `${name} could not be read`;
  return `${name} holds no readable row`;
}

/**
 * The run inputs of a native config (`config` is the parsed YAML value, or a
 * dialect's native view of it) and the data summary of its files.
 */
export function runInputsOf(config: unknown, data: DataSummary | undefined): RunInputs {
  const root = isRecord(config) ? config : {};
  const training = isRecord(root.training) ? root.training : {};
  const dataSection = isRecord(root.data) ? root.data : {};
  const strategy = training.eval_strategy ?? training.evaluation_strategy;
  const evalFile = typeof dataSection.eval_file === 'string' && dataSection.eval_file !== '';
  const batch = training.per_device_eval_batch_size ?? training.per_gpu_eval_batch_size;
  const train = lengthsOf(data?.train);
  const trainFile = typeof dataSection.train_file === 'string' ? dataSection.train_file : undefined;
  return {
    // Transformers' default strategy is `no`: an eval file alone is never evaluated.
    evaluates: evalFile && (strategy === 'steps' || strategy === 'epoch'),
    evalBatch:
      typeof batch === 'number' && Number.isInteger(batch) && batch >= 1 ? batch : undefined,
    train,
    eval: lengthsOf(data?.eval),
    forgetting: forgettingLengths(root, data),
    charsPerToken: CHARS_PER_TOKEN,
    tokenSource: tokenSourceText(data?.train?.tokenSource),
    ...(train ? {} : { trainUnreadable: whyUnreadable(trainFile, data?.train) }),
  };
}

/**
 * E[max of k rows drawn from the data] from its sorted lengths: each length
 * is the maximum with probability (i/n)^k − ((i−1)/n)^k. Rows longer than
 * `cap` are truncated to it.
 */
export function expectedLongestOf(sorted: readonly number[], k: number, cap: number): number {
  const n = sorted.length;
  if (n === 0) return cap;
  let expected = 0;
  for (let i = 1; i <= n; i++) {
    const p = (i / n) ** k - ((i - 1) / n) ** k;
    expected += Math.min(sorted[i - 1], cap) * p;
  }
  return expected;
}

/** The longest row of the data, truncated at `cap`: the batch that sets the peak. */
export function longestOf(lengths: SampleLengths, cap: number): number {
  return Math.min(lengths.sorted[lengths.sorted.length - 1], cap);
}

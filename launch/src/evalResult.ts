// The result of an evaluation (docs/evaluation.md, `eval.json` format 1): read
// from the runner's `eval_result` event as the log streams by and kept beside
// the run record (`.tunelab/runs/<id>.eval.json`), so `tunelab compare` and
// the Runs view never go back to the host for it.

import * as fs from 'node:fs';
import { parseLogLine, type RunnerEvent } from './logParser';
import type { RunRecord, RunStore } from './runRecord';

export type Verdict = 'pass' | 'warn' | 'fail';

export interface MissingMetric {
  metric: string;
  package?: string;
  install?: string;
}

export interface EvalSample {
  prompt?: string;
  reference?: string;
  prediction?: string;
  [metric: string]: unknown;
}

export interface LmEvalTask {
  metric?: string;
  base?: number | null;
  tuned?: number | null;
  change?: number | null;
}

export interface EvalResult {
  format: number;
  created?: string;
  config_hash?: string;
  model?: {
    base?: string;
    method?: string;
    kind?: string;
    path?: string;
    checkpoint?: number | null;
  };
  versions?: Record<string, string>;
  seconds?: Record<string, number | null>;
  task?: {
    file?: string;
    loss?: number | null;
    perplexity?: number | null;
    tokens?: number;
    samples?: number;
    generation?: {
      samples?: number;
      metrics?: Record<string, number | null>;
      missing?: MissingMetric[];
    } | null;
  } | null;
  forgetting?: {
    file?: string;
    samples?: number;
    base?: { loss?: number | null; bits_per_byte?: number | null };
    tuned?: { loss?: number | null; bits_per_byte?: number | null };
    change?: number | null;
    threshold?: number;
    verdict?: Verdict;
    base_cached?: boolean;
  } | null;
  lm_eval?: {
    tasks?: Record<string, LmEvalTask>;
    skipped?: string;
    install?: string;
    base_cached?: boolean;
  } | null;
  samples?: EvalSample[];
}

export const EVAL_RESULT_EVENT = 'eval_result';

/** Whether `value` looks like an eval.json object (format 1). */
export function isEvalResult(value: unknown): value is EvalResult {
  return (
    !!value &&
    typeof value === 'object' &&
    !Array.isArray(value) &&
    (value as EvalResult).format === 1
  );
}

/**
 * The eval.json object an `eval_result` event carries: its fields spread over
 * the event (the runner's `emit(kind, **fields)`), or under `result`.
 */
export function evalResultOfEvent(event: RunnerEvent): EvalResult | undefined {
  if (event.event !== EVAL_RESULT_EVENT) return undefined;
  if (isEvalResult(event.result)) return event.result;
  const { event: _kind, time: _time, v: _version, ...payload } = event;
  return isEvalResult(payload) ? payload : undefined;
}

/** The eval.json object in one log line, if the line is an `eval_result` event. */
export function evalResultOfLine(line: string): EvalResult | undefined {
  if (!line.includes(EVAL_RESULT_EVENT)) return undefined; // cheap: every line comes here
  for (const signal of parseLogLine(line))
    if (signal.kind === 'event') {
      const result = evalResultOfEvent(signal.event);
      if (result) return result;
    }
  return undefined;
}

export function evalResultPath(store: RunStore, id: string): string {
  return store.recordPath(id).replace(/\.json$/, '.eval.json');
}

export function saveEvalResult(store: RunStore, id: string, result: EvalResult): void {
  store.ensureDir();
  const file = evalResultPath(store, id);
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, JSON.stringify(result, null, 2) + '\n', { mode: 0o600 });
  fs.renameSync(temp, file);
}

export function readEvalFile(file: string): EvalResult {
  const value: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
  if (!isEvalResult(value))
    throw new Error(`${file} is not an eval.json of format 1 (docs/evaluation.md)`);
  return value;
}

/** Whether the run's log is a file on this machine (local runs, SLURM submitted here). */
export function logIsLocal(record: RunRecord): boolean {
  return !record.ssh && record.logPath !== '' && fs.existsSync(record.logPath);
}

/** How much of a log's end is searched: the result comes last (then only `end`, export). */
const LOG_TAIL_BYTES = 4 * 1024 * 1024;

/** The last `bytes` of a file on this machine (the first line may be cut); undefined when unreadable. */
export function logTail(file: string, bytes: number): string | undefined {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const length = Math.min(size, bytes);
      const tail = Buffer.alloc(length);
      fs.readSync(fd, tail, 0, length, size - length);
      return tail.toString('utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return undefined;
  }
}

/** The last `eval_result` near the end of a log file on this machine. */
export function evalResultInLogFile(file: string): EvalResult | undefined {
  const text = logTail(file, LOG_TAIL_BYTES);
  if (text === undefined) return undefined;
  let found: EvalResult | undefined;
  let at = text.indexOf(EVAL_RESULT_EVENT);
  while (at !== -1) {
    const start = text.lastIndexOf('\n', at) + 1;
    const end = text.indexOf('\n', at);
    found = evalResultOfLine(text.slice(start, end === -1 ? text.length : end)) ?? found;
    at = end === -1 ? -1 : text.indexOf(EVAL_RESULT_EVENT, end);
  }
  return found;
}

/**
 * The run's stored evaluation; for a run whose log lies on this machine and
 * was never streamed (a detached local eval), read from the log once and stored.
 */
export function loadEvalResult(store: RunStore, record: RunRecord): EvalResult | undefined {
  try {
    return readEvalFile(evalResultPath(store, record.id));
  } catch {
    // Not stored (yet): a local log may hold it.
  }
  if (!logIsLocal(record)) return undefined;
  const found = evalResultInLogFile(record.logPath);
  if (found) saveEvalResult(store, record.id, found);
  return found;
}

/** A run's evaluation as the Runs view shows it: its own, else its newest eval run's (no host asked). */
export function latestEvaluation(
  store: RunStore,
  record: RunRecord,
  records: readonly RunRecord[],
): EvalResult | undefined {
  const own = loadEvalResult(store, record);
  if (own || record.kind === 'eval') return own;
  for (const evaluation of records)
    if (evaluation.evalOf === record.id) {
      const found = loadEvalResult(store, evaluation);
      if (found) return found;
    }
  return undefined;
}

/** Feeds streamed lines; stores the run's result when its `eval_result` line passes. */
export class EvalResultCapture {
  result: EvalResult | undefined;

  constructor(
    private readonly store: RunStore,
    private readonly id: string,
  ) {}

  line(text: string): void {
    const result = evalResultOfLine(text);
    if (!result) return;
    this.result = result;
    saveEvalResult(this.store, this.id, result);
  }
}

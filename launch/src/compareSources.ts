// What `tunelab compare RUN…` and the Compare view compare: each RUN is a run
// id (or a unique prefix) in the workspace's records, or a path to an
// eval.json. A run's evaluation is the one kept in its record (evalResult.ts);
// its config and training loss curve are read from this machine.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CompareInput } from './compare';
import {
  EvalResultCapture,
  loadEvalResult,
  logIsLocal,
  readEvalFile,
  type EvalResult,
} from './evalResult';
import { trainingRunOf } from './evalRun';
import { readRunLog } from './follow';
import { adapterFor, refreshRun } from './launcher';
import { ProgressModel, type ChartPoint } from './progressModel';
import { isFinal, type RunRecord, type RunStore } from './runRecord';

/** A RUN that names nothing comparable: the message says which and why. */
export class CompareSourceError extends Error {}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** The chart points of a log's text (runner events or plain Trainer output). */
export function pointsOfLog(text: string): ChartPoint[] {
  const model = new ProgressModel();
  for (const line of text.split('\n')) if (line) model.applyLine(line);
  return model.points;
}

function configInput(file: string): CompareInput['config'] {
  const text = readText(file);
  return text === undefined ? undefined : { path: file, text };
}

/**
 * An eval.json file: its label is the file's stem (`lora.eval.json` → `lora`,
 * `runs/x/eval.json` → `x`); its config `<stem>.finetune.yaml` beside it or
 * the runner's copy `tunelab-config.yaml`; its curve the runner's `events.jsonl`.
 */
export function inputFromEvalFile(file: string): CompareInput {
  let result: EvalResult;
  try {
    result = readEvalFile(file);
  } catch (err) {
    throw new CompareSourceError(`cannot read ${file}: ${(err as Error).message}`);
  }
  const dir = path.dirname(path.resolve(file));
  const base = path.basename(file);
  const stem = base === 'eval.json' ? path.basename(dir) : base.replace(/(\.eval)?\.json$/i, '');
  const configFile = [
    path.join(dir, `${stem}.finetune.yaml`),
    path.join(dir, `${stem}.finetune.yml`),
    path.join(dir, 'tunelab-config.yaml'),
  ].find((candidate) => fs.existsSync(candidate));
  const events = readText(path.join(dir, 'events.jsonl'));
  return {
    label: stem,
    source: file,
    result,
    config: configFile ? configInput(configFile) : undefined,
    points: events === undefined ? undefined : pointsOfLog(events),
  };
}

/**
 * Reads an ended run's log once from its host for the `eval_result` no stream
 * kept (a detached remote evaluation never followed); stores it when found.
 */
async function fetchEvalResult(
  store: RunStore,
  record: RunRecord,
  sshConfigFile: string | undefined,
): Promise<EvalResult | undefined> {
  if (!record.runDir || logIsLocal(record)) return undefined;
  try {
    // Its state as recorded may be stale (nobody followed it): ask the host.
    if (!isFinal(record.state)) record = await refreshRun(store, record, sshConfigFile);
  } catch {
    return undefined;
  }
  if (!isFinal(record.state)) return undefined;
  const capture = new EvalResultCapture(store, record.id);
  try {
    await readRunLog(record, adapterFor(record.target, sshConfigFile), {
      fromOffset: 0,
      onLine: (text) => capture.line(text),
    });
  } catch {
    return undefined; // host unreachable: reported as "no evaluation" by the caller
  }
  return capture.result;
}

/** The evaluation of a run: its own (`evaluation.when: end`, or an eval run), else its newest eval run's. */
async function evaluationOf(
  store: RunStore,
  record: RunRecord,
  sshConfigFile: string | undefined,
): Promise<EvalResult | undefined> {
  const own =
    loadEvalResult(store, record) ?? (await fetchEvalResult(store, record, sshConfigFile));
  if (own || record.kind === 'eval') return own;
  for (const evaluation of store.list().filter((r) => r.evalOf === record.id)) {
    const found =
      loadEvalResult(store, evaluation) ??
      (await fetchEvalResult(store, evaluation, sshConfigFile));
    if (found) return found;
  }
  return undefined;
}

/** A recorded run as a comparison input; throws CompareSourceError when it has no evaluation. */
export async function inputFromRun(
  store: RunStore,
  record: RunRecord,
  sshConfigFile?: string,
): Promise<CompareInput> {
  const result = await evaluationOf(store, record, sshConfigFile);
  if (!result)
    throw new CompareSourceError(
      `run ${record.id} has no evaluation yet; start one with \`tunelab eval ${record.evalOf ?? record.id}\``,
    );
  const training = trainingRunOf(store, record);
  const log = training && logIsLocal(training) ? readText(training.logPath) : undefined;
  return {
    label: record.id,
    source: record.id,
    result,
    config: configInput(record.config),
    points: log === undefined ? undefined : pointsOfLog(log),
  };
}

/** RUN as the CLI takes it: an existing `.json` file, else a run id or unique prefix. */
export async function resolveCompareInput(
  store: RunStore,
  run: string,
  cwd: string,
  sshConfigFile?: string,
): Promise<CompareInput> {
  const file = path.resolve(cwd, run);
  if (run.endsWith('.json') && fs.existsSync(file) && fs.statSync(file).isFile())
    return inputFromEvalFile(file);
  const record = store.find(run);
  if (!record) {
    const matches = store.list().filter((r) => r.id.startsWith(run)).length;
    throw new CompareSourceError(
      matches > 1
        ? `${run} matches ${matches} runs; give more of the id`
        : `no run ${run} in ${store.dir} and no eval.json file of that name`,
    );
  }
  return inputFromRun(store, record, sshConfigFile);
}

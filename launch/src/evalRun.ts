// `tunelab eval RUN`: evaluates a recorded training run on that run's own
// target (local, ssh, SLURM) through the same launch path as a training
// (launchRun), with the runner's `evaluate` as the job. The evaluation is a
// run record of its own (kind `eval`, `evalOf` the training run), so it
// streams, re-attaches and stops like any run.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { RUNNER_MODULE } from './jobScript';
import { loadLaunchSpec, type LaunchSpec } from './launchConfig';
import { launchRun, type LaunchOptions } from './launcher';
import { localPython } from './localTarget';
import type { RunRecord, RunStore } from './runRecord';

export interface EvalOptions extends Omit<LaunchOptions, 'target' | 'jobArgv' | 'evalOf'> {
  /** Evaluate `checkpoint-N/` instead of the final adapter or model. */
  checkpoint?: number;
}

/**
 * `python -m tunelab_runner evaluate CONFIG [--checkpoint N]`, run in the
 * config's directory (where every target starts its job). Evaluation runs
 * in one process: no torchrun, whatever the training's `distributed` says.
 */
export function evaluateArgv(
  spec: Pick<LaunchSpec, 'python' | 'configDir' | 'configPath' | 'target'>,
  checkpoint?: number,
): string[] {
  const python = spec.target === 'local' ? localPython(spec.python, spec.configDir) : spec.python;
  const argv = [python, '-m', RUNNER_MODULE, 'evaluate', path.basename(spec.configPath)];
  if (checkpoint !== undefined) argv.push('--checkpoint', String(checkpoint));
  return argv;
}

/**
 * Local files the `evaluation:` section names (forgetting data, reply schema),
 * relative to the config: synced beside it to a remote host like the data.
 */
export function evaluationFiles(spec: Pick<LaunchSpec, 'parsed' | 'configDir'>): string[] {
  const section = (spec.parsed.value as { evaluation?: unknown }).evaluation;
  if (!section || typeof section !== 'object') return [];
  const evaluation = section as {
    forgetting?: { file?: unknown };
    task?: { json_schema?: unknown };
  };
  return [evaluation.forgetting?.file, evaluation.task?.json_schema]
    .filter((value): value is string => typeof value === 'string' && value !== '')
    .map((value) => path.resolve(spec.configDir, value))
    .filter((file) => fs.existsSync(file) && fs.statSync(file).isFile());
}

/** The training run an evaluation record belongs to (itself for a training run). */
export function trainingRunOf(store: RunStore, record: RunRecord): RunRecord | undefined {
  return record.kind === 'eval' && record.evalOf ? store.load(record.evalOf) : record;
}

/** Starts the evaluation of `training` on its target; returns the new run's record. */
export async function startEvaluation(
  training: RunRecord,
  options: EvalOptions,
): Promise<RunRecord> {
  if (training.kind === 'eval')
    throw new Error(
      `run ${training.id} is an evaluation; evaluate its training run ${training.evalOf ?? ''}`.trim(),
    );
  const spec = loadLaunchSpec(training.config, training.target);
  if (spec.dialect !== 'native')
    throw new Error(
      `evaluation reads Tunelab's own configs; ${path.basename(spec.configPath)} is a ${spec.dialect} config`,
    );
  const { checkpoint, ...launch } = options;
  return launchRun(
    training.config,
    {
      ...launch,
      target: training.target,
      jobArgv: evaluateArgv(spec, checkpoint),
      extraFiles: [...(launch.extraFiles ?? []), ...evaluationFiles(spec)],
      evalOf: training.id,
    },
    spec,
  );
}

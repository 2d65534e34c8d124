// `tunelab eval RUN`: evaluates a recorded training run on that run's own
// target (local, ssh, SLURM) through the same launch path as a training
// (runnerCommand.ts → launchRun), with the runner's `evaluate` as the job. The
// evaluation is a run record of its own (kind `eval`, `evalOf` the training
// run), so it streams, re-attaches and stops like any run.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadLaunchSpec, type LaunchSpec } from './launchConfig';
import type { RunRecord } from './runRecord';
import { runnerArgv, startRunnerCommand, type RunnerCommandOptions } from './runnerCommand';

export { trainingRunOf } from './runnerCommand';

export interface EvalOptions extends RunnerCommandOptions {
  /** Evaluate `checkpoint-N/` instead of the final adapter or model. */
  checkpoint?: number;
}

/** `python -m tunelab_runner evaluate CONFIG [--checkpoint N]` (runnerArgv). */
export function evaluateArgv(
  spec: Pick<LaunchSpec, 'python' | 'configDir' | 'configPath' | 'target'>,
  checkpoint?: number,
): string[] {
  return runnerArgv(spec, 'evaluate', checkpointArgs(checkpoint));
}

export function checkpointArgs(checkpoint: number | undefined): string[] {
  return checkpoint === undefined ? [] : ['--checkpoint', String(checkpoint)];
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

/** Starts the evaluation of `training` on its target; returns the new run's record. */
export async function startEvaluation(
  training: RunRecord,
  options: EvalOptions,
): Promise<RunRecord> {
  const { checkpoint, ...launch } = options;
  const spec = loadLaunchSpec(training.config, training.target);
  return startRunnerCommand(
    training,
    {
      kind: 'eval',
      command: 'evaluate',
      args: checkpointArgs(checkpoint),
      extraFiles: evaluationFiles(spec),
    },
    launch,
    spec,
  );
}

// A runner command (`evaluate`, `export`) on a recorded training run's own
// target (local, ssh, SLURM), through the same launchRun as the training:
// recorded as a run of its own, linked to the training run, so it streams,
// re-attaches and stops like any run. evalRun.ts and `tunelab export` use it.

import * as path from 'node:path';
import { RUNNER_MODULE } from './jobScript';
import { loadLaunchSpec, type LaunchSpec } from './launchConfig';
import { launchRun, type LaunchOptions } from './launcher';
import { localPython } from './localTarget';
import { probeHasNoModel } from './paceProbe';
import { RunStore, type RunRecord } from './runRecord';

export type RunnerCommandKind = 'eval' | 'export';

export type RunnerCommandOptions = Omit<LaunchOptions, 'target' | 'jobArgv' | 'evalOf'>;

export interface RunnerJob {
  kind: RunnerCommandKind;
  /** The runner's subcommand: `python -m tunelab_runner COMMAND CONFIG ARGS…`. */
  command: string;
  args: string[];
  /** Local files the job reads beside the config (synced to a remote host). */
  extraFiles?: string[];
}

/**
 * `python -m tunelab_runner COMMAND CONFIG ARGS…`, run in the config's
 * directory (where every target starts its job), in one process: no torchrun,
 * whatever the training's `distributed` says.
 */
export function runnerArgv(
  spec: Pick<LaunchSpec, 'python' | 'configDir' | 'configPath' | 'target'>,
  command: string,
  args: readonly string[] = [],
): string[] {
  const python = spec.target === 'local' ? localPython(spec.python, spec.configDir) : spec.python;
  return [python, '-m', RUNNER_MODULE, command, path.basename(spec.configPath), ...args];
}

export function exportOf(record: RunRecord): string | undefined {
  return record.kind === 'export' ? record.exportOf : undefined;
}

/** The training run a derived record (eval, export) belongs to; undefined for a training run. */
export function derivedFrom(record: RunRecord): string | undefined {
  if (record.kind === 'eval') return record.evalOf;
  return exportOf(record);
}

/** The training run of `record` (itself for a training run). */
export function trainingRunOf(store: RunStore, record: RunRecord): RunRecord | undefined {
  const of = derivedFrom(record);
  return of !== undefined ? store.load(of) : isDerived(record) ? undefined : record;
}

function isDerived(record: RunRecord): boolean {
  return record.kind === 'eval' || record.kind === 'export';
}

const WHAT: Record<RunnerCommandKind, string> = { eval: 'evaluate', export: 'export' };

/** Starts `job` for `training` on its target; returns the new run's record. */
export async function startRunnerCommand(
  training: RunRecord,
  job: RunnerJob,
  options: RunnerCommandOptions,
  spec: LaunchSpec = loadLaunchSpec(training.config, training.target),
): Promise<RunRecord> {
  if (isDerived(training)) {
    const kind = training.kind === 'eval' ? 'an evaluation' : 'an export';
    throw new Error(
      `run ${training.id} is ${kind}; ${WHAT[job.kind]} its training run ${derivedFrom(training) ?? ''}`.trim(),
    );
  }
  if (training.probe !== undefined) throw new Error(probeHasNoModel(training, WHAT[job.kind]));
  if (spec.dialect !== 'native')
    throw new Error(
      `${job.command} reads Tunelab's own configs; ${path.basename(spec.configPath)} is a ${spec.dialect} config`,
    );
  const record = await launchRun(
    training.config,
    {
      ...options,
      target: training.target,
      jobArgv: runnerArgv(spec, job.command, job.args),
      extraFiles: [...(options.extraFiles ?? []), ...(job.extraFiles ?? [])],
      ...(job.kind === 'eval' ? { evalOf: training.id } : { exportOf: training.id }),
    },
    spec,
  );
  return record;
}

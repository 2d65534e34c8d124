// The one entry point behind "Tunelab: Launch training", the `tunelab` task
// and `tunelab launch`: read the config's launch section, record the run,
// start it on its target. Attaching, stopping and refreshing go through the
// same adapters, found again from the run record.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { launchEstimateOf } from './hostPaces';
import { loadLaunchSpec, type LaunchSpec, type TargetKind } from './launchConfig';
import { learnFromLog } from './paceFromLog';
import { probeOutputDir, probeRefusal, probeTrainArgs } from './paceProbe';
import { LocalTarget } from './localTarget';
import { isFinal, newRunId, RunStore, type RunRecord } from './runRecord';
import { SlurmTarget } from './slurmTarget';
import { SshTarget } from './sshTarget';
import type { TargetAdapter } from './target';

export interface LaunchOptions {
  /** Where `.tunelab/runs/` lives. */
  workspaceDir: string;
  target?: TargetKind;
  /** Directory that holds `tunelab_runner/`; found next to the program when not given. */
  runnerParent?: string;
  /** Secret values by name (SecretStorage in the editor, the environment for the CLI). */
  secrets?: Record<string, string>;
  sshConfigFile?: string;
  /** Replaces the runner's command (tools, tests). */
  jobArgv?: string[];
  extraFiles?: string[];
  onStatus?: (message: string) => void;
  /** An evaluation of a recorded training run (evalRun.ts); a training when absent. */
  evalOf?: string;
  /** An export of a recorded training run (runnerCommand.ts). */
  exportOf?: string;
  /** A pace probe of this many steps instead of the training (paceProbe.ts). */
  probeSteps?: number;
}

export function adapterFor(target: TargetKind, sshConfigFile?: string): TargetAdapter {
  switch (target) {
    case 'local':
      return new LocalTarget();
    case 'ssh':
      return new SshTarget(sshConfigFile);
    case 'slurm':
      return new SlurmTarget(sshConfigFile);
  }
}

/** The directory holding `tunelab_runner/__init__.py`, searched upwards from `start`. */
export function findRunnerParent(start: string = __dirname): string | undefined {
  const fromEnv = process.env.TUNELAB_RUNNER_DIR;
  if (fromEnv && fs.existsSync(path.join(fromEnv, 'tunelab_runner', '__init__.py'))) return fromEnv;
  let dir = path.resolve(start);
  for (;;) {
    const candidate = path.join(dir, 'runner');
    if (fs.existsSync(path.join(candidate, 'tunelab_runner', '__init__.py'))) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** Secret values for the names the config lists; missing names are reported, not invented. */
export function pickSecrets(
  spec: Pick<LaunchSpec, 'secrets'>,
  source: Readonly<Record<string, string | undefined>>,
): { values: Record<string, string>; missing: string[] } {
  const values: Record<string, string> = {};
  const missing: string[] = [];
  for (const name of spec.secrets) {
    const value = source[name];
    if (value === undefined || value === '') missing.push(name);
    else values[name] = value;
  }
  return { values, missing };
}

export async function launchRun(
  configPath: string,
  options: LaunchOptions,
  spec: LaunchSpec = loadLaunchSpec(configPath, options.target),
): Promise<RunRecord> {
  const store = new RunStore(options.workspaceDir);
  const id = newRunId(spec.configPath);
  const now = new Date().toISOString();
  const trainingOutput = spec.parsed.value as { training?: { output_dir?: unknown } };
  const outputDir =
    typeof trainingOutput.training?.output_dir === 'string'
      ? trainingOutput.training.output_dir
      : undefined;
  const probe = options.probeSteps;
  if (probe !== undefined) {
    const refusal = probeRefusal(spec);
    if (refusal) throw new Error(refusal);
  }
  let record: RunRecord = {
    version: 1,
    id,
    ...(options.evalOf ? { kind: 'eval' as const, evalOf: options.evalOf } : {}),
    ...(options.exportOf ? { kind: 'export' as const, exportOf: options.exportOf } : {}),
    config: spec.configPath,
    target: spec.target,
    runDir: '',
    logPath: '',
    outputDir: probe !== undefined ? probeOutputDir(outputDir) : outputDir,
    ...(probe !== undefined ? { probe } : {}),
    logOffset: 0,
    state: 'starting',
    command: [],
    secretNames: Object.keys(options.secrets ?? {}),
    createdAt: now,
    updatedAt: now,
  };
  const estimate = options.evalOf || options.exportOf ? undefined : launchEstimateOf(spec);
  if (estimate) record.estimate = estimate;
  store.save(record);
  for (const warning of spec.warnings) options.onStatus?.(warning);
  const adapter = adapterFor(spec.target, options.sshConfigFile);
  try {
    const started = await adapter.start({
      spec,
      id,
      store,
      runnerParent: options.runnerParent ?? findRunnerParent(),
      secrets: options.secrets ?? {},
      sshConfigFile: options.sshConfigFile,
      jobArgv: options.jobArgv,
      trainArgs: probe !== undefined ? probeTrainArgs(probe) : undefined,
      extraFiles: options.extraFiles,
      onStatus: options.onStatus,
    });
    record = store.save({ ...record, ...started });
  } catch (err) {
    store.save({
      ...record,
      state: 'failed',
      message: (err as Error).message,
      endedAt: new Date().toISOString(),
    });
    throw err;
  }
  return record;
}

/** Asks the target for the run's state and records it when it changed. */
export async function refreshRun(
  store: RunStore,
  record: RunRecord,
  sshConfigFile?: string,
): Promise<RunRecord> {
  if (isFinal(record.state) || !record.runDir) return record;
  const adapter = adapterFor(record.target, sshConfigFile);
  const polled = await adapter.poll(record);
  if (polled.state === record.state && polled.exitCode === record.exitCode) return record;
  // A run being stopped stays 'stopping' until it has really ended.
  if (record.state === 'stopping' && !isFinal(polled.state)) return record;
  const updated =
    store.update(record.id, {
      state: polled.state,
      exitCode: polled.exitCode,
      message: polled.message,
      endedAt: isFinal(polled.state) ? new Date().toISOString() : undefined,
    }) ?? record;
  // no stream saw its end: its log still tells its steady step
  await learnFromLog(store, updated, adapter, polled.logSize);
  return store.load(record.id) ?? updated;
}

export async function stopRun(
  store: RunStore,
  record: RunRecord,
  options: { force?: boolean; sshConfigFile?: string } = {},
): Promise<RunRecord> {
  if (isFinal(record.state)) return record;
  await adapterFor(record.target, options.sshConfigFile).stop(record, options.force ?? false);
  return store.update(record.id, { state: 'stopping' }) ?? record;
}

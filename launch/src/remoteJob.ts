// What the ssh target and SLURM through a login node share: sync the run's
// files and its generated script to the remote working directory, run one
// start command (`sh -s`, secrets on its stdin) and describe the started job
// the same way, so a record looks alike whichever of the two started it.

import * as path from 'node:path';
import type { ScriptParts } from './jobScript';
import type { SshSettings } from './launchConfig';
import type { ProcessResult } from './processes';
import type { RecordedSsh, RunState } from './runRecord';
import { remoteJoin, shQuote } from './shell';
import { runRemote, type SshConnection } from './sshClient';
import {
  generatedEntry,
  planSync,
  REMOTE_RUNNER_DIR,
  REMOTE_RUNS_DIR,
  syncToRemote,
  type SyncPlan,
} from './sync';
import type { StartedJob, StartRequest } from './target';

export function recordedSsh(settings: SshSettings): RecordedSsh {
  return {
    host: settings.host,
    destination: settings.destination,
    port: settings.port,
    identityFile: settings.identityFile,
  };
}

/** A shell word for a path under the directory the script started in. */
export function baseWord(relative: string): string {
  return `"$TUNELAB_BASE"/${shQuote(relative)}`;
}

/** What a sync needs: the run's local files, the runner, progress messages. */
export interface SyncSource {
  files: readonly string[];
  runnerParent?: string;
  onStatus?: (message: string) => void;
}

export function syncSourceOf(request: StartRequest): SyncSource {
  return {
    files: [...request.spec.files, ...(request.extraFiles ?? [])],
    runnerParent: request.runnerParent,
    onStatus: request.onStatus,
  };
}

/** Syncs config, data, runner and the generated files; returns the layout. */
export async function syncRun(
  source: SyncSource,
  connection: SshConnection,
  workdir: string,
  generated: (plan: SyncPlan) => { name: string; text: string }[] = () => [],
): Promise<SyncPlan> {
  const plan = planSync(source.files, source.runnerParent);
  const entries = [
    ...plan.entries,
    ...generated(plan).map((file) => generatedEntry(file.name, file.text)),
  ];
  source.onStatus?.(`syncing ${entries.length} files to ${connection.destination}:${workdir}`);
  const result = await syncToRemote(connection, workdir, entries);
  source.onStatus?.(`sent ${result.sent.length} files, ${result.unchanged} unchanged`);
  return plan;
}

/** The shell words a job script on the remote host uses, relative to the working directory. */
export type ScriptWords = Pick<ScriptParts, 'configDirWord' | 'runnerPathWord' | 'exitCodeWord'>;

export function remoteScriptWords(
  plan: SyncPlan,
  runRelative: string,
  runnerParent: string | undefined,
): ScriptWords {
  return {
    configDirWord: baseWord(path.posix.dirname(plan.configRelative)),
    runnerPathWord: runnerParent ? baseWord(REMOTE_RUNNER_DIR) : undefined,
    exitCodeWord: baseWord(`${runRelative}/exit_code`),
  };
}

/** How one target starts its job on the remote host. */
export interface RemoteStart {
  settings: SshSettings;
  /** The generated script's name in the run directory (`run.sh`, `job.sh`). */
  scriptName: string;
  /** The script's text and the job's argv, once the synced layout is known. */
  script(plan: SyncPlan, words: ScriptWords, runRelative: string): { text: string; argv: string[] };
  /** The input of `sh -s` that starts the job (secrets travel here, never in argv). */
  startInput(runRelative: string): string;
  /** Shown before the start command runs. */
  status: string;
  /** The job's handle from the start command's output; throws when the start failed. */
  handle(result: ProcessResult): Pick<StartedJob, 'pid' | 'jobId'>;
  state: RunState;
}

/** Syncs, starts and describes a job on a remote host (ssh target, SLURM via a login node). */
export async function startRemoteJob(
  request: StartRequest,
  start: RemoteStart,
  sshConfigFile: string | undefined,
): Promise<StartedJob> {
  const { settings } = start;
  const ssh = recordedSsh(settings);
  const connection = { ...ssh, configFile: request.sshConfigFile ?? sshConfigFile };
  const runRelative = `${REMOTE_RUNS_DIR}/${request.id}`;
  let argv: string[] = [];
  await syncRun(syncSourceOf(request), connection, settings.workdir, (plan) => {
    const words = remoteScriptWords(plan, runRelative, request.runnerParent);
    const built = start.script(plan, words, runRelative);
    argv = built.argv;
    return [{ name: `${runRelative}/${start.scriptName}`, text: built.text }];
  });
  request.onStatus?.(start.status);
  const result = await runRemote(connection, 'sh -s', { input: start.startInput(runRelative) });
  const handle = start.handle(result);
  const runDir = remoteJoin(settings.workdir, runRelative);
  return {
    ...handle,
    runDir,
    logPath: `${runDir}/log`,
    workdir: settings.workdir,
    ssh,
    command: argv,
    state: start.state,
  };
}

// How the chat process of a recorded run is started on the run's own target
// (runner/CHAT.md): `python -m tunelab_runner chat CONFIG [--adapter
// NAME=PATH]...`. Local: a child process (argv, no shell). ssh: the user's
// ssh, the remote command built with shQuote; secrets go as `export` lines on
// stdin before a mark line, then stdin is the protocol. SLURM: `srun` (no
// --pty) in an allocation of its own, on this machine or on the login node;
// srun forwards stdin/stdout to its one task and gives the allocation back
// when the task ends or srun is signalled.

import * as path from 'node:path';
import { RUNNER_MODULE } from './jobScript';
import { loadLaunchSpec, type LaunchSpec, type SlurmSettings } from './launchConfig';
import { findRunnerParent } from './launcher';
import { localPython } from './localTarget';
import { probeHasNoModel } from './paceProbe';
import { requireExecutable } from './processes';
import { syncRun } from './remoteJob';
import type { RunRecord } from './runRecord';
import { exportLines, shPath, shQuote } from './shell';
import { sshArgv, type SshConnection } from './sshClient';
import { REMOTE_RUNNER_DIR } from './sync';

/** A column of the chat view: the base (`adapter: null`) or a run's adapter. */
export interface ChatColumn {
  label: string;
  adapter: string | null;
  runId?: string;
}

export interface ChatStartOptions {
  /** Where `.tunelab/chats/` lives. */
  workspaceDir: string;
  /** A second run with the same base: its adapter answers in the second column. */
  other?: RunRecord;
  runnerParent?: string;
  sshConfigFile?: string;
  secrets?: Record<string, string>;
  onStderr?: (text: string) => void;
  /** How long loading the model may take before `ready` (ms). */
  readyTimeoutMs?: number;
}

/** How the chat process is started: argv, and what goes on stdin before the protocol. */
export interface ChatLaunch {
  argv: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Written first on stdin (remote: export lines and the mark). */
  preamble?: string;
  /** stdout before this line is a login script's, not the protocol. */
  mark?: string;
  columns: ChatColumn[];
}

const MARK_IN = '@tunelab-chat-env-end@';
const MARK_OUT = '@tunelab-chat@';
/** Set inside an allocation; srun would then run a step of that job instead of asking for its own. */
const ENCLOSING_JOB_VARIABLES = ['SLURM_JOB_ID', 'SLURM_JOBID'];

/** `--adapter NAME=PATH` for each run (paths relative to the first run's config dir) and the columns. */
export function chatColumns(
  training: RunRecord,
  other?: RunRecord,
): { args: string[]; columns: ChatColumn[] } {
  if (!other)
    return {
      args: [],
      columns: [
        { label: 'base', adapter: null },
        { label: training.id, adapter: 'tuned', runId: training.id },
      ],
    };
  const dir = path.dirname(training.config);
  const adapterDir = (run: RunRecord) =>
    path
      .relative(dir, path.resolve(path.dirname(run.config), run.outputDir ?? 'runs/out', 'adapter'))
      .split(path.sep)
      .join('/');
  const runs = [training, other];
  return {
    args: runs.flatMap((run) => ['--adapter', `${run.id}=${adapterDir(run)}`]),
    columns: runs.map((run) => ({ label: run.id, adapter: run.id, runId: run.id })),
  };
}

function baseModel(spec: LaunchSpec): unknown {
  return (spec.parsed.value as { model?: { name_or_path?: unknown } } | null)?.model?.name_or_path;
}

function checkChattable(training: RunRecord, spec: LaunchSpec, other?: RunRecord): void {
  for (const run of other ? [training, other] : [training])
    if (run.kind === 'eval' || run.kind === 'export')
      throw new Error(`run ${run.id} is not a training run; chat with the run it came from`);
    else if (run.probe !== undefined) throw new Error(probeHasNoModel(run, 'chat with'));
  if (spec.dialect !== 'native')
    throw new Error(
      `chat reads Tunelab's own configs; ${path.basename(spec.configPath)} is not one`,
    );
  if (!other) return;
  if (other.id === training.id) throw new Error(`${training.id} is given twice`);
  // The second adapter path is read relative to the first run's files, on the same host.
  if (
    other.target !== training.target ||
    other.ssh?.host !== training.ssh?.host ||
    other.workdir !== training.workdir
  )
    throw new Error(
      `${other.id} ran on another target than ${training.id}: chat with one at a time`,
    );
  const base = baseModel(spec);
  const otherBase = baseModel(loadLaunchSpec(other.config, other.target));
  if (otherBase !== base)
    throw new Error(
      `${other.id} tunes ${String(otherBase)}, ${training.id} tunes ${String(base)}: ` +
        'two runs chat side by side only on the same base model',
    );
}

/**
 * srun's options: the partition, time and account of the training job, one
 * GPU where the training job asks for GPUs (`gpus_per_node`; a cluster that
 * hands out GPUs another way says so in `extra_args`, as for the training),
 * then the one-task layout the protocol needs, last so that it wins.
 */
export function srunArgs(slurm: SlurmSettings, runId: string): string[] {
  const args: string[] = [];
  if (slurm.partition) args.push(`--partition=${slurm.partition}`);
  if (slurm.gpusPerNode) args.push('--gpus-per-node=1');
  if (slurm.time) args.push(`--time=${slurm.time}`);
  if (slurm.account) args.push(`--account=${slurm.account}`);
  return [
    ...args,
    ...slurm.extraArgs,
    '--nodes=1',
    '--ntasks=1',
    '--unbuffered',
    `--job-name=tunelab-chat-${runId}`,
  ];
}

/**
 * The remote shell's tail: the chat reads this shell's stdin in the
 * background while a watchdog polls sshd (the shell's parent, gone once the
 * client is): a chat whose client died or was killed ends at once instead of
 * loading a model, or holding an allocation, for nobody until it reads EOF.
 */
function supervised(command: string): string {
  // A background command's stdin is /dev/null unless redirected: the session's stdin goes as fd 3.
  return (
    `exec 3<&0; ${command} <&3 3<&- & c=$!; exec 3<&-; ` +
    `(while kill -0 "$PPID" 2>/dev/null; do sleep 1; done; kill -TERM "$c" 2>/dev/null) ` +
    `</dev/null >/dev/null 2>&1 & w=$!; ` +
    `wait "$c"; r=$?; kill "$w" 2>/dev/null; exit "$r"`
  );
}

/** The chat process for `training` on its target (syncs config and runner to a remote host first). */
export async function chatLaunch(
  training: RunRecord,
  options: ChatStartOptions,
  spec: LaunchSpec = loadLaunchSpec(training.config, training.target),
): Promise<ChatLaunch> {
  checkChattable(training, spec, options.other);
  const { args, columns } = chatColumns(training, options.other);
  const runnerParent = options.runnerParent ?? findRunnerParent();
  const configName = path.basename(spec.configPath);
  const viaSsh = spec.target === 'ssh' ? spec.ssh : spec.slurm?.viaSsh;
  const srun = spec.target === 'slurm' && spec.slurm ? srunArgs(spec.slurm, training.id) : [];
  if (!viaSsh) {
    const env: NodeJS.ProcessEnv = { ...process.env, ...spec.env, PYTHONUNBUFFERED: '1' };
    if (runnerParent)
      env.PYTHONPATH = [runnerParent, process.env.PYTHONPATH].filter(Boolean).join(path.delimiter);
    Object.assign(env, options.secrets ?? {});
    const python = localPython(spec.python, spec.configDir);
    const argv = [python, '-m', RUNNER_MODULE, 'chat', configName, ...args];
    if (!srun.length) return { argv, cwd: spec.configDir, env, columns };
    for (const name of ENCLOSING_JOB_VARIABLES) delete env[name];
    return {
      argv: [requireExecutable('srun', 'to chat on SLURM'), ...srun, ...argv],
      cwd: spec.configDir,
      env,
      columns,
    };
  }
  const workdir = training.workdir ?? viaSsh.workdir;
  const connection = connectionOf(training, options.sshConfigFile);
  const plan = await syncRun({ files: spec.files, runnerParent }, connection, workdir);
  const configDir = path.posix.dirname(plan.configRelative);
  const job = [spec.python, '-m', RUNNER_MODULE, 'chat', configName, ...args];
  const command =
    `cd ${shPath(workdir)} || exit 3; B=$(pwd); cd ${shQuote(configDir)} || exit 3; ` +
    (runnerParent
      ? `PYTHONPATH="$B"/${shQuote(REMOTE_RUNNER_DIR)}\${PYTHONPATH:+:$PYTHONPATH}; export PYTHONPATH; `
      : '') +
    `PYTHONUNBUFFERED=1; export PYTHONUNBUFFERED; ` +
    (srun.length ? `unset ${ENCLOSING_JOB_VARIABLES.join(' ')}; ` : '') +
    // `read` takes one byte at a time from a pipe: the protocol lines after the mark stay unread.
    // A quoted value may span lines: the lines are gathered up to the mark, then evaluated once.
    `s=; while IFS= read -r l; do [ "$l" = ${MARK_IN} ] && break; s="$s$l\n"; done; eval "$s"; ` +
    `printf '%s\\n' ${MARK_OUT}; ` +
    supervised([...(srun.length ? ['srun', ...srun] : []), ...job].map(shQuote).join(' '));
  return {
    argv: sshArgv(connection, command),
    preamble:
      exportLines(spec.env, 'launch.env') +
      exportLines(options.secrets ?? {}, 'launch.secrets') +
      `${MARK_IN}\n`,
    mark: MARK_OUT,
    columns,
  };
}

function connectionOf(record: RunRecord, configFile?: string): SshConnection {
  if (!record.ssh) throw new Error(`run ${record.id} has no ssh host recorded`);
  return { ...record.ssh, configFile };
}

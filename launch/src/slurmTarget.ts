// target: slurm. A job script generated from `launch.slurm` is submitted with
// sbatch on this machine, or through `launch.slurm.via_ssh` on a login node
// (files synced there first, as for the ssh target). The state comes from
// squeue while the job is queued or running, then scontrol, then `sacct -c`
// (the job completion log) once scontrol has forgotten it.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { trainArgv, sbatchOptions, slurmJobScript } from './jobScript';
import type { LaunchSpec } from './launchConfig';
import { requireExecutable, runProcess } from './processes';
import type { RunRecord, RunState } from './runRecord';
import { exportLines, shPath, shQuote } from './shell';
import { runRemote, type SshConnection } from './sshClient';
import { startRemoteJob, type ScriptWords } from './remoteJob';
import { remoteFollow } from './sshTarget';
import {
  followLocalFile,
  type LogReader,
  type PollResult,
  type StartedJob,
  type StartRequest,
  type TargetAdapter,
} from './target';

const JOB_ID = /^\d+(_\d+)?$/;
/** How often a follower asks squeue whether the job still runs: slurmctld serves everyone. */
const SQUEUE_EVERY_MS = 5000;

/** `sbatch --parsable` prints `JOBID` or `JOBID;CLUSTER`. */
export function parseJobId(stdout: string): string {
  const id = stdout.trim().split('\n').pop()?.split(';')[0] ?? '';
  if (!JOB_ID.test(id)) throw new Error(`sbatch did not return a job id: ${stdout.trim()}`);
  return id;
}

/** Output split at marker lines `@name` (the remote status command prints one before each part). */
export function sections(text: string): Record<string, string> {
  const found: Record<string, string> = {};
  let current: string | undefined;
  for (const line of text.split('\n')) {
    if (/^@\w+$/.test(line)) {
      current = line.slice(1);
      found[current] = '';
    } else if (current !== undefined) found[current] += `${line}\n`;
  }
  return found;
}

function checkedJobId(record: RunRecord): string {
  if (!record.jobId || !JOB_ID.test(record.jobId))
    throw new Error(`run ${record.id} has no valid SLURM job id`);
  return record.jobId;
}

/** SLURM job state names → run states. */
export function runStateOf(slurmState: string): RunState {
  const state = slurmState.trim().split(/\s+/)[0].toUpperCase();
  if (['PENDING', 'CONFIGURING', 'REQUEUED', 'REQUEUE_HOLD', 'RESIZING'].includes(state))
    return 'pending';
  if (['RUNNING', 'COMPLETING', 'SUSPENDED', 'STOPPED', 'SIGNALING', 'STAGE_OUT'].includes(state))
    return 'running';
  if (state === 'COMPLETED') return 'completed';
  if (state.startsWith('CANCELLED')) return 'cancelled';
  return 'failed';
}

/** Reads squeue / scontrol / sacct output (tried in that order) into a state. */
export function parseSlurmStatus(squeue: string, scontrol: string, sacct: string): PollResult {
  if (squeue.trim()) return { state: runStateOf(squeue) };
  const scontrolState = /JobState=(\S+)/.exec(scontrol);
  if (scontrolState) {
    const exit = /\bExitCode=(\d+):(\d+)/.exec(scontrol);
    return {
      state: runStateOf(scontrolState[1]),
      exitCode: exit ? Number(exit[1]) || (Number(exit[2]) ? 128 + Number(exit[2]) : 0) : undefined,
    };
  }
  const line = sacct
    .trim()
    .split('\n')
    .find((row) => row.includes('|'));
  if (line) {
    const [, state, exit] = line.split('|');
    return { state: runStateOf(state), exitCode: exit ? Number(exit.split(':')[0]) : undefined };
  }
  return { state: 'lost', message: 'SLURM no longer knows this job' };
}

function parts(
  request: StartRequest,
  words: ScriptWords,
  configArg: string,
): { script: string; argv: string[] } {
  const { spec } = request;
  const slurm = spec.slurm ?? { nodes: 1, extraArgs: [] };
  const argv = request.jobArgv ?? trainArgv(spec, configArg, { extraArgs: request.trainArgs });
  const script = slurmJobScript(
    { runId: request.id, env: spec.env, argv, ...words },
    { nodes: slurm.nodes, gpusPerNode: slurm.gpusPerNode },
    spec,
    configArg,
    request.trainArgs,
  );
  return { script, argv };
}

function slurmSettings(spec: LaunchSpec): NonNullable<LaunchSpec['slurm']> {
  return spec.slurm ?? { nodes: 1, extraArgs: [] };
}

export class SlurmTarget implements TargetAdapter {
  constructor(private readonly sshConfigFile?: string) {}

  private connection(record: RunRecord): SshConnection | undefined {
    return record.ssh ? { ...record.ssh, configFile: this.sshConfigFile } : undefined;
  }

  async start(request: StartRequest): Promise<StartedJob> {
    return slurmSettings(request.spec).viaSsh
      ? this.startRemote(request)
      : this.startLocal(request);
  }

  private async startLocal(request: StartRequest): Promise<StartedJob> {
    const { spec, id } = request;
    const runDir = request.store.runDir(id);
    fs.mkdirSync(runDir, { recursive: true });
    const logPath = path.join(runDir, 'log');
    const { script, argv } = parts(
      request,
      {
        configDirWord: shQuote(spec.configDir),
        runnerPathWord: request.runnerParent ? shQuote(request.runnerParent) : undefined,
        exitCodeWord: shQuote(path.join(runDir, 'exit_code')),
      },
      path.basename(spec.configPath),
    );
    const scriptPath = path.join(runDir, 'job.sh');
    fs.writeFileSync(scriptPath, script, { mode: 0o644 });
    const sbatch = requireExecutable('sbatch', 'for launch.target slurm');
    request.onStatus?.('submitting with sbatch');
    // Secrets ride in sbatch's environment (exported to the job by default), never in argv
    // or the job script. SLURM itself keeps a submitted job's environment in its state
    // directory (readable by SlurmUser only) until the job record is purged (MinJobAge).
    const result = await runProcess(
      [sbatch, ...sbatchOptions(slurmSettings(spec), id, logPath), scriptPath],
      { cwd: spec.configDir, env: { ...process.env, ...request.secrets }, timeoutMs: 120_000 },
    );
    if (result.code !== 0) throw new Error(`sbatch failed: ${result.stderr.trim()}`);
    const jobId = parseJobId(result.stdout);
    return { jobId, runDir, logPath, command: argv, state: 'pending' };
  }

  private async startRemote(request: StartRequest): Promise<StartedJob> {
    const slurm = slurmSettings(request.spec);
    const login = slurm.viaSsh!;
    return startRemoteJob(
      request,
      {
        settings: login,
        scriptName: 'job.sh',
        script: (plan, words) => {
          const built = parts(request, words, path.posix.basename(plan.configRelative));
          return { text: built.script, argv: built.argv };
        },
        // sbatch starts the job in the directory it was called from: the working directory.
        startInput: (runRelative) =>
          exportLines(request.secrets, 'launch.secrets') +
          `cd ${shPath(login.workdir)} || exit 1\n` +
          `sbatch ${sbatchOptions(slurm, request.id, `${runRelative}/log`)
            .map(shQuote)
            .join(' ')} ${shQuote(`${runRelative}/job.sh`)}\n`,
        status: `submitting with sbatch on ${login.host}`,
        handle: (result) => {
          if (result.code !== 0)
            throw new Error(`sbatch on ${login.host} failed: ${result.stderr.trim()}`);
          return { jobId: parseJobId(result.stdout) };
        },
        state: 'pending',
      },
      this.sshConfigFile,
    );
  }

  readLog(record: RunRecord, fromOffset: number, onData: (chunk: Buffer) => void): LogReader {
    const jobId = checkedJobId(record);
    const connection = this.connection(record);
    if (connection) {
      const running = `squeue -h -j ${jobId} -o %T 2>/dev/null | grep -q .`;
      return remoteFollow(
        connection,
        record.runDir,
        'log',
        fromOffset,
        running,
        onData,
        SQUEUE_EVERY_MS / 1000,
      );
    }
    return followLocalFile(
      record.logPath,
      fromOffset,
      onData,
      async () => {
        const { state } = await this.poll(record);
        return state === 'pending' || state === 'running';
      },
      { checkRunningMs: SQUEUE_EVERY_MS },
    );
  }

  async poll(record: RunRecord): Promise<PollResult> {
    const jobId = checkedJobId(record);
    const connection = this.connection(record);
    if (connection) {
      const command =
        `echo @squeue; squeue -h -j ${jobId} -o %T 2>/dev/null; ` +
        `echo @scontrol; scontrol show job -o ${jobId} 2>/dev/null; ` +
        `echo @sacct; sacct -c -j ${jobId} -n -P -o jobid,state,exitcode 2>/dev/null; ` +
        `echo @size; wc -c < ${shPath(record.logPath)} 2>/dev/null; true`;
      const result = await runRemote(connection, command, { timeoutMs: 60_000 });
      const section = (name: string) => sections(result.stdout)[name] ?? '';
      const status = parseSlurmStatus(section('squeue'), section('scontrol'), section('sacct'));
      const size = Number(section('size').trim());
      return {
        ...status,
        logSize: Number.isFinite(size) && section('size').trim() ? size : undefined,
      };
    }
    const run = async (name: string, args: string[]) => {
      try {
        return (await runProcess([name, ...args], { timeoutMs: 60_000 })).stdout;
      } catch {
        return '';
      }
    };
    const squeue = await run('squeue', ['-h', '-j', jobId, '-o', '%T']);
    const scontrol = squeue.trim() ? '' : await run('scontrol', ['show', 'job', '-o', jobId]);
    const sacct =
      squeue.trim() || /JobState=/.test(scontrol)
        ? ''
        : await run('sacct', ['-c', '-j', jobId, '-n', '-P', '-o', 'jobid,state,exitcode']);
    let logSize: number | undefined;
    try {
      logSize = fs.statSync(record.logPath).size;
    } catch {
      logSize = undefined;
    }
    return { ...parseSlurmStatus(squeue, scontrol, sacct), logSize };
  }

  async stop(record: RunRecord, force: boolean): Promise<void> {
    const jobId = checkedJobId(record);
    // Plain scancel: SIGTERM to every process of the job, SIGKILL after KillWait,
    // so the runner has time to save a checkpoint.
    const args = force ? ['--signal=KILL', '--full', jobId] : [jobId];
    const connection = this.connection(record);
    if (connection) {
      await runRemote(connection, `scancel ${args.map(shQuote).join(' ')}`, { timeoutMs: 60_000 });
      return;
    }
    const result = await runProcess([requireExecutable('scancel', 'to stop the job'), ...args], {
      timeoutMs: 60_000,
    });
    if (result.code !== 0) throw new Error(`scancel failed: ${result.stderr.trim()}`);
  }
}

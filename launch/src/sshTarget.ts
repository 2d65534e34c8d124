// target: ssh. Files are synced to `launch.ssh.workdir`, then the job starts
// detached (`setsid nohup sh run.sh > log 2>&1 < /dev/null &`, infra.md) so
// it outlives the connection and the editor; the log is followed with
// `tail -c +OFFSET -F`. Secrets travel as `export NAME='value'` lines on the
// stdin of `sh -s`: never in argv, never in a file.

import * as path from 'node:path';
import { trainArgv, sshRunScript } from './jobScript';
import { shPath, shQuote, exportLines } from './shell';
import { spawnRemote, runRemote, type SshConnection } from './sshClient';
import type { RecordedSsh, RunRecord } from './runRecord';
import { startRemoteJob } from './remoteJob';
import {
  stateForExit,
  type LogReader,
  type PollResult,
  type StartedJob,
  type StartRequest,
  type TargetAdapter,
} from './target';

/** Printed before the log: whatever a login script printed before it is not the log. */
const STREAM_MARK = '@tunelab-log-stream@';

/** Drops the bytes before the first STREAM_MARK line, then passes everything on. */
export function skipUntilMark(onData: (chunk: Buffer) => void): (chunk: Buffer) => void {
  const mark = Buffer.from(`${STREAM_MARK}\n`);
  let head: Buffer | undefined = Buffer.alloc(0);
  return (chunk) => {
    if (!head) return onData(chunk);
    head = Buffer.concat([head, chunk]);
    const at = head.indexOf(mark);
    if (at === -1) return;
    const rest = head.subarray(at + mark.length);
    head = undefined;
    if (rest.length) onData(rest);
  };
}

/**
 * Streams `tail -c +OFFSET -F LOG` until `runningTest` (a shell condition run
 * every `checkEverySeconds`
 * in the run directory) turns false. The reader ends 'ended' when the remote
 * side finished normally and 'dropped' when the connection broke.
 */
export function remoteFollow(
  connection: SshConnection,
  runDir: string,
  logName: string,
  fromOffset: number,
  runningTest: string,
  onData: (chunk: Buffer) => void,
  checkEverySeconds = 0.5,
): LogReader {
  const command =
    `cd ${shPath(runDir)} 2>/dev/null || exit 3; ` +
    `printf '%s\\n' ${STREAM_MARK}; ` +
    `tail -c +${fromOffset + 1} -F ${shQuote(logName)} 2>/dev/null & t=$!; ` +
    // ssh's stdin ends when the client is gone (cancelled, dropped or killed with -9): stop
    // tail and this shell at once. An async list gets /dev/null as stdin, hence fd 3.
    `exec 3<&0; { cat >/dev/null; kill "$t" $$; } <&3 >/dev/null 2>&1 & w=$!; exec 3<&-; ` +
    // The loop also ends when tail died of SIGPIPE: the client went away.
    `while ${runningTest} && kill -0 "$t" 2>/dev/null; do ` +
    `sleep ${checkEverySeconds} </dev/null >/dev/null 2>&1; done; ` +
    // tail wakes on inotify within milliseconds; the follower also compares sizes after the end.
    `sleep 0.5; kill "$t" "$w" 2>/dev/null; exit 0`;
  const child = spawnRemote(connection, command);
  child.stdout?.on('data', skipUntilMark(onData));
  child.stderr?.resume();
  child.stdin?.on('error', () => undefined);
  const done = new Promise<'ended' | 'dropped'>((resolve) => {
    child.on('error', () => resolve('dropped'));
    child.on('close', (code) => resolve(code === 0 ? 'ended' : 'dropped'));
  });
  return { done, cancel: () => child.kill('SIGTERM') };
}

export function startDetachedScript(
  workdir: string,
  runRelative: string,
  secrets: Record<string, string>,
): string {
  const run = shQuote(runRelative);
  return (
    exportLines(secrets, 'launch.secrets') +
    `cd ${shPath(workdir)} || exit 1\n` +
    `R=${run}\n` +
    // `;` not `&&` before setsid, and all three streams redirected, or ssh waits for the job.
    `if command -v setsid >/dev/null 2>&1; then\n` +
    `  setsid nohup sh "$R/run.sh" > "$R/log" 2>&1 < /dev/null &\n` +
    `else\n` +
    `  nohup sh "$R/run.sh" > "$R/log" 2>&1 < /dev/null &\n` +
    `fi\n` +
    `echo $! > "$R/pid"\n` +
    `cat "$R/pid"\n`
  );
}

export class SshTarget implements TargetAdapter {
  constructor(private readonly sshConfigFile?: string) {}

  private connection(record: { ssh?: RecordedSsh }): SshConnection {
    if (!record.ssh) throw new Error('this run has no ssh host recorded');
    return { ...record.ssh, configFile: this.sshConfigFile };
  }

  async start(request: StartRequest): Promise<StartedJob> {
    const settings = request.spec.ssh;
    if (!settings) throw new Error('launch.ssh.host is not set');
    return startRemoteJob(
      request,
      {
        settings,
        scriptName: 'run.sh',
        script: (plan, words) => {
          const argv =
            request.jobArgv ??
            trainArgv(request.spec, path.posix.basename(plan.configRelative), {
              extraArgs: request.trainArgs,
            });
          const text = sshRunScript({ runId: request.id, env: request.spec.env, argv, ...words });
          return { text, argv };
        },
        startInput: (runRelative) =>
          startDetachedScript(settings.workdir, runRelative, request.secrets),
        status: `starting on ${settings.host}`,
        handle: (started) => {
          const pid = Number(started.stdout.trim().split('\n').pop());
          if (started.code !== 0 || !Number.isInteger(pid) || pid <= 0)
            throw new Error(
              `starting the job on ${settings.host} failed: ${started.stderr.trim() || started.stdout.trim()}`,
            );
          return { pid };
        },
        state: 'running',
      },
      this.sshConfigFile,
    );
  }

  readLog(record: RunRecord, fromOffset: number, onData: (chunk: Buffer) => void): LogReader {
    const running = `[ ! -e exit_code ] && kill -0 "$(cat pid 2>/dev/null)" 2>/dev/null`;
    return remoteFollow(this.connection(record), record.runDir, 'log', fromOffset, running, onData);
  }

  async poll(record: RunRecord): Promise<PollResult> {
    const command =
      `cd ${shPath(record.runDir)} 2>/dev/null || { echo missing; exit 0; }; ` +
      `size=$(wc -c < log 2>/dev/null); ` +
      `if [ -e exit_code ]; then echo "exit $(cat exit_code) $size"; ` +
      `elif kill -0 "$(cat pid 2>/dev/null)" 2>/dev/null; then echo "running 0 $size"; ` +
      `else echo "gone 0 $size"; fi`;
    const result = await runRemote(this.connection(record), command, { timeoutMs: 60_000 });
    // The last line: a login script may have printed something before it.
    const [word, code, size] = (result.stdout.trim().split('\n').pop() ?? '').trim().split(/\s+/);
    const logSize = size === undefined ? undefined : Number(size);
    if (word === 'exit') {
      const exitCode = Number(code);
      return { state: stateForExit(exitCode), exitCode, logSize };
    }
    if (word === 'running') return { state: 'running', logSize };
    if (word === 'missing')
      return { state: 'lost', message: `${record.runDir} is gone on ${record.ssh?.host}` };
    return { state: 'lost', logSize, message: 'the job is gone and left no exit code' };
  }

  async stop(record: RunRecord, force: boolean): Promise<void> {
    // TERM goes to run.sh, which forwards it to the runner exactly once;
    // KILL goes to the whole session setsid made (runner and torchrun workers).
    const kill = force
      ? `kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid"`
      : `kill -TERM "$pid"`;
    const command =
      `cd ${shPath(record.runDir)} && [ ! -e exit_code ] && pid=$(cat pid) && ` +
      `[ -n "$pid" ] && { ${kill}; }`;
    await runRemote(this.connection(record), command, { timeoutMs: 60_000 });
  }
}

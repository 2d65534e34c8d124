// target: local. The runner runs as a detached child process of this one
// (its own process group, output to a log file), so closing the editor or
// pressing Ctrl-C in `tunelab launch` leaves the training running; any later
// attach reads the same log file by byte offset.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { trainArgv } from './jobScript';
import type { RunRecord } from './runRecord';
import {
  endEventExitCode,
  followLocalFile,
  stateForExit,
  type LogReader,
  type PollResult,
  type StartedJob,
  type StartRequest,
  type TargetAdapter,
} from './target';

/** Exit code the shell gives for a command that was not found. */
export const EXIT_NOT_FOUND = 127;

/** `.venv/bin/python` is relative to the config's directory; a bare name is looked up on PATH. */
export function localPython(python: string, configDir: string): string {
  return python.includes('/') || python.includes('\\') ? path.resolve(configDir, python) : python;
}

/** Whether `pid` is a live process (a zombie awaiting its parent is not). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

/** Guards against signalling an unrelated process that reused a dead run's pid. */
function isOurProcess(record: RunRecord): boolean {
  try {
    const cmdline = fs.readFileSync(`/proc/${record.pid}/cmdline`, 'utf8').split('\0');
    return record.command.slice(1).every((arg) => cmdline.includes(arg));
  } catch {
    return true; // no /proc (macOS, Windows): trust the record
  }
}

function exitCodeFile(record: { runDir: string }): string {
  return path.join(record.runDir, 'exit_code');
}

export class LocalTarget implements TargetAdapter {
  async start(request: StartRequest): Promise<StartedJob> {
    const { spec, id, store } = request;
    const runDir = store.runDir(id);
    fs.mkdirSync(runDir, { recursive: true });
    const logPath = path.join(runDir, 'log');
    const argv = request.jobArgv ?? [
      ...trainArgv(spec, path.basename(spec.configPath), {
        python: localPython(spec.python, spec.configDir),
        extraArgs: request.trainArgs,
      }),
    ];
    const env: NodeJS.ProcessEnv = { ...process.env, ...spec.env, PYTHONUNBUFFERED: '1' };
    if (request.runnerParent)
      env.PYTHONPATH = [request.runnerParent, process.env.PYTHONPATH]
        .filter(Boolean)
        .join(path.delimiter);
    Object.assign(env, request.secrets);

    const log = fs.openSync(logPath, 'a');
    try {
      const child = spawn(argv[0], argv.slice(1), {
        cwd: spec.configDir,
        env,
        detached: true,
        stdio: ['ignore', log, log],
        shell: false,
        windowsHide: true,
      });
      await new Promise<void>((resolve, reject) => {
        child.once('spawn', resolve);
        child.once('error', reject);
      }).catch((err: NodeJS.ErrnoException) => {
        // Recorded like a shell would: exit 127 and a line in the log.
        const message = `tunelab: cannot start ${argv[0]}: ${err.code ?? err.message}\n`;
        fs.writeSync(log, message);
        fs.writeFileSync(exitCodeFile({ runDir }), `${EXIT_NOT_FOUND}\n`);
      });
      if (child.pid === undefined) return { runDir, logPath, command: argv, state: 'failed' };
      // While this process lives it records the exit code; after that, poll() reads the log.
      child.on('exit', (code, signal) => {
        const status = code ?? 128 + (signal ? os.constants.signals[signal] : 0);
        try {
          fs.writeFileSync(exitCodeFile({ runDir }), `${status}\n`);
        } catch {
          // The workspace went away: nothing to record into.
        }
      });
      child.unref();
      return { pid: child.pid, runDir, logPath, command: argv, state: 'running' };
    } finally {
      fs.closeSync(log);
    }
  }

  readLog(record: RunRecord, fromOffset: number, onData: (chunk: Buffer) => void): LogReader {
    return followLocalFile(record.logPath, fromOffset, onData, async () => {
      const polled = await this.poll(record);
      return polled.state === 'running';
    });
  }

  async poll(record: RunRecord): Promise<PollResult> {
    let logSize: number | undefined;
    try {
      logSize = fs.statSync(record.logPath).size;
    } catch {
      logSize = undefined;
    }
    try {
      const code = Number(fs.readFileSync(exitCodeFile(record), 'utf8').trim());
      if (Number.isInteger(code)) return { state: stateForExit(code), exitCode: code, logSize };
    } catch {
      // no exit code written (yet)
    }
    if (record.pid !== undefined && processAlive(record.pid)) return { state: 'running', logSize };
    // Ended while no Tunelab process was watching: the runner's last event tells how.
    const code = endEventExitCode(record.logPath);
    if (code !== undefined) return { state: stateForExit(code), exitCode: code, logSize };
    return { state: 'lost', logSize, message: 'the process is gone and left no exit code' };
  }

  async stop(record: RunRecord, force: boolean): Promise<void> {
    if (record.pid === undefined || !processAlive(record.pid) || !isOurProcess(record)) return;
    // The runner alone, not its group: torchrun forwards the signal to its
    // workers itself, and a second SIGTERM would make the runner skip its checkpoint.
    process.kill(record.pid, force ? 'SIGKILL' : 'SIGTERM');
  }
}

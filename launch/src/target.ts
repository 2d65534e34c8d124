// What every target (local, ssh, slurm) provides: start a job detached from
// this process, read its log from a byte offset, tell its state, stop it.

import * as fs from 'node:fs';
import type { LaunchSpec } from './launchConfig';
import type { RecordedSsh, RunRecord, RunState, RunStore } from './runRecord';

export interface StartRequest {
  spec: LaunchSpec;
  id: string;
  store: RunStore;
  /** Directory holding the `tunelab_runner` package, put on the job's PYTHONPATH (and synced). */
  runnerParent?: string;
  /** Secret values by name: they reach the job's environment only. */
  secrets: Record<string, string>;
  sshConfigFile?: string;
  /** Replaces the runner's command (tools and tests): argv run in the config's directory. */
  jobArgv?: string[];
  /** The runner's options after `train CONFIG` (a pace probe's `--probe N`). */
  trainArgs?: readonly string[];
  /** More local files the job needs (synced beside the config, keeping their layout). */
  extraFiles?: string[];
  onStatus?: (message: string) => void;
}

export interface StartedJob {
  pid?: number;
  jobId?: string;
  runDir: string;
  logPath: string;
  workdir?: string;
  ssh?: RecordedSsh;
  command: string[];
  state: RunState;
}

export interface PollResult {
  state: RunState;
  exitCode?: number;
  /** Bytes in the log now; a follower that read fewer after the end reads on. */
  logSize?: number;
  message?: string;
}

/** One attempt at streaming a log; `done` says whether the job's end was reached. */
export interface LogReader {
  done: Promise<'ended' | 'dropped'>;
  cancel(): void;
}

export interface TargetAdapter {
  start(request: StartRequest): Promise<StartedJob>;
  readLog(record: RunRecord, fromOffset: number, onData: (chunk: Buffer) => void): LogReader;
  poll(record: RunRecord): Promise<PollResult>;
  /** SIGTERM (the runner saves a checkpoint) or scancel; `force` kills at once. */
  stop(record: RunRecord, force: boolean): Promise<void>;
}

/** Exit codes of a job stopped by SIGTERM or SIGINT (128 + signal), as the runner uses them. */
export function stateForExit(code: number): RunState {
  if (code === 0) return 'completed';
  if (code === 143 || code === 130 || code === 137) return 'cancelled';
  return 'failed';
}

/**
 * Follows a local file from `fromOffset` until `isRunning` says the job is
 * over, then reads what is left. Used for the local target and for SLURM
 * jobs submitted on this machine. fs.watch wakes it early; a timer is the
 * fallback where watching does not work (network file systems).
 */
export function followLocalFile(
  file: string,
  fromOffset: number,
  onData: (chunk: Buffer) => void,
  isRunning: () => Promise<boolean>,
  options: { pollMs?: number; checkRunningMs?: number } = {},
): LogReader {
  const pollMs = options.pollMs ?? 200;
  const checkRunningMs = options.checkRunningMs ?? 1000;
  let cancelled = false;
  let wake: (() => void) | undefined;
  let watcher: fs.FSWatcher | undefined;
  const buffer = Buffer.alloc(256 * 1024);

  const readAvailable = (position: number): number => {
    let fd: number;
    try {
      fd = fs.openSync(file, 'r');
    } catch {
      return position;
    }
    try {
      for (;;) {
        const read = fs.readSync(fd, buffer, 0, buffer.length, position);
        if (read <= 0) return position;
        position += read;
        onData(Buffer.from(buffer.subarray(0, read)));
      }
    } finally {
      fs.closeSync(fd);
    }
  };

  const done = (async (): Promise<'ended' | 'dropped'> => {
    let position = fromOffset;
    let lastCheck = 0;
    for (;;) {
      if (cancelled) return 'dropped';
      if (!watcher && fs.existsSync(file)) {
        try {
          watcher = fs.watch(file, () => wake?.());
          // Out of inotify watches, or the file went away: the timer covers it.
          watcher.on('error', () => undefined);
        } catch {
          // Not watchable (some network file systems): the timer covers it.
        }
      }
      const before = position;
      position = readAvailable(position);
      const now = Date.now();
      if (position === before && now - lastCheck >= checkRunningMs) {
        lastCheck = now;
        if (!(await isRunning())) {
          readAvailable(position);
          return 'ended';
        }
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pollMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
  })().finally(() => watcher?.close());

  return {
    done,
    cancel: () => {
      cancelled = true;
      wake?.();
    },
  };
}

/** The exit code in the last runner `end` event near the end of a log, if any. */
export function endEventExitCode(file: string): number | undefined {
  let text: string;
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const length = Math.min(size, 64 * 1024);
      const tail = Buffer.alloc(length);
      fs.readSync(fd, tail, 0, length, size - length);
      text = tail.toString('utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return undefined;
  }
  const matches = [...text.matchAll(/"event":"end"[^\n]*"exit_code":(\d+)/g)];
  return matches.length ? Number(matches[matches.length - 1][1]) : undefined;
}

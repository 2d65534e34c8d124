// The servers' child processes and the temp dir: every child is killed and the
// temp dir removed on exit, whatever ends the run. Also bounded waits and the
// servers' memory as /proc reports it.

import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const children = new Set<ChildProcess>();

export function killAll(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  children.clear();
}

/** The temp dir to remove on exit (unset when kept). */
let tempDir: string | undefined;

export function removeTempDirOnExit(dir: string): void {
  tempDir = dir;
}

export function removeTempDir(): void {
  if (!tempDir) return;
  try {
    // Unlink the node_modules link first so nothing can follow it.
    fs.rmSync(path.join(tempDir, 'node_modules'), { force: true });
    fs.rmSync(tempDir, { recursive: true, force: true });
  } catch {
    // best effort
  }
  tempDir = undefined;
}

/** Kills the servers and removes the temp dir when the bench exits or is interrupted. */
export function cleanUpOnExit(): void {
  process.on('exit', () => {
    killAll();
    removeTempDir();
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      killAll();
      removeTempDir();
      process.exit(130);
    });
  }
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface MemoryStatus {
  rssMiB: number;
  hwmMiB: number;
}

export function memoryOf(pid: number | undefined): MemoryStatus | undefined {
  if (pid === undefined) return undefined;
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (field: string): number =>
      Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
    return { rssMiB: kib('VmRSS') / 1024, hwmMiB: kib('VmHWM') / 1024 };
  } catch {
    return undefined;
  }
}

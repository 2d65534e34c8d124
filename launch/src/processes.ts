// Child processes, always spawned from an argv array without a shell, and
// programs found on PATH the way the OS would (PATHEXT on Windows), so the
// user's own ssh, sbatch and python run with their own configuration.

import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Absolute path of `name` on PATH, or undefined. */
export function findExecutable(
  name: string,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  if (name.includes('/') || name.includes(path.sep)) return fs.existsSync(name) ? name : undefined;
  const extensions =
    process.platform === 'win32'
      ? ['', ...(env.PATHEXT ?? '.COM;.EXE;.BAT;.CMD').split(';').filter(Boolean)]
      : [''];
  for (const dir of (env.PATH ?? env.Path ?? '').split(path.delimiter)) {
    if (!dir) continue;
    for (const ext of extensions) {
      const candidate = path.join(dir, name + ext);
      try {
        const stat = fs.statSync(candidate);
        if (stat.isFile()) {
          if (process.platform !== 'win32') fs.accessSync(candidate, fs.constants.X_OK);
          return candidate;
        }
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

export class MissingProgramError extends Error {}

export function requireExecutable(name: string, why: string): string {
  const found = findExecutable(name);
  if (!found) throw new MissingProgramError(`${name} was not found on PATH (needed ${why})`);
  return found;
}

export interface ProcessResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  input?: string | Buffer;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs?: number;
}

/** Runs a program to its end and collects its output. Never throws for a non-zero exit. */
export function runProcess(argv: string[], options: RunOptions = {}): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), {
      env: options.env,
      cwd: options.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
      shell: false,
      windowsHide: true,
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    let timer: ReturnType<typeof setTimeout> | undefined;
    if (options.timeoutMs !== undefined)
      timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.on('error', (err) => {
      if (timer) clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      });
    });
    // A program that does not read its input closes the pipe: that is no error here.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

/** Spawns a long-running program (a log follower) without a shell. */
export function spawnProgram(argv: string[], options: SpawnOptions = {}): ChildProcess {
  return spawn(argv[0], argv.slice(1), { ...options, shell: false, windowsHide: true });
}

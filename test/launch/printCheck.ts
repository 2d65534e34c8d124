// Shared by the kill -9 tests: the printing driver run as a separate process
// (fixtures/print_driver.ts) and the check that the outputs of all its
// attaches together hold every log line once, except announced repeats.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';

const DRIVER = path.join(__dirname, 'fixtures', 'print_driver.ts');
const CLI = path.resolve(__dirname, '..', '..', 'dist', 'cli.js');

/** Who prints: the driver over printRun, or `tunelab logs RUN --follow` as users run it. */
export type Printer = 'driver' | 'cli';

export interface Attach {
  stdout: Buffer;
  stderr: string;
  /** When the driver was gone (ms since the epoch). */
  closedAt: number;
}

/**
 * Runs the driver on run `id`; with `killAfterMs`, kills it with SIGKILL that
 * long after its first output (or after 10 s without any: a log not growing).
 */
export function runDriver(
  workspace: string,
  id: string,
  killAfterMs?: number,
  env: NodeJS.ProcessEnv = {},
  printer: Printer = 'driver',
): Promise<Attach> {
  return new Promise((resolve) => {
    const child =
      printer === 'cli'
        ? spawn(process.execPath, [CLI, 'logs', id, '--follow'], {
            cwd: workspace,
            env: { ...process.env, ...env },
          })
        : spawn(process.execPath, ['--import', 'tsx', DRIVER, workspace, id], {
            cwd: path.resolve(__dirname, '..', '..'),
            env: { ...process.env, ...env },
          });
    const out: Buffer[] = [];
    let err = '';
    const kill = () => child.kill('SIGKILL');
    const fallback = killAfterMs === undefined ? undefined : setTimeout(kill, 10_000);
    child.stdout.on('data', (chunk: Buffer) => {
      if (out.length === 0 && killAfterMs !== undefined) {
        clearTimeout(fallback);
        setTimeout(kill, killAfterMs);
      }
      out.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('close', () => {
      clearTimeout(fallback);
      resolve({ stdout: Buffer.concat(out), stderr: err, closedAt: Date.now() });
    });
  });
}

/**
 * Each attach must start at the line after the last one printed, or up to as
 * many lines before it as it announced (`may-repeat N`); lines are numbered
 * by their first six characters. Returns what happened, for the test's log.
 */
export function checkAttaches(
  attaches: Attach[],
  log: string,
  count: number,
): { announcements: number; repeated: number } {
  const lines = log.split('\n').slice(0, -1);
  assert.equal(lines.length, count);
  let next = 0;
  let repeated = 0;
  let announcements = 0;
  for (const [index, attach] of attaches.entries()) {
    assert.doesNotMatch(attach.stderr, /driver failed/, attach.stderr);
    const text = attach.stdout.toString('utf8');
    if (!text) continue;
    assert.ok(text.endsWith('\n'), `attach ${index} stopped inside a line`);
    const printed = text.slice(0, -1).split('\n');
    // The driver says `may-repeat N`; the CLI `the first N line(s) below may repeat`.
    const announced = /may-repeat (\d+)|first (\d+) line\(s\) below may repeat/.exec(attach.stderr);
    const mayRepeat = Number(announced?.[1] ?? announced?.[2] ?? 0);
    if (mayRepeat) announcements++;
    const first = Number(printed[0].slice(0, 6));
    assert.ok(first <= next, `attach ${index} skipped lines ${next}..${first - 1}`);
    assert.ok(
      first >= next - mayRepeat,
      `attach ${index} repeated ${next - first} lines, announced ${mayRepeat}`,
    );
    repeated += next - first;
    printed.forEach((line, i) => assert.equal(line, lines[first + i], `attach ${index} line ${i}`));
    next = first + printed.length;
  }
  assert.equal(next, count, 'every line was printed');
  return { announcements, repeated };
}

// Copies what a run needs (config, data files, the runner package, the run's
// generated scripts) to the remote working directory, sending only files
// whose size or modification time differ from the remote copy. One ssh call
// lists the remote sizes and mtimes, one pipes a tar stream into `tar -x`
// (which keeps the mtimes, so the next comparison matches).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { runProcess, spawnProgram } from './processes';
import { shPath, shQuote } from './shell';
import { sshArgv, SshError, type SshConnection } from './sshClient';
import { writeTar, type TarEntry } from './tar';

/** Remote layout under the working directory. */
export const REMOTE_RUNNER_DIR = '.tunelab/runner';
export const REMOTE_RUNS_DIR = '.tunelab/runs';

export type SyncEntry = TarEntry;

/** Directory that holds all of `files` (their lowest common ancestor). */
export function commonRoot(files: readonly string[]): string {
  let root = path.dirname(files[0]);
  for (const file of files.slice(1)) {
    while (path.relative(root, file).startsWith('..') || path.isAbsolute(path.relative(root, file)))
      root = path.dirname(root);
  }
  return root;
}

function toPosix(relative: string): string {
  return relative.split(path.sep).join('/');
}

function fileEntry(file: string, name: string): SyncEntry {
  const stat = fs.statSync(file);
  return {
    name,
    file,
    size: stat.size,
    mtimeSeconds: Math.floor(stat.mtimeMs / 1000),
    mode: stat.mode & 0o111 ? 0o755 : 0o644,
  };
}

/** The runner package's Python files (no caches), under `.tunelab/runner/`. */
export function runnerEntries(runnerParent: string): SyncEntry[] {
  const entries: SyncEntry[] = [];
  const walk = (dir: string) => {
    for (const item of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, item.name);
      if (item.isDirectory()) {
        if (item.name !== '__pycache__') walk(full);
      } else if (item.name.endsWith('.py') || item.name.endsWith('.json')) {
        entries.push(
          fileEntry(full, `${REMOTE_RUNNER_DIR}/${toPosix(path.relative(runnerParent, full))}`),
        );
      }
    }
  };
  walk(path.join(runnerParent, 'tunelab_runner'));
  return entries;
}

export interface SyncPlan {
  entries: SyncEntry[];
  /** Config path relative to the working directory (POSIX). */
  configRelative: string;
  /** Local directory mirrored at the working directory. */
  root: string;
}

/**
 * Config and data files keep their layout relative to their common root, so
 * the config's relative paths (`data/train.jsonl`, `../shared/x.jsonl`) still
 * resolve on the remote host.
 */
export function planSync(files: readonly string[], runnerParent: string | undefined): SyncPlan {
  const root = commonRoot(files);
  const entries = files.map((file) => fileEntry(file, toPosix(path.relative(root, file))));
  if (runnerParent) entries.push(...runnerEntries(runnerParent));
  return { entries, configRelative: entries[0].name, root };
}

export function generatedEntry(name: string, text: string, mode = 0o644): SyncEntry {
  const data = Buffer.from(text, 'utf8');
  return { name, data, size: data.length, mtimeSeconds: Math.floor(Date.now() / 1000), mode };
}

/** `@list`, then one line `SIZE MTIME` (or `-`) per name; GNU stat first, BSD stat second. */
export function remoteListCommand(workdir: string, names: readonly string[]): string {
  return (
    `echo @list; cd ${shPath(workdir)} 2>/dev/null || exit 0; ` +
    `for f in ${names.map(shQuote).join(' ')}; do ` +
    `stat -c '%s %Y' -- "$f" 2>/dev/null || stat -f '%z %m' -- "$f" 2>/dev/null || echo -; done`
  );
}

/** Entries whose remote copy is missing or differs in size or mtime. */
export function changedEntries(entries: readonly SyncEntry[], listing: string): SyncEntry[] {
  // After the marker: a login script may print before it.
  const start = listing.indexOf('@list\n');
  const lines = (start === -1 ? '' : listing.slice(start + 6))
    .split('\n')
    .filter((line) => line.trim() !== '');
  if (lines.length !== entries.length) return [...entries];
  return entries.filter((entry, index) => {
    const [size, mtime] = lines[index].trim().split(/\s+/).map(Number);
    return entry.data !== undefined || size !== entry.size || mtime !== entry.mtimeSeconds;
  });
}

export interface SyncResult {
  sent: string[];
  unchanged: number;
}

/** Lists, compares and sends; generated entries (with `data`) are always sent. */
export async function syncToRemote(
  connection: SshConnection,
  workdir: string,
  entries: readonly SyncEntry[],
): Promise<SyncResult> {
  const listArgv = sshArgv(
    connection,
    remoteListCommand(
      workdir,
      entries.map((e) => e.name),
    ),
  );
  const listing = await runProcess(listArgv, { timeoutMs: 120_000 });
  if (listing.code !== 0)
    throw new SshError(
      `listing ${workdir} on ${connection.destination} failed: ${listing.stderr.trim()}`,
    );
  const changed = changedEntries(entries, listing.stdout);
  if (changed.length > 0) await sendTar(connection, workdir, changed);
  return { sent: changed.map((e) => e.name), unchanged: entries.length - changed.length };
}

async function sendTar(
  connection: SshConnection,
  workdir: string,
  entries: readonly SyncEntry[],
): Promise<void> {
  // `-o`: files belong to the remote user, whatever the archive says.
  const command = `mkdir -p ${shPath(workdir)} && cd ${shPath(workdir)} && tar -xof -`;
  const child = spawnProgram(sshArgv(connection, command), { stdio: ['pipe', 'ignore', 'pipe'] });
  const stderr: Buffer[] = [];
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code));
  });
  child.stdin?.on('error', () => undefined);
  try {
    await writeTar(entries, child.stdin!);
  } catch {
    // The remote side closed early; its exit status says why.
  }
  const code = await exited;
  if (code !== 0)
    throw new SshError(
      `copying files to ${connection.destination}:${workdir} failed: ${Buffer.concat(stderr).toString().trim() || `exit ${code}`}`,
    );
}

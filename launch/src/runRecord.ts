// Runs are recorded in the workspace (`.tunelab/runs/<id>.json`) so that a
// reloaded editor or another terminal can find a run again, re-attach to its
// log from the last byte shown and stop it. A record holds no secret values:
// only their names.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TargetKind } from './launchConfig';

export type RunState =
  'starting' | 'pending' | 'running' | 'stopping' | 'completed' | 'failed' | 'cancelled' | 'lost';

export const FINAL_STATES: readonly RunState[] = ['completed', 'failed', 'cancelled', 'lost'];

export function isFinal(state: RunState | 'detached'): boolean {
  return FINAL_STATES.includes(state as RunState);
}

/** How to reach the host the run lives on (ssh target, or slurm through a login node). */
export interface RecordedSsh {
  host: string;
  destination: string;
  port?: number;
  identityFile?: string;
}

export interface RunRecord {
  version: 1;
  id: string;
  /** Absolute path of the config on this machine. */
  config: string;
  target: TargetKind;
  ssh?: RecordedSsh;
  /** Local process id (local target) or remote wrapper pid (ssh target). */
  pid?: number;
  /** SLURM job id. */
  jobId?: string;
  /** Directory holding the log, pid and exit code: local, or on the remote host. */
  runDir: string;
  /** Path of the log, in the same place as runDir. */
  logPath: string;
  /** Remote directory the files were synced to. */
  workdir?: string;
  /** The training's output directory as the config gives it (relative to the config). */
  outputDir?: string;
  /** Byte offset just past the last complete log line shown by the last stream. */
  logOffset: number;
  state: RunState;
  exitCode?: number;
  /** The job's command line (never with secret values). */
  command: string[];
  /** Names of the secrets passed to the job (values are never recorded). */
  secretNames: string[];
  createdAt: string;
  updatedAt: string;
  endedAt?: string;
  message?: string;
}

const ID_SAFE = /[^A-Za-z0-9._-]+/g;

/** `<config stem>-<yyyymmdd-hhmmss>-<4 hex>`: sortable, and safe in file names and shells. */
export function newRunId(configPath: string, now = new Date()): string {
  const stem = path
    .basename(configPath)
    .replace(/\.(finetune\.)?ya?ml$/i, '')
    .replace(ID_SAFE, '_')
    .slice(0, 40);
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').replace(/\..*$/, '');
  return `${stem || 'run'}-${stamp}-${crypto.randomBytes(2).toString('hex')}`;
}

export function isValidRunId(id: string): boolean {
  return /^[A-Za-z0-9._-]+$/.test(id) && !id.startsWith('.');
}

export class RunStore {
  readonly dir: string;

  constructor(readonly workspaceDir: string) {
    this.dir = path.join(workspaceDir, '.tunelab', 'runs');
  }

  /** Directory for a local run's files (log, exit code, job script). */
  runDir(id: string): string {
    return path.join(this.dir, id);
  }

  recordPath(id: string): string {
    if (!isValidRunId(id)) throw new Error(`not a run id: ${id}`);
    return path.join(this.dir, `${id}.json`);
  }

  ensureDir(): void {
    if (fs.existsSync(this.dir)) return;
    fs.mkdirSync(this.dir, { recursive: true });
    // Runs are per machine: keep them out of version control without touching .gitignore.
    const ignore = path.join(this.workspaceDir, '.tunelab', '.gitignore');
    if (!fs.existsSync(ignore)) fs.writeFileSync(ignore, '*\n');
  }

  save(record: RunRecord): RunRecord {
    this.ensureDir();
    record.updatedAt = new Date().toISOString();
    const file = this.recordPath(record.id);
    const temp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(temp, JSON.stringify(record, null, 2) + '\n', { mode: 0o600 });
    fs.renameSync(temp, file);
    return record;
  }

  load(id: string): RunRecord | undefined {
    try {
      return JSON.parse(fs.readFileSync(this.recordPath(id), 'utf8')) as RunRecord;
    } catch {
      return undefined;
    }
  }

  /** Reads the newest record, applies `patch` and writes it back (other writers' fields survive). */
  update(id: string, patch: Partial<RunRecord>): RunRecord | undefined {
    const current = this.load(id);
    if (!current) return undefined;
    return this.save({ ...current, ...patch });
  }

  /** All records, newest first. */
  list(): RunRecord[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.dir);
    } catch {
      return [];
    }
    return names
      .filter((name) => name.endsWith('.json'))
      .map((name) => this.load(name.slice(0, -5)))
      .filter((record): record is RunRecord => record !== undefined)
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  /** A run by id, by unique id prefix, or `last`/`latest`. */
  find(idOrPrefix: string): RunRecord | undefined {
    if (idOrPrefix === 'last' || idOrPrefix === 'latest') return this.list()[0];
    if (isValidRunId(idOrPrefix)) {
      const exact = this.load(idOrPrefix);
      if (exact) return exact;
    }
    const matches = this.list().filter((record) => record.id.startsWith(idOrPrefix));
    return matches.length === 1 ? matches[0] : undefined;
  }
}

/** The workspace for the CLI: the nearest directory upwards holding `.tunelab`, else `start`. */
export function findWorkspace(start: string): string {
  let dir = path.resolve(start);
  for (;;) {
    if (fs.existsSync(path.join(dir, '.tunelab'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return path.resolve(start);
    dir = parent;
  }
}

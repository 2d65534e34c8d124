// Runs are recorded in the workspace (`.tunelab/runs/<id>.json`) so that a
// reloaded editor or another terminal can find a run again, re-attach to its
// log from the last byte shown and stop it. A record holds no secret values:
// only their names.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MAX_CONFIG_BYTES, parseYaml } from '../../engine/src/parse';
import type { LaunchEstimate } from './hostPaces';
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

export type RunKind = 'train' | 'eval' | 'export';

export interface RunRecord {
  version: 1;
  id: string;
  /** What the job does; absent in records older than evaluation: 'train'. */
  kind?: RunKind;
  /** For an evaluation: the id of the training run it evaluates. */
  evalOf?: string;
  /** For an export (adapter or merged model): the id of the training run it exports. */
  exportOf?: string;
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
  /**
   * Byte offset just past the last complete log line shown by the last stream.
   * Kept in `<id>.position` (see LogPositionFile), which wins over this copy.
   */
  logOffset: number;
  /** Set when the last stream was killed while printing (see LogInFlight). */
  logInFlight?: LogInFlight;
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
  /** A training's time estimate at launch, in the parts a host pace moves (hostPaces.ts). */
  estimate?: LaunchEstimate;
  /** The runner's measured steady step, seconds, once it taught the host pace (hostPaces.ts). */
  steadyStepSeconds?: number;
  /** Set while that steady step is of the steps so far: the completed end's, of all, replaces it. */
  steadyStepSoFar?: boolean;
  /**
   * A pace probe of this many steps (`train --probe`, paceProbe.ts): it times the
   * target's host for the estimate and keeps no model.
   */
  probe?: number;
}

/**
 * A stream was killed between announcing lines and recording them as shown:
 * the `lines` lines from `logOffset` up to byte `to` may or may not have been
 * printed. The next attach resumes at `logOffset` (no line lost) and says so.
 */
export interface LogInFlight {
  to: number;
  lines: number;
}

export interface LogPosition {
  offset: number;
  inFlight?: LogInFlight;
}

/** Fixed size, so every update is one positional write over the last. */
const POSITION_BYTES = 128;

/**
 * A run's stream position in a file of its own, rewritten in place with one
 * write(2): a process killed at any moment leaves either the old or the new
 * position, never a torn one or a temp file (and one syscall per update keeps
 * the printing loop cheap). Only the printing stream writes it.
 */
export class LogPositionFile {
  private fd: number | undefined;

  constructor(readonly file: string) {
    this.fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
  }

  /** Before printing the bytes from `from` up to `to` (`lines` lines). */
  begin(from: number, to: number, lines: number): void {
    this.put({ offset: from, inFlight: { to, lines } });
  }

  /** After the bytes up to `offset` were handed to the OS. */
  commit(offset: number): void {
    this.put({ offset });
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }

  private put(position: LogPosition): void {
    if (this.fd === undefined) throw new Error(`${this.file} is closed`);
    const text = JSON.stringify(position).padEnd(POSITION_BYTES - 1) + '\n';
    fs.writeSync(this.fd, text, 0);
  }
}

export function readLogPosition(file: string): LogPosition | undefined {
  try {
    const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as LogPosition;
    return Number.isSafeInteger(parsed.offset) && parsed.offset >= 0 ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** `<name>.<pid>.tmp` of a process that is gone: what a kill between write and rename leaves. */
function isStaleTemp(name: string): boolean {
  const match = /\.(\d+)\.tmp$/.exec(name);
  if (!match) return false;
  try {
    process.kill(Number(match[1]), 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
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

  /** The file holding the stream position (see LogPositionFile). */
  positionPath(id: string): string {
    return this.recordPath(id).replace(/\.json$/, '.position');
  }

  /** Opens the position for the stream that prints the run's log; close it when done. */
  openLogPosition(id: string): LogPositionFile {
    this.ensureDir();
    return new LogPositionFile(this.positionPath(id));
  }

  /** Removes temp records of killed writers (all of them, or those of one run). */
  removeStaleTemps(id?: string): void {
    let names: string[];
    try {
      names = fs.readdirSync(this.dir);
    } catch {
      return;
    }
    const prefix = id === undefined ? '' : `${id}.json.`;
    for (const name of names)
      if (name.startsWith(prefix) && name.endsWith('.tmp') && isStaleTemp(name))
        fs.rmSync(path.join(this.dir, name), { force: true });
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
    if (!isValidRunId(id)) return undefined;
    this.removeStaleTemps(id);
    return this.read(id);
  }

  private read(id: string): RunRecord | undefined {
    if (!isValidRunId(id)) return undefined;
    let record: RunRecord;
    try {
      record = JSON.parse(fs.readFileSync(this.recordPath(id), 'utf8')) as RunRecord;
    } catch {
      return undefined;
    }
    const position = readLogPosition(this.positionPath(id));
    if (position) {
      record.logOffset = position.offset;
      if (position.inFlight) record.logInFlight = position.inFlight;
      else delete record.logInFlight;
    }
    return record;
  }

  /** Reads the newest record, applies `patch` and writes it back (other writers' fields survive). */
  update(id: string, patch: Partial<RunRecord>): RunRecord | undefined {
    const current = this.load(id);
    if (!current) return undefined;
    return this.save({ ...current, ...patch });
  }

  /** All records, newest first. */
  list(): RunRecord[] {
    this.removeStaleTemps();
    let names: string[];
    try {
      names = fs.readdirSync(this.dir);
    } catch {
      return [];
    }
    return names
      .filter((name) => name.endsWith('.json') && !name.endsWith('.eval.json'))
      .map((name) => this.read(name.slice(0, -5)))
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

/** The run's config as parsed YAML; throws, naming the run, when it is gone, unreadable or over the engine's size cap. */
export function readRunConfig(record: RunRecord): unknown {
  let text: string;
  try {
    if (fs.statSync(record.config).size > MAX_CONFIG_BYTES)
      throw new Error(`larger than ${MAX_CONFIG_BYTES} bytes`);
    text = fs.readFileSync(record.config, 'utf8');
  } catch (err) {
    throw new Error(`run ${record.id}: cannot read ${record.config}: ${(err as Error).message}`);
  }
  return parseYaml(text).value;
}

// A training run's artefacts in its output directory (checkpoints, adapter,
// merged export, eval.json, the config copy), on the run's target: the local
// file system, or the run's ssh host in one `ssh` call. Deleting is limited to
// the direct children of the run's output directory, so no recorded or typed
// path can reach anything else.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { isRecord, valueAt } from '../../engine/src/parse';
import { loadLaunchSpec } from './launchConfig';
import { parseEvent } from './logParser';
import { readRunConfig, type RunRecord } from './runRecord';
import { remoteJoin, shPath, shQuote } from './shell';
import { runRemote, type SshConnection } from './sshClient';
import { commonRoot } from './sync';

export type ArtefactKind = 'checkpoint' | 'adapter' | 'merged' | 'eval' | 'config' | 'other';

export interface Artefact {
  kind: ArtefactKind;
  name: string;
  /** Absolute path on the run's target (a remote path may start with `~/`). */
  path: string;
  bytes: number;
  directory: boolean;
  /** checkpoint-N: N. */
  step?: number;
  /** The eval_* metrics logged at that step, when the events or trainer_state.json have them. */
  metrics?: Record<string, number>;
  /** Inside the output directory (a merged export elsewhere can be listed, not deleted). */
  deletable: boolean;
}

export interface ArtefactLocation {
  outputDir: string;
  /** export.output_dir (default `<output_dir>/merged`). */
  exportDir: string;
  /** Set when the run lives on a remote host. */
  ssh?: SshConnection;
  /** model.name_or_path of the run's config. */
  baseModel?: string;
}

export interface RunArtefacts extends ArtefactLocation {
  artefacts: Artefact[];
  /** sha256 of the config, from tunelab-config.json. */
  configHash?: string;
  /** The output directory does not exist (yet). */
  missing?: boolean;
}

export class ArtefactError extends Error {}

const CHECKPOINT = /^checkpoint-(\d+)$/;

function readConfig(record: RunRecord): unknown {
  try {
    return readRunConfig(record);
  } catch {
    return undefined; // Deleted or unreadable: the recorded output dir still locates the run.
  }
}

function stringAt(value: unknown, keys: string[]): string | undefined {
  const found = valueAt(value, keys);
  return typeof found === 'string' && found !== '' ? found : undefined;
}

/** The config's directory on the run's target: synced below the workdir for a remote run. */
function remoteConfigDir(record: RunRecord, workdir: string): string {
  let relative = path.basename(record.config);
  try {
    // The same layout sync.ts gives the files: relative to their common root.
    const spec = loadLaunchSpec(record.config, record.target);
    relative = path.relative(commonRoot(spec.files), record.config).split(path.sep).join('/');
  } catch {
    // Config gone: it was most likely synced alone, at the top of the workdir.
  }
  return remoteJoin(workdir, path.posix.dirname(relative));
}

/** model.name_or_path of a run's config (no remote call): what a family of runs shares. */
export function baseModelOf(record: RunRecord): string | undefined {
  return stringAt(readConfig(record), ['model', 'name_or_path']);
}

/** Where a run's artefacts are: its config's output dirs, resolved as the runner resolves them. */
export function locateArtefacts(record: RunRecord, sshConfigFile?: string): ArtefactLocation {
  const config = readConfig(record);
  const output = stringAt(config, ['training', 'output_dir']) ?? record.outputDir ?? 'runs/out';
  const exported = stringAt(config, ['export', 'output_dir']);
  const baseModel = stringAt(config, ['model', 'name_or_path']);
  if (!record.ssh) {
    const outputDir = path.resolve(path.dirname(record.config), output);
    const exportDir = exported
      ? path.resolve(path.dirname(record.config), exported)
      : path.join(outputDir, 'merged');
    return { outputDir, exportDir, baseModel };
  }
  if (!record.workdir) throw new ArtefactError(`run ${record.id} has no remote workdir recorded`);
  const configDir = remoteConfigDir(record, record.workdir);
  const resolve = (p: string) =>
    path.posix.normalize(p.startsWith('/') || p.startsWith('~') ? p : remoteJoin(configDir, p));
  const outputDir = resolve(output);
  return {
    outputDir,
    exportDir: exported ? resolve(exported) : remoteJoin(outputDir, 'merged'),
    ssh: { ...record.ssh, configFile: sshConfigFile },
    baseModel,
  };
}

/** What was read on the target, before it is interpreted (the same for local and ssh). */
interface RawListing {
  entries: { name: string; directory: boolean; bytes: number }[];
  exportBytes?: number;
  meta?: string;
  evalLines: string[];
  /** checkpoint name → its trainer_state.json. */
  states: Map<string, string>;
}

function treeBytes(file: string): number {
  const stat = fs.lstatSync(file); // A link counts as itself: nothing outside is measured.
  if (!stat.isDirectory()) return stat.size;
  let total = 0;
  for (const name of fs.readdirSync(file)) total += treeBytes(path.join(file, name));
  return total;
}

function readOr(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function readLocal(location: ArtefactLocation, record: RunRecord): RawListing | undefined {
  const { outputDir, exportDir } = location;
  if (!fs.existsSync(outputDir)) return undefined;
  const entries = fs.readdirSync(outputDir, { withFileTypes: true }).map((entry) => ({
    name: entry.name,
    directory: entry.isDirectory(),
    bytes: treeBytes(path.join(outputDir, entry.name)),
  }));
  const states = new Map<string, string>();
  for (const entry of entries) {
    const state = CHECKPOINT.test(entry.name)
      ? readOr(path.join(outputDir, entry.name, 'trainer_state.json'))
      : undefined;
    if (state) states.set(entry.name, state);
  }
  // The run log adds eval events of tools that write no events.jsonl; a huge log is skipped.
  const logSize = fs.existsSync(record.logPath) ? fs.statSync(record.logPath).size : 0;
  const logs = [
    readOr(path.join(outputDir, 'events.jsonl')),
    logSize < 64 * 1024 * 1024 ? readOr(record.logPath) : undefined,
  ];
  return {
    entries,
    exportBytes: fs.existsSync(exportDir) ? treeBytes(exportDir) : undefined,
    meta: readOr(path.join(outputDir, 'tunelab-config.json')),
    evalLines: logs.flatMap((text) => (text ?? '').split('\n').filter((l) => l.includes('eval'))),
    states,
  };
}

const SECTION = '@@tunelab-artefacts ';

/** One remote shell command that prints every part of RawListing in marked sections. */
export function remoteListCommand(location: ArtefactLocation, logPath?: string): string {
  const log = logPath ? ` ${shPath(logPath)}` : '';
  const mark = (name: string) => `echo ${shQuote(SECTION + name)}`;
  return [
    `cd ${shPath(location.outputDir)} 2>/dev/null || { ${mark('missing')}; exit 0; }`,
    mark('list'),
    `find . -mindepth 1 -maxdepth 1 -printf '%y %P\\n'`,
    mark('sizes'),
    `du -sb -- ./* ./.[!.]* 2>/dev/null`,
    mark('export'),
    `du -sb -- ${shPath(location.exportDir)} 2>/dev/null`,
    mark('meta'),
    `tr -d '\\n' < tunelab-config.json 2>/dev/null; echo`,
    mark('events'),
    `grep -h '"event": *"eval"' events.jsonl${log} 2>/dev/null`,
    `for f in checkpoint-*/trainer_state.json; do [ -f "$f" ] || continue; ` +
      `echo ${shQuote(SECTION + 'state ')}"\${f%/trainer_state.json}"; tr -d '\\n' < "$f"; echo; done`,
    'exit 0',
  ].join('\n');
}

/** Parses remoteListCommand's output; undefined when the output directory does not exist. */
export function parseRemoteListing(stdout: string): RawListing | undefined {
  const types = new Map<string, boolean>();
  const sizes = new Map<string, number>();
  const raw: RawListing = { entries: [], evalLines: [], states: new Map() };
  let section = '';
  for (const line of stdout.split('\n')) {
    if (line.startsWith(SECTION)) {
      section = line.slice(SECTION.length);
      if (section === 'missing') return undefined;
      continue;
    }
    if (line === '') continue;
    const du = /^(\d+)\t(.*)$/.exec(line);
    if (section === 'list') types.set(line.slice(2), line.startsWith('d '));
    else if (section === 'sizes' && du) sizes.set(du[2].replace(/^\.\//, ''), Number(du[1]));
    else if (section === 'export' && du) raw.exportBytes = Number(du[1]);
    else if (section === 'meta') raw.meta = line;
    else if (section === 'events') raw.evalLines.push(line);
    else if (section.startsWith('state ')) raw.states.set(section.slice(6), line);
  }
  for (const [name, directory] of types)
    raw.entries.push({ name, directory, bytes: sizes.get(name) ?? 0 });
  return raw;
}

/** eval_* metrics by step, from runner `eval` events and the Trainer's trainer_state.json. */
function metricsByStep(raw: RawListing): Map<number, Record<string, number>> {
  const byStep = new Map<number, Record<string, number>>();
  const add = (step: unknown, metrics: Record<string, unknown>) => {
    if (typeof step !== 'number') return;
    const numbers = Object.entries(metrics).filter(
      (entry): entry is [string, number] =>
        entry[0].startsWith('eval_') && typeof entry[1] === 'number',
    );
    if (numbers.length) byStep.set(step, { ...byStep.get(step), ...Object.fromEntries(numbers) });
  };
  for (const text of raw.states.values()) {
    try {
      const history = (JSON.parse(text) as { log_history?: unknown }).log_history;
      if (Array.isArray(history))
        for (const entry of history) if (isRecord(entry)) add(entry.step, entry);
    } catch {
      // A checkpoint being written: its metrics come from the events instead.
    }
  }
  for (const line of raw.evalLines) {
    const event = parseEvent(line) ?? parseEvent(`@tunelab ${line.trim()}`);
    if (event?.event === 'eval' && isRecord(event.metrics)) add(event.step, event.metrics);
  }
  return byStep;
}

function kindOf(name: string, exportName: string | undefined): ArtefactKind {
  if (CHECKPOINT.test(name)) return 'checkpoint';
  if (name === 'adapter') return 'adapter';
  if (name === exportName) return 'merged';
  if (name === 'eval.json') return 'eval';
  if (name === 'tunelab-config.json' || name === 'tunelab-config.yaml') return 'config';
  return 'other';
}

function interpret(location: ArtefactLocation, raw: RawListing | undefined): RunArtefacts {
  if (!raw) return { ...location, artefacts: [], missing: true };
  const join = location.ssh ? remoteJoin : path.join;
  const inside = location.ssh
    ? path.posix.dirname(location.exportDir)
    : path.dirname(location.exportDir);
  const exportName = inside === location.outputDir ? path.basename(location.exportDir) : undefined;
  const metrics = metricsByStep(raw);
  const artefacts: Artefact[] = raw.entries
    .filter((entry) => entry.name !== 'events.jsonl')
    .map((entry) => {
      const step = CHECKPOINT.exec(entry.name)?.[1];
      const artefact: Artefact = {
        kind: kindOf(entry.name, exportName),
        name: entry.name,
        path: join(location.outputDir, entry.name),
        bytes: entry.bytes,
        directory: entry.directory,
        deletable: true,
      };
      if (step !== undefined) {
        artefact.step = Number(step);
        const found = metrics.get(artefact.step);
        if (found) artefact.metrics = found;
      }
      return artefact;
    });
  if (!exportName && raw.exportBytes !== undefined)
    artefacts.push({
      kind: 'merged',
      name: path.basename(location.exportDir),
      path: location.exportDir,
      bytes: raw.exportBytes,
      directory: true,
      deletable: false,
    });
  const order: ArtefactKind[] = ['checkpoint', 'adapter', 'merged', 'eval', 'config', 'other'];
  artefacts.sort(
    (a, b) =>
      order.indexOf(a.kind) - order.indexOf(b.kind) ||
      (a.step ?? 0) - (b.step ?? 0) ||
      a.name.localeCompare(b.name),
  );
  let configHash: string | undefined;
  try {
    const meta = raw.meta ? (JSON.parse(raw.meta) as { sha256?: unknown }) : undefined;
    if (typeof meta?.sha256 === 'string') configHash = meta.sha256;
  } catch {
    // No readable hash: shown as unknown.
  }
  return { ...location, artefacts, configHash };
}

/** Lists a run's artefacts on its target. */
export async function listArtefacts(
  record: RunRecord,
  sshConfigFile?: string,
): Promise<RunArtefacts> {
  const location = locateArtefacts(record, sshConfigFile);
  if (!location.ssh) return interpret(location, readLocal(location, record));
  const result = await runRemote(location.ssh, remoteListCommand(location, record.logPath), {
    timeoutMs: 60_000,
  });
  if (result.code !== 0)
    throw new ArtefactError(`listing ${location.outputDir} failed: ${result.stderr.trim()}`);
  return interpret(location, parseRemoteListing(result.stdout));
}

/**
 * Throws unless `target` is a direct child of the output directory: not the
 * directory itself, not a parent, not a path through `..` or a deeper one
 * (a child could be a link to anywhere).
 */
export function checkDeletable(location: ArtefactLocation, target: string): string {
  const p = location.ssh ? path.posix : path;
  const resolved = location.ssh ? path.posix.normalize(target) : path.resolve(target);
  const relative = p.relative(location.outputDir, resolved);
  if (
    relative === '' ||
    relative.startsWith('..') ||
    p.isAbsolute(relative) ||
    relative.includes(p.sep) ||
    target.split(/[\\/]/).includes('..')
  )
    throw new ArtefactError(
      `refusing to delete ${target}: not an artefact in ${location.outputDir}`,
    );
  return resolved;
}

/** Deletes artefacts (paths from listArtefacts) of a run; one ssh call for a remote run. */
export async function deleteArtefacts(
  record: RunRecord,
  targets: string[],
  sshConfigFile?: string,
): Promise<void> {
  const location = locateArtefacts(record, sshConfigFile);
  const checked = targets.map((target) => checkDeletable(location, target));
  if (!checked.length) return;
  if (!location.ssh) {
    for (const target of checked) fs.rmSync(target, { recursive: true, force: true });
    return;
  }
  const result = await runRemote(location.ssh, `rm -rf -- ${checked.map(shPath).join(' ')}`);
  if (result.code !== 0) throw new ArtefactError(`rm failed: ${result.stderr.trim()}`);
}

/** Lower is better for losses and perplexities, higher for everything else. */
export function lowerIsBetter(metric: string): boolean {
  return /loss|perplexity|ppl|bits_per_byte|error/i.test(metric);
}

export interface KeepBestPlan {
  metric: string;
  best: Artefact;
  remove: Artefact[];
}

/** The checkpoint to keep (the best by `metric`, eval_loss by default) and those to delete. */
export function planKeepBest(listing: RunArtefacts, metric = 'eval_loss'): KeepBestPlan {
  const key = metric.startsWith('eval_') ? metric : `eval_${metric}`;
  const checkpoints = listing.artefacts.filter((a) => a.kind === 'checkpoint');
  const scored = checkpoints.filter((a) => Number.isFinite(a.metrics?.[key]));
  if (!scored.length)
    throw new ArtefactError(
      `no checkpoint of ${listing.outputDir} has ${key} in its events or trainer state`,
    );
  const sign = lowerIsBetter(key) ? 1 : -1;
  const best = scored.reduce((a, b) => (sign * (b.metrics![key] - a.metrics![key]) < 0 ? b : a));
  return { metric: key, best, remove: checkpoints.filter((a) => a !== best) };
}

/** Deletes every checkpoint but the best one; returns what was kept and deleted. */
export async function keepBest(
  record: RunRecord,
  options: { metric?: string; sshConfigFile?: string } = {},
): Promise<KeepBestPlan> {
  const plan = planKeepBest(await listArtefacts(record, options.sshConfigFile), options.metric);
  await deleteArtefacts(
    record,
    plan.remove.map((a) => a.path),
    options.sshConfigFile,
  );
  return plan;
}

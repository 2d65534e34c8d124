// The Runs view: every run recorded in the workspace folders, newest first,
// with its state. Runs nobody follows are polled now and then (an ssh or
// squeue call each), and the view refreshes when the CLI records a run.
// A training run opens onto its artefacts (read when expanded: one ssh call
// for a remote run); two or more runs of one base model sit under a family.

import * as vscode from 'vscode';
import { verdictLine } from '../../../launch/src/compare';
import { latestEvaluation, type EvalResult } from '../../../launch/src/evalResult';
import {
  baseModelOf,
  listArtefacts,
  type Artefact,
  type RunArtefacts,
} from '../../../launch/src/artefacts';
import { refreshRun } from '../../../launch/src/launcher';
import { groupFamilies, type Family } from '../../../launch/src/runFamilies';
import { isFinal, RunStore, type RunRecord, type RunState } from '../../../launch/src/runRecord';

const ICONS: Record<RunState, [string, string?]> = {
  starting: ['loading~spin'],
  pending: ['clock', 'charts.yellow'],
  running: ['sync~spin', 'charts.blue'],
  stopping: ['debug-stop', 'charts.orange'],
  completed: ['pass', 'testing.iconPassed'],
  failed: ['error', 'testing.iconFailed'],
  cancelled: ['circle-slash'],
  lost: ['question', 'charts.orange'],
};

const POLL_MS = 20_000;

const ARTEFACT_ICONS: Record<Artefact['kind'], string> = {
  checkpoint: 'save',
  adapter: 'extensions',
  merged: 'package',
  eval: 'checklist',
  config: 'settings-gear',
  other: 'file',
};

export interface RunItem {
  record: RunRecord;
  store: RunStore;
  /** Its evaluation, kept with the record (its own, or its newest eval run's). */
  evaluation?: EvalResult;
}

/** Runs of one base model (two or more), grouped. */
export type FamilyNode = Family<RunItem>;

/** One artefact of a training run, with the listing it came from. */
export interface ArtefactNode {
  run: RunItem;
  listing: RunArtefacts;
  artefact: Artefact;
}

/** A line in place of artefacts: none yet, or why they could not be read. */
export interface NoteNode {
  note: string;
  error?: boolean;
}

export type RunsNode = RunItem | FamilyNode | ArtefactNode | NoteNode;

/** A training run's node of the Runs view (what its commands receive). */
export function isRunItem(value: unknown): value is RunItem {
  return !!value && typeof value === 'object' && 'record' in value && 'store' in value;
}

export function isArtefactNode(value: unknown): value is ArtefactNode {
  return !!value && typeof value === 'object' && 'artefact' in value && 'listing' in value;
}

/** A training that kept a model (a pace probe only timed its host). */
export const isTraining = (record: RunRecord) =>
  (record.kind ?? 'train') === 'train' && record.probe === undefined;

/** Bytes as KB/MB/GB (powers of 1000, as disk sizes are usually quoted). */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

function metricsLine(metrics: Record<string, number> | undefined): string {
  return Object.entries(metrics ?? {})
    .map(([key, value]) => `${key.replace(/^eval_/, '')} ${Number(value.toPrecision(4))}`)
    .join(' · ');
}

export class RunsTreeProvider implements vscode.TreeDataProvider<RunsNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<RunsNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private timer: ReturnType<typeof setInterval> | undefined;
  private polling = false;

  constructor(
    private readonly stores: () => RunStore[],
    private readonly followed: (id: string) => boolean,
    private readonly sshConfigFile: () => string | undefined,
  ) {}

  refresh(): void {
    this.changed.fire(undefined);
  }

  /** Polls the state of runs nobody follows while the view is visible. */
  setVisible(visible: boolean): void {
    if (visible && !this.timer) {
      this.timer = setInterval(() => void this.poll(), POLL_MS);
      void this.poll();
    } else if (!visible && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      let moved = false;
      for (const item of this.items()) {
        if (isFinal(item.record.state) || this.followed(item.record.id)) continue;
        try {
          const updated = await refreshRun(item.store, item.record, this.sshConfigFile());
          moved ||= updated.state !== item.record.state;
        } catch {
          // Host unreachable right now: the state stays as recorded.
        }
      }
      if (moved) this.refresh();
    } finally {
      this.polling = false;
    }
  }

  /** The runs with these ids, in that order; an unknown id is an error. */
  withIds(ids: readonly string[]): RunItem[] {
    const items = this.items();
    return ids.map((id) => {
      const found = items.find((item) => item.record.id === id);
      if (!found) throw new Error(`no run ${id} in this workspace`);
      return found;
    });
  }

  items(): RunItem[] {
    return this.stores()
      .flatMap((store) => {
        const records = store.list();
        return records.map((record) => ({
          record,
          store,
          evaluation: latestEvaluation(store, record, records),
        }));
      })
      .sort((a, b) => b.record.createdAt.localeCompare(a.record.createdAt));
  }

  /** The root: runs, those of a base model shared by two or more training runs in a family. */
  roots(): RunsNode[] {
    return groupFamilies(this.items(), (item) =>
      isTraining(item.record) ? baseModelOf(item.record) : undefined,
    );
  }

  async getChildren(element?: RunsNode): Promise<RunsNode[]> {
    if (!element) return this.roots();
    if ('family' in element) return element.runs;
    if (!('record' in element) || !isTraining(element.record)) return [];
    try {
      const listing = await listArtefacts(element.record, this.sshConfigFile());
      if (listing.missing) return [{ note: `no output yet in ${listing.outputDir}` }];
      if (!listing.artefacts.length) return [{ note: `${listing.outputDir} is empty` }];
      return listing.artefacts.map((artefact) => ({ run: element, listing, artefact }));
    } catch (error) {
      return [{ note: `artefacts unreadable: ${(error as Error).message}`, error: true }];
    }
  }

  getTreeItem(node: RunsNode): vscode.TreeItem {
    if ('family' in node) {
      const item = new vscode.TreeItem(node.family, vscode.TreeItemCollapsibleState.Expanded);
      item.description = `${node.runs.length} runs`;
      item.iconPath = new vscode.ThemeIcon('type-hierarchy');
      item.tooltip = `Runs fine-tuning ${node.family}`;
      item.contextValue = 'tunelabFamily';
      return item;
    }
    if ('note' in node) {
      const item = new vscode.TreeItem(node.note, vscode.TreeItemCollapsibleState.None);
      item.iconPath = new vscode.ThemeIcon(node.error ? 'warning' : 'info');
      return item;
    }
    if ('artefact' in node) return this.artefactItem(node);
    return this.runItem(node);
  }

  private artefactItem({ listing, artefact }: ArtefactNode): vscode.TreeItem {
    const item = new vscode.TreeItem(artefact.name, vscode.TreeItemCollapsibleState.None);
    const metrics = metricsLine(artefact.metrics);
    item.description = [formatBytes(artefact.bytes), metrics].filter(Boolean).join(' · ');
    item.iconPath = new vscode.ThemeIcon(ARTEFACT_ICONS[artefact.kind]);
    const where = listing.ssh ? `${listing.ssh.destination}:` : '';
    item.tooltip = new vscode.MarkdownString(
      [
        `**${artefact.name}** (${artefact.kind})`,
        `\`${where}${artefact.path}\``,
        `size: ${formatBytes(artefact.bytes)}`,
        metrics ? `eval: ${metrics}` : '',
        `config hash: \`${listing.configHash ?? 'unknown (no tunelab-config.json)'}\``,
        artefact.deletable ? '' : 'outside the output directory: not deleted from here',
      ]
        .filter(Boolean)
        .join('  \n'),
    );
    // tunelabArtefact.<kind>.<local|remote>[.deletable]: the menus match on these parts.
    item.contextValue = [
      'tunelabArtefact',
      artefact.kind,
      listing.ssh ? 'remote' : 'local',
      artefact.deletable ? 'deletable' : '',
    ]
      .filter(Boolean)
      .join('.');
    return item;
  }

  private runItem({ record, evaluation }: RunItem): vscode.TreeItem {
    const item = new vscode.TreeItem(
      record.id,
      isTraining(record)
        ? vscode.TreeItemCollapsibleState.Collapsed
        : vscode.TreeItemCollapsibleState.None,
    );
    const where = record.ssh ? ` · ${record.ssh.host}` : '';
    const handle = record.jobId ? ` · job ${record.jobId}` : '';
    const exit = record.exitCode === undefined ? '' : ` (exit ${record.exitCode})`;
    const kind =
      record.kind === 'eval'
        ? `eval of ${record.evalOf ?? '?'} · `
        : record.probe !== undefined
          ? `pace probe (${record.probe} steps) · `
          : '';
    const verdict = evaluation ? ` · ${verdictLine(evaluation)}` : '';
    item.description = `${kind}${record.state}${exit}${verdict} · ${record.target}${where}${handle}`;
    const [icon, color] = ICONS[record.state] ?? ['circle-outline'];
    item.iconPath = new vscode.ThemeIcon(icon, color ? new vscode.ThemeColor(color) : undefined);
    item.tooltip = new vscode.MarkdownString(
      [
        `**${record.id}**`,
        `config: \`${record.config}\``,
        `started: ${new Date(record.createdAt).toLocaleString()}`,
        record.endedAt ? `ended: ${new Date(record.endedAt).toLocaleString()}` : '',
        record.message ?? '',
        evaluation ? `evaluation: ${verdictLine(evaluation)}` : '',
      ]
        .filter(Boolean)
        .join('  \n'),
    );
    item.contextValue = isFinal(record.state) ? 'tunelabRun.ended' : 'tunelabRun.active';
    item.command = { command: 'tunelab.attachRun', title: 'Attach to run', arguments: [record.id] };
    return item;
  }

  dispose(): void {
    this.setVisible(false);
    this.changed.dispose();
  }
}

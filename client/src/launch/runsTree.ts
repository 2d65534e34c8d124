// The Runs view: every run recorded in the workspace folders, newest first,
// with its state. Runs nobody follows are polled now and then (an ssh or
// squeue call each), and the view refreshes when the CLI records a run.

import * as vscode from 'vscode';
import { verdictLine } from '../../../launch/src/compare';
import { latestEvaluation, type EvalResult } from '../../../launch/src/evalResult';
import { refreshRun } from '../../../launch/src/launcher';
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

export interface RunItem {
  record: RunRecord;
  store: RunStore;
  /** Its evaluation, kept with the record (its own, or its newest eval run's). */
  evaluation?: EvalResult;
}

export class RunsTreeProvider implements vscode.TreeDataProvider<RunItem>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<RunItem | undefined>();
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

  getChildren(element?: RunItem): RunItem[] {
    return element ? [] : this.items();
  }

  getTreeItem({ record, evaluation }: RunItem): vscode.TreeItem {
    const item = new vscode.TreeItem(record.id, vscode.TreeItemCollapsibleState.None);
    const where = record.ssh ? ` · ${record.ssh.host}` : '';
    const handle = record.jobId ? ` · job ${record.jobId}` : '';
    const exit = record.exitCode === undefined ? '' : ` (exit ${record.exitCode})`;
    const kind = record.kind === 'eval' ? `eval of ${record.evalOf ?? '?'} · ` : '';
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

// Launching and attaching in the editor: one RunSession per followed run, the
// status bar showing the newest active one, and a run's failures published
// as diagnostics ('tunelab-run') on the config keys to change.

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  LaunchConfigError,
  loadLaunchSpec,
  keyRange,
  type TargetKind,
} from '../../../launch/src/launchConfig';
import { launchRun, stopRun } from '../../../launch/src/launcher';
import { formatStatus } from '../../../launch/src/progressModel';
import { parseYaml } from '../../../engine/src/parse';
import { RUN_DIAGNOSTIC_SOURCE, runFindings } from '../../../launch/src/runDiagnostics';
import { isFinal, RunStore, type RunRecord } from '../../../launch/src/runRecord';
import type { Finding, QuickFix } from '../../../engine/src/types';
import { COMMANDS } from '../commandIds';
import { ChartPanel } from './chartPanel';
import { RunSession, type SessionHost } from './runSession';
import { RunTerminal } from './runTerminal';
import { clientSetting } from '../settings';
import type { SecretStore } from './secrets';

export function toRange(range: Finding['range']): vscode.Range {
  return new vscode.Range(
    range.start.line,
    range.start.character,
    range.end.line,
    range.end.character,
  );
}

export class RunManager implements SessionHost, vscode.Disposable {
  readonly sessions = new Map<string, RunSession>();
  readonly diagnostics = vscode.languages.createDiagnosticCollection(RUN_DIAGNOSTIC_SOURCE);
  /** Quick fixes of the published run diagnostics, by diagnostic. */
  readonly fixes = new WeakMap<vscode.Diagnostic, QuickFix[]>();
  private readonly statusBar = vscode.window.createStatusBarItem(
    'tunelab.run',
    vscode.StatusBarAlignment.Left,
    50,
  );
  private focused?: RunSession;
  onRunsChanged?: () => void;

  constructor(
    private readonly secrets: SecretStore,
    readonly output: vscode.LogOutputChannel,
  ) {
    this.statusBar.name = 'Tunelab run';
    this.statusBar.command = COMMANDS.showRunChart;
  }

  sshConfigFile(): string | undefined {
    return clientSetting('launch.sshConfigFile') || undefined;
  }

  /** Where a config's runs are recorded: its workspace folder, else its own directory. */
  storeFor(configPath: string): RunStore {
    const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(configPath));
    return new RunStore(folder?.uri.fsPath ?? path.dirname(configPath));
  }

  stores(): RunStore[] {
    return (vscode.workspace.workspaceFolders ?? [])
      .filter((folder) => folder.uri.scheme === 'file')
      .map((folder) => new RunStore(folder.uri.fsPath));
  }

  findRun(id: string): { record: RunRecord; store: RunStore } | undefined {
    const session = this.sessions.get(id);
    if (session) return { record: session.record, store: session.store };
    for (const store of this.stores()) {
      const record = store.load(id);
      if (record) return { record, store };
    }
    return undefined;
  }

  /**
   * Launches the config (saved first) and attaches to it. With `terminal` (a
   * task's), the log goes there and the terminal closes with the run.
   */
  async launch(
    uri: vscode.Uri,
    target?: TargetKind,
    terminal?: RunTerminal,
    probeSteps?: number,
  ): Promise<RunSession | undefined> {
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showErrorMessage(
        'Tunelab: launching is disabled in an untrusted workspace.',
      );
      return undefined;
    }
    const document = vscode.workspace.textDocuments.find(
      (d) => d.uri.toString() === uri.toString(),
    );
    if (document?.isDirty) await document.save();
    const configPath = uri.fsPath;
    let spec;
    try {
      spec = loadLaunchSpec(configPath, target);
    } catch (err) {
      this.reportConfigError(uri, err);
      return undefined;
    }
    const secrets = await this.secrets.collect(spec.secrets);
    if (!secrets) return undefined;
    this.diagnostics.delete(uri);
    const store = this.storeFor(configPath);
    let record: RunRecord;
    try {
      record = await vscode.window.withProgress(
        {
          location: vscode.ProgressLocation.Notification,
          title: `Tunelab: ${probeSteps === undefined ? 'launching' : 'probing the pace'} on ${spec.target}`,
          cancellable: false,
        },
        (progress) =>
          launchRun(
            configPath,
            {
              workspaceDir: store.workspaceDir,
              secrets,
              sshConfigFile: this.sshConfigFile(),
              probeSteps,
              onStatus: (message) => {
                this.output.info(message);
                progress.report({ message });
              },
            },
            spec,
          ),
      );
    } catch (err) {
      this.output.error(`launch failed: ${(err as Error).message}`);
      void vscode.window.showErrorMessage(`Tunelab: launch failed: ${(err as Error).message}`);
      terminal?.exit(1);
      this.onRunsChanged?.();
      return undefined;
    }
    this.output.info(
      `${record.probe === undefined ? 'run' : 'pace probe'} ${record.id} started (${record.target})`,
    );
    this.onRunsChanged?.();
    return this.attach(record, store, terminal);
  }

  /** Follows a run in its own terminal, from the start of its log. */
  attach(record: RunRecord, store: RunStore, terminal?: RunTerminal): RunSession {
    const existing = this.sessions.get(record.id);
    // Still following, or ended with its whole log on screen: show that terminal again.
    if (existing && !terminal && (existing.active || existing.hasLiveTerminal)) {
      existing.showTerminal(false);
      return existing;
    }
    existing?.dispose();
    const session = new RunSession(record, store, this, terminal);
    this.sessions.set(record.id, session);
    this.focused = session;
    if (!terminal) session.showTerminal();
    void session.follow().then((result) => {
      if (terminal) terminal.exit(result?.state === 'completed' ? 0 : 1);
    });
    this.progressed(session);
    return session;
  }

  async stop(id: string, force = false): Promise<void> {
    const found = this.findRun(id);
    if (!found || isFinal(found.record.state)) return;
    try {
      await stopRun(found.store, found.record, { force, sshConfigFile: this.sshConfigFile() });
      this.sessions
        .get(id)
        ?.terminal.note(
          force ? 'killing the run' : 'stopping: SIGTERM sent, the runner saves a checkpoint',
        );
    } catch (err) {
      void vscode.window.showErrorMessage(
        `Tunelab: stopping ${id} failed: ${(err as Error).message}`,
      );
    }
    this.onRunsChanged?.();
  }

  showChart(id?: string): ChartPanel | undefined {
    const session = (id ? this.sessions.get(id) : undefined) ?? this.focused;
    if (!session) {
      void vscode.window.showInformationMessage(
        'Tunelab: attach to a run first (Tunelab: Attach to run).',
      );
      return undefined;
    }
    return ChartPanel.show(session);
  }

  progressed(session: RunSession): void {
    // The newest attached run keeps the focus while it is active: an older run
    // still streaming its last lines must not take the status bar and chart back.
    if (session.active && !this.focused?.active) this.focused = session;
    if (this.focused === session) this.updateStatusBar(session);
    if (session.model.progress.failures.length > 0) this.publishFindings(session);
  }

  ended(session: RunSession): void {
    this.publishFindings(session);
    this.updateStatusBar(session);
    this.onRunsChanged?.();
    const state = session.state;
    if (state === 'failed' || state === 'lost')
      void vscode.window
        .showErrorMessage(
          `Tunelab: run ${session.id} ${state}${session.result?.exitCode === undefined ? '' : ` (exit ${session.result.exitCode})`}`,
          'Show log',
        )
        .then((choice) => choice && session.showTerminal(false));
  }

  interrupted(session: RunSession): void {
    void vscode.window
      .showWarningMessage(
        `Tunelab: stop run ${session.id}?`,
        { modal: true },
        'Stop run',
        'Detach (keep it running)',
      )
      .then((choice) => {
        if (choice === 'Stop run') void this.stop(session.id);
        else if (choice?.startsWith('Detach')) session.detach();
      });
  }

  private updateStatusBar(session: RunSession): void {
    const text = formatStatus(session.model.progress) || session.state;
    const icon = session.active
      ? '$(sync~spin)'
      : session.state === 'completed'
        ? '$(pass)'
        : '$(circle-slash)';
    this.statusBar.text = `${icon} ${text}`;
    this.statusBar.tooltip = `Tunelab run ${session.id}: ${session.state}. Click for the loss and learning-rate chart.`;
    this.statusBar.show();
  }

  private publishFindings(session: RunSession): void {
    const uri = vscode.Uri.file(session.record.config);
    let text: string;
    try {
      text =
        vscode.workspace.textDocuments.find((d) => d.uri.fsPath === uri.fsPath)?.getText() ??
        fs.readFileSync(uri.fsPath, 'utf8');
    } catch {
      return;
    }
    const findings = runFindings(session.model.progress.failures, parseYaml(text), {
      target: session.record.target,
      host: session.record.ssh?.host,
      exitCode: session.result?.exitCode,
    });
    this.diagnostics.set(
      uri,
      findings.map((finding) => {
        const diagnostic = new vscode.Diagnostic(
          toRange(finding.range),
          finding.message,
          vscode.DiagnosticSeverity.Error,
        );
        diagnostic.source = RUN_DIAGNOSTIC_SOURCE;
        diagnostic.code = finding.code;
        if (finding.fixes?.length) this.fixes.set(diagnostic, finding.fixes);
        return diagnostic;
      }),
    );
  }

  private reportConfigError(uri: vscode.Uri, err: unknown): void {
    if (err instanceof LaunchConfigError) {
      try {
        const range = keyRange(parseYaml(fs.readFileSync(uri.fsPath, 'utf8')), err.path);
        const diagnostic = new vscode.Diagnostic(
          toRange(range),
          err.message,
          vscode.DiagnosticSeverity.Error,
        );
        diagnostic.source = RUN_DIAGNOSTIC_SOURCE;
        diagnostic.code = 'launch-config';
        this.diagnostics.set(uri, [diagnostic]);
      } catch {
        // unreadable: the message below says enough
      }
    }
    void vscode.window.showErrorMessage(`Tunelab: cannot launch: ${(err as Error).message}`);
  }

  dispose(): void {
    for (const session of this.sessions.values()) session.dispose();
    this.diagnostics.dispose();
    this.statusBar.dispose();
  }
}

// Launch features of the extension: commands (launch, attach, stop, chart,
// doctor, store secret), the editor-title button and code lens on configs,
// the Runs view, the `tunelab` task type and quick fixes for run findings.
// Nothing here runs at activation beyond registering: runs are read when the
// view opens or a command runs.

import * as vscode from 'vscode';
import type { CompareInput } from '../../../launch/src/compare';
import { verdictLine } from '../../../launch/src/compare';
import { inputFromRun } from '../../../launch/src/compareSources';
import { PROBE_STEPS } from '../../../launch/src/paceProbe';
import { isFinal } from '../../../launch/src/runRecord';
import { CompareView } from '../compareView';
import { COMMANDS } from '../commandIds';
import { createLogger } from '../logger';
import type { CommandHandlers } from '../commands';
import {
  deleteArtefactCommand,
  keepBestCommand,
  openArtefactFolderCommand,
} from './artefactCommands';
import { doctorCommand } from './doctorCommand';
import { RunManager, toRange } from './manager';
import { isRunItem, RunsTreeProvider, type RunItem } from './runsTree';
import { SecretStore } from './secrets';
import { copyServeRecipeCommand } from './serveCommand';
import { TASK_TYPE, TunelabTaskProvider } from './taskProvider';

const CONFIG_SELECTOR: vscode.DocumentSelector = [
  { scheme: 'file', pattern: '**/*.finetune.{yaml,yml}' },
];

/** A code lens on the `launch:` line (or the first line): launch here, check the target. */
class LaunchCodeLensProvider implements vscode.CodeLensProvider {
  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    if (!vscode.workspace.isTrusted) return [];
    let line = 0;
    let target = 'local';
    for (let i = 0; i < document.lineCount; i++) {
      const text = document.lineAt(i).text;
      if (/^launch:/.test(text)) line = i;
      const match = /^\s+target:\s*(local|ssh|slurm)\b/.exec(text);
      if (match && i > line && line > 0) target = match[1];
    }
    const range = new vscode.Range(line, 0, line, 0);
    return [
      new vscode.CodeLens(range, {
        title: `$(play) Launch training (${target})`,
        command: COMMANDS.launch,
        arguments: [document.uri],
      }),
      new vscode.CodeLens(range, {
        title: "$(watch) Measure target's pace",
        tooltip: `${PROBE_STEPS} training steps on the target, nothing kept: the time estimate then takes that host's pace`,
        command: COMMANDS.probePace,
        arguments: [document.uri],
      }),
      new vscode.CodeLens(range, {
        title: '$(pulse) Check target',
        command: COMMANDS.doctor,
        arguments: [document.uri],
      }),
    ];
  }
}

/** Quick fixes carried by run findings (halve the batch, lower the learning rate...). */
class RunFixProvider implements vscode.CodeActionProvider {
  constructor(private readonly manager: RunManager) {}

  provideCodeActions(
    document: vscode.TextDocument,
    _range: vscode.Range,
    context: vscode.CodeActionContext,
  ) {
    const actions: vscode.CodeAction[] = [];
    for (const diagnostic of context.diagnostics) {
      for (const fix of this.manager.fixes.get(diagnostic) ?? []) {
        const action = new vscode.CodeAction(fix.title, vscode.CodeActionKind.QuickFix);
        action.diagnostics = [diagnostic];
        action.isPreferred = fix.preferred;
        action.edit = new vscode.WorkspaceEdit();
        for (const edit of fix.edits)
          action.edit.replace(document.uri, toRange(edit.range), edit.newText);
        actions.push(action);
      }
    }
    return actions;
  }
}

function activeConfig(uri?: vscode.Uri): vscode.Uri | undefined {
  const target = uri instanceof vscode.Uri ? uri : vscode.window.activeTextEditor?.document.uri;
  if (!target || target.scheme !== 'file') {
    void vscode.window.showInformationMessage('Tunelab: open a fine-tuning config to launch.');
    return undefined;
  }
  return target;
}

/** A run id from a command argument (tree item or id) or a quick pick. */
async function pickRun(
  tree: RunsTreeProvider,
  argument: unknown,
  filter: (item: RunItem) => boolean,
  placeHolder: string,
): Promise<string | undefined> {
  if (typeof argument === 'string') return argument;
  if (argument && typeof argument === 'object' && 'record' in argument)
    return (argument as RunItem).record.id;
  const items = tree.items().filter(filter);
  if (items.length === 0) {
    void vscode.window.showInformationMessage('Tunelab: no runs recorded in this workspace.');
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    items.map(({ record }) => ({
      label: record.id,
      description: `${record.state} · ${record.target}${record.ssh ? ` · ${record.ssh.host}` : ''}`,
      detail: record.config,
    })),
    { placeHolder },
  );
  return picked?.label;
}

/**
 * The runs to compare: the Runs view's selection (the clicked item and the
 * selected ones), run ids given by a caller, else picked among the evaluated runs.
 */
async function runsToCompare(
  tree: RunsTreeProvider,
  argument: unknown,
  selection: unknown,
): Promise<RunItem[] | undefined> {
  if (Array.isArray(selection) && selection.filter(isRunItem).length >= 2)
    return selection.filter(isRunItem);
  if (Array.isArray(argument) && argument.every((id) => typeof id === 'string'))
    return tree.withIds(argument as string[]);
  const items = tree.items();
  const evaluated = items.filter((item) => item.evaluation);
  if (evaluated.length < 2) {
    void vscode.window.showInformationMessage(
      'Tunelab: comparing needs two evaluated runs; evaluate one with `tunelab eval RUN`.',
    );
    return undefined;
  }
  const clicked = isRunItem(argument) ? argument.record.id : undefined;
  const picked = await vscode.window.showQuickPick(
    evaluated.map((item) => ({
      label: item.record.id,
      description: verdictLine(item.evaluation!),
      detail: item.record.config,
      picked: item.record.id === clicked,
      item,
    })),
    { canPickMany: true, placeHolder: 'Runs to compare (two or more)' },
  );
  if (!picked) return undefined;
  if (picked.length < 2) {
    void vscode.window.showInformationMessage('Tunelab: pick at least two runs to compare.');
    return undefined;
  }
  return picked.map((p) => p.item);
}

/** The launch commands' handlers, by command id (commands.ts registers them). */
export type LaunchCommands = Pick<
  CommandHandlers,
  | 'tunelab.launch'
  | 'tunelab.probePace'
  | 'tunelab.attachRun'
  | 'tunelab.stopRun'
  | 'tunelab.showRunChart'
  | 'tunelab.exportRunChart'
  | 'tunelab.refreshRuns'
  | 'tunelab.doctor'
  | 'tunelab.storeSecret'
  | 'tunelab.compareRuns'
  | 'tunelab.deleteArtefact'
  | 'tunelab.keepBestCheckpoint'
  | 'tunelab.openArtefactFolder'
  | 'tunelab.copyServeRecipe'
>;

/** Registers the Runs view, code lens, quick fixes and task type; returns the commands' handlers. */
export function registerLaunchFeatures(context: vscode.ExtensionContext): LaunchCommands {
  const output = createLogger('Tunelab Runs').channel;
  const secrets = new SecretStore(context.secrets);
  const manager = new RunManager(secrets, output);
  const tree = new RunsTreeProvider(
    () => manager.stores(),
    (id) => manager.sessions.get(id)?.active ?? false,
    () => manager.sshConfigFile(),
  );
  manager.onRunsChanged = () => tree.refresh();
  const view = vscode.window.createTreeView('tunelab.runs', {
    treeDataProvider: tree,
    canSelectMany: true, // Compare Runs on a multi-selection
  });
  const watcher = vscode.workspace.createFileSystemWatcher('**/.tunelab/runs/*.json');

  context.subscriptions.push(
    output,
    manager,
    tree,
    view,
    watcher,
    view.onDidChangeVisibility((event) => tree.setVisible(event.visible)),
    watcher.onDidCreate(() => tree.refresh()),
    watcher.onDidChange(() => tree.refresh()),
    watcher.onDidDelete(() => tree.refresh()),
    vscode.languages.registerCodeLensProvider(CONFIG_SELECTOR, new LaunchCodeLensProvider()),
    vscode.languages.registerCodeActionsProvider(
      { language: 'yaml' },
      new RunFixProvider(manager),
      {
        providedCodeActionKinds: [vscode.CodeActionKind.QuickFix],
      },
    ),
    vscode.tasks.registerTaskProvider(TASK_TYPE, new TunelabTaskProvider(manager)),
  );
  return {
    [COMMANDS.launch]: async (uri?: unknown) => {
      const target = activeConfig(uri instanceof vscode.Uri ? uri : undefined);
      if (target) await manager.launch(target);
    },
    [COMMANDS.probePace]: async (uri?: unknown) => {
      const target = activeConfig(uri instanceof vscode.Uri ? uri : undefined);
      if (target) await manager.launch(target, undefined, undefined, PROBE_STEPS);
    },
    [COMMANDS.attachRun]: async (argument?: unknown) => {
      const id = await pickRun(tree, argument, () => true, 'Run to attach to');
      const found = id ? manager.findRun(id) : undefined;
      if (found) manager.attach(found.record, found.store);
    },
    [COMMANDS.stopRun]: async (argument?: unknown) => {
      const id = await pickRun(
        tree,
        argument,
        (item) => !isFinal(item.record.state),
        'Run to stop',
      );
      if (id) await manager.stop(id);
    },
    [COMMANDS.showRunChart]: (argument?: unknown) => {
      manager.showChart(
        typeof argument === 'string'
          ? argument
          : argument && typeof argument === 'object' && 'record' in argument
            ? (argument as RunItem).record.id
            : undefined,
      );
    },
    [COMMANDS.exportRunChart]: async (format?: unknown, target?: unknown, runId?: unknown) => {
      const kind =
        format === 'csv' || format === 'png'
          ? format
          : await vscode.window.showQuickPick(['png', 'csv'], {
              title: 'Export the training chart as',
            });
      if (kind !== 'csv' && kind !== 'png') return;
      const chart = manager.showChart(typeof runId === 'string' ? runId : undefined);
      await chart?.exportTo(kind, target instanceof vscode.Uri ? target : undefined);
    },
    [COMMANDS.refreshRuns]: () => tree.refresh(),
    [COMMANDS.compareRuns]: async (argument?: unknown, selection?: unknown) => {
      const picked = await runsToCompare(tree, argument, selection);
      if (!picked) return undefined;
      // The oldest first: the reference the others' deltas are taken against.
      const runs = [...picked].sort((a, b) => a.record.createdAt.localeCompare(b.record.createdAt));
      const inputs: CompareInput[] = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Window, title: 'Tunelab: reading evaluations' },
        () =>
          Promise.all(
            runs.map((run) => inputFromRun(run.store, run.record, manager.sshConfigFile())),
          ),
      );
      CompareView.show(inputs);
      return undefined;
    },
    [COMMANDS.deleteArtefact]: (node?: unknown) =>
      deleteArtefactCommand(tree, manager.sshConfigFile(), node),
    [COMMANDS.keepBestCheckpoint]: (node?: unknown) =>
      keepBestCommand(tree, manager.sshConfigFile(), node),
    [COMMANDS.openArtefactFolder]: (node?: unknown) => openArtefactFolderCommand(node),
    [COMMANDS.copyServeRecipe]: (argument?: unknown, selection?: unknown) =>
      copyServeRecipeCommand(tree, argument, selection),
    [COMMANDS.doctor]: (uri?: unknown) =>
      doctorCommand(manager, uri instanceof vscode.Uri ? uri : undefined),
    [COMMANDS.storeSecret]: (name?: unknown) =>
      secrets.promptAndStore(typeof name === 'string' ? name : undefined),
  };
}

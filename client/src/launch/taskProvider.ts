// Task type `tunelab`: `{ "type": "tunelab", "config": "path/to/x.finetune.yaml",
// "target": "ssh" }` in tasks.json, or one task per config found. The task's
// terminal is a Pseudoterminal (CustomExecution) that launches the run, shows
// its log and closes with exit 0 when the training completed.

import * as path from 'node:path';
import * as vscode from 'vscode';
import type { TargetKind } from '../../../launch/src/launchConfig';
import type { RunManager } from './manager';
import { RunTerminal } from './runTerminal';

export const TASK_TYPE = 'tunelab';

interface TunelabTaskDefinition extends vscode.TaskDefinition {
  config: string;
  target?: TargetKind;
}

function taskFor(
  manager: RunManager,
  definition: TunelabTaskDefinition,
  scope: vscode.WorkspaceFolder | vscode.TaskScope.Workspace,
): vscode.Task {
  const execution = new vscode.CustomExecution(async () => {
    const base =
      typeof scope === 'object'
        ? scope.uri.fsPath
        : (vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '');
    const configPath = path.resolve(base, definition.config);
    const terminal = new RunTerminal();
    terminal.setHooks({
      // The run starts when VS Code opens the task's terminal.
      onOpen: () => void manager.launch(vscode.Uri.file(configPath), definition.target, terminal),
    });
    return terminal;
  });
  const name = `Launch ${path.basename(definition.config)}${definition.target ? ` (${definition.target})` : ''}`;
  const task = new vscode.Task(definition, scope, name, TASK_TYPE, execution);
  task.detail = `Train ${definition.config} where its launch section says`;
  task.presentationOptions = {
    reveal: vscode.TaskRevealKind.Always,
    panel: vscode.TaskPanelKind.Dedicated,
  };
  return task;
}

export class TunelabTaskProvider implements vscode.TaskProvider {
  constructor(private readonly manager: RunManager) {}

  async provideTasks(): Promise<vscode.Task[]> {
    if (!vscode.workspace.isTrusted) return [];
    const files = await vscode.workspace.findFiles(
      '**/*.finetune.{yaml,yml}',
      '**/node_modules/**',
      50,
    );
    return files.flatMap((uri) => {
      const folder = vscode.workspace.getWorkspaceFolder(uri);
      if (!folder) return [];
      const config = path.relative(folder.uri.fsPath, uri.fsPath).split(path.sep).join('/');
      return [taskFor(this.manager, { type: TASK_TYPE, config }, folder)];
    });
  }

  resolveTask(task: vscode.Task): vscode.Task | undefined {
    const definition = task.definition as TunelabTaskDefinition;
    if (typeof definition.config !== 'string' || !definition.config) return undefined;
    const scope =
      task.scope && typeof task.scope === 'object' ? task.scope : vscode.TaskScope.Workspace;
    return taskFor(this.manager, definition, scope);
  }
}

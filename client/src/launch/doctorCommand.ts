// "Tunelab: Check launch target": runs the runner's doctor where the config
// launches, shows its report, and offers to write the GPU it found into
// `hardware.gpu` (and `hardware.num_gpus`) so estimates match the real card.

import * as vscode from 'vscode';
import { doctorNotes, hardwareEdits, runDoctor, suggestHardware } from '../../../launch/src/doctor';
import { loadLaunchSpec } from '../../../launch/src/launchConfig';
import { parseYaml } from '../../../engine/src/parse';
import type { RunManager } from './manager';
import { toRange } from './manager';

export async function doctorCommand(manager: RunManager, uri?: vscode.Uri): Promise<void> {
  if (!vscode.workspace.isTrusted) {
    void vscode.window.showErrorMessage(
      'Tunelab: the doctor runs code on the target: trust the workspace first.',
    );
    return;
  }
  const target = uri ?? vscode.window.activeTextEditor?.document.uri;
  if (!target || target.scheme !== 'file') {
    void vscode.window.showInformationMessage('Tunelab: open a fine-tuning config first.');
    return;
  }
  const document = await vscode.workspace.openTextDocument(target);
  if (document.isDirty) await document.save();
  let report;
  let where = 'this machine';
  try {
    const spec = loadLaunchSpec(target.fsPath);
    where = spec.ssh?.host ?? spec.slurm?.viaSsh?.host ?? spec.target;
    report = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Tunelab: checking ${where}` },
      (progress) =>
        runDoctor(spec, {
          sshConfigFile: manager.sshConfigFile(),
          onStatus: (message) => progress.report({ message }),
        }),
    );
  } catch (err) {
    manager.output.error(`doctor failed: ${(err as Error).message}`);
    void vscode.window.showErrorMessage(`Tunelab: doctor failed: ${(err as Error).message}`);
    return;
  }
  manager.output.info(`doctor report from ${where}:\n${JSON.stringify(report, null, 2)}`);
  const missing = Object.entries(report.methods ?? {})
    .filter(([, method]) => !method.ready && method.install)
    .map(([name, method]) => `${name}: ${method.install}`);
  const suggestion = suggestHardware(report);
  const summary =
    `Tunelab doctor on ${where}: Python ${report.python?.version ?? '?'}, ` +
    (suggestion ? `${suggestion.numGpus} × ${suggestion.seen}` : 'no GPU') +
    (missing.length ? `. Missing: ${missing.join('; ')}` : '. Ready to train.') +
    doctorNotes(report)
      .map((note) => ` Note: ${note}.`)
      .join('');
  const actions = suggestion
    ? [`Write hardware.gpu: ${suggestion.gpu}`, 'Show report']
    : ['Show report'];
  const choice = await vscode.window.showInformationMessage(summary, ...actions);
  if (choice === 'Show report') manager.output.show(true);
  if (suggestion && choice?.startsWith('Write')) {
    const edit = new vscode.WorkspaceEdit();
    for (const textEdit of hardwareEdits(parseYaml(document.getText()), suggestion))
      edit.replace(target, toRange(textEdit.range), textEdit.newText);
    await vscode.workspace.applyEdit(edit);
  }
}

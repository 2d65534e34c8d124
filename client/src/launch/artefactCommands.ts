// The Runs view's artefact commands: Delete Artefact, Keep Best Checkpoint and
// Open Folder. Deleting asks first, naming what goes and its size; the paths
// are checked again in launch/src/artefacts.ts (inside the output dir only).

import * as vscode from 'vscode';
import {
  deleteArtefacts,
  listArtefacts,
  lowerIsBetter,
  planKeepBest,
} from '../../../launch/src/artefacts';
import {
  formatBytes,
  isArtefactNode,
  isRunItem,
  type RunItem,
  type RunsTreeProvider,
} from './runsTree';

function runOf(argument: unknown): RunItem | undefined {
  if (isArtefactNode(argument)) return argument.run;
  if (isRunItem(argument)) return argument;
  return undefined;
}

export async function deleteArtefactCommand(
  tree: RunsTreeProvider,
  sshConfigFile: string | undefined,
  argument: unknown,
): Promise<void> {
  if (!isArtefactNode(argument)) {
    void vscode.window.showInformationMessage(
      'Tunelab: pick an artefact in the Runs view to delete.',
    );
    return;
  }
  const { run, listing, artefact } = argument;
  const where = listing.ssh ? ` on ${listing.ssh.destination}` : '';
  const answer = await vscode.window.showWarningMessage(
    `Delete ${artefact.name} (${formatBytes(artefact.bytes)}) of run ${run.record.id}${where}?`,
    { modal: true, detail: artefact.path },
    'Delete',
  );
  if (answer !== 'Delete') return;
  await deleteArtefacts(run.record, [artefact.path], sshConfigFile);
  tree.refresh();
}

export async function keepBestCommand(
  tree: RunsTreeProvider,
  sshConfigFile: string | undefined,
  argument: unknown,
): Promise<void> {
  const run = runOf(argument);
  if (!run) {
    void vscode.window.showInformationMessage('Tunelab: pick a training run in the Runs view.');
    return;
  }
  const listing = await listArtefacts(run.record, sshConfigFile);
  const metrics = [...new Set(listing.artefacts.flatMap((a) => Object.keys(a.metrics ?? {})))].sort(
    (a, b) => Number(b === 'eval_loss') - Number(a === 'eval_loss') || a.localeCompare(b),
  );
  if (!metrics.length) {
    void vscode.window.showInformationMessage(
      `Tunelab: no checkpoint of ${run.record.id} has eval metrics (set training.eval_strategy).`,
    );
    return;
  }
  const metric =
    metrics.length === 1
      ? metrics[0]
      : (
          await vscode.window.showQuickPick(
            metrics.map((m) => ({
              label: m,
              description: lowerIsBetter(m) ? 'lowest is best' : 'highest is best',
            })),
            { title: 'Keep the best checkpoint by' },
          )
        )?.label;
  if (!metric) return;
  const plan = planKeepBest(listing, metric);
  if (!plan.remove.length) {
    void vscode.window.showInformationMessage(`Tunelab: ${plan.best.name} is the only checkpoint.`);
    return;
  }
  const freed = plan.remove.reduce((sum, a) => sum + a.bytes, 0);
  const answer = await vscode.window.showWarningMessage(
    `Keep ${plan.best.name} (${metric} ${plan.best.metrics?.[metric]}) and delete ${plan.remove.length} other checkpoints (${formatBytes(freed)})?`,
    { modal: true, detail: plan.remove.map((a) => a.name).join('\n') },
    'Delete Others',
  );
  if (answer !== 'Delete Others') return;
  await deleteArtefacts(
    run.record,
    plan.remove.map((a) => a.path),
    sshConfigFile,
  );
  tree.refresh();
}

export async function openArtefactFolderCommand(argument: unknown): Promise<void> {
  if (!isArtefactNode(argument)) {
    void vscode.window.showInformationMessage('Tunelab: pick an artefact in the Runs view.');
    return;
  }
  const { listing, artefact } = argument;
  if (!listing.ssh) {
    await vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(artefact.path));
    return;
  }
  // A remote folder: its host and path, to copy into a terminal or a Remote-SSH window.
  const remote = `${listing.ssh.destination}:${artefact.path}`;
  const copy = await vscode.window.showInformationMessage(remote, 'Copy Path');
  if (copy) await vscode.env.clipboard.writeText(remote);
}

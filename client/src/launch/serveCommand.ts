// Copy Serving Recipe (the Runs view): `tunelab serve` for the runs picked
// (a multi-selection, the clicked run, run ids, or a quick pick), copied to
// the clipboard; where the clipboard is not available (a browser without
// permission) the recipe opens in an editor instead. Returns the text.

import * as vscode from 'vscode';
import { isFinal } from '../../../launch/src/runRecord';
import { renderServeRecipe } from '../../../launch/src/serveRecipe';
import { serveRecipeOfRuns } from '../../../launch/src/serveRuns';
import { isRunItem, isTraining, type RunItem, type RunsTreeProvider } from './runsTree';

async function runsToServe(
  tree: RunsTreeProvider,
  argument: unknown,
  selection: unknown,
): Promise<RunItem[] | undefined> {
  if (Array.isArray(selection) && selection.some(isRunItem)) return selection.filter(isRunItem);
  if (isRunItem(argument)) return [argument];
  const ids = typeof argument === 'string' ? [argument] : Array.isArray(argument) ? argument : [];
  if (ids.length && ids.every((id) => typeof id === 'string')) return tree.withIds(ids as string[]);
  const ended = tree
    .items()
    .filter((item) => isTraining(item.record) && isFinal(item.record.state));
  if (!ended.length) {
    void vscode.window.showInformationMessage('Tunelab: no finished training run to serve yet.');
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    ended.map((item) => ({ label: item.record.id, detail: item.record.config, item })),
    { canPickMany: true, placeHolder: 'Runs to serve (LoRA runs of one base share a server)' },
  );
  return picked?.map((p) => p.item);
}

export async function copyServeRecipeCommand(
  tree: RunsTreeProvider,
  argument: unknown,
  selection: unknown,
): Promise<string | undefined> {
  const runs = await runsToServe(tree, argument, selection);
  if (!runs?.length) return undefined;
  const store = runs[0]!.store;
  if (runs.some((run) => run.store.dir !== store.dir)) {
    void vscode.window.showErrorMessage(
      'Tunelab: pick runs of one workspace folder to serve together.',
    );
    return undefined;
  }
  let text: string;
  try {
    text = renderServeRecipe(
      serveRecipeOfRuns(
        store,
        runs.map((run) => run.record),
      ),
    );
  } catch (err) {
    void vscode.window.showErrorMessage(`Tunelab: ${(err as Error).message}`);
    return undefined;
  }
  const what = runs.length === 1 ? `run ${runs[0]!.record.id}` : `${runs.length} runs`;
  try {
    await vscode.env.clipboard.writeText(text);
    void vscode.window
      .showInformationMessage(`Tunelab: serving recipe for ${what} copied.`, 'Show')
      .then((choice) => (choice === 'Show' ? showText(text) : undefined));
  } catch {
    await showText(text);
  }
  return text;
}

async function showText(text: string): Promise<void> {
  const doc = await vscode.workspace.openTextDocument({ content: text, language: 'shellscript' });
  await vscode.window.showTextDocument(doc, { preview: true });
}

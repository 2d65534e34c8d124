import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import {
  codeOf,
  EXTENSION_ID,
  hoverText,
  open,
  rangeOf,
  revert,
  waitFor,
  waitForCodes,
} from './helpers';

describe('memory estimate', () => {
  it('shows a code lens with the peak and the verdict at the top of the file', async () => {
    const doc = await open('oom.finetune.yaml');
    const lenses = await waitFor(
      'a Tunelab code lens',
      () =>
        vscode.commands.executeCommand<vscode.CodeLens[]>(
          'vscode.executeCodeLensProvider',
          doc.uri,
        ),
      (ls) => (ls ?? []).some((l) => l.command?.title.startsWith('≈')),
    );
    const lens = lenses.find((l) => l.command?.title.startsWith('≈'))!;
    assert.equal(lens.range.start.line, 0);
    assert.match(lens.command!.title, /GiB\/GPU on 1× A100-40GB · does not fit/);
    assert.equal(lens.command!.command, 'tunelab.showEstimate');
  });

  it('opens the breakdown in a webview, leaving no untitled document behind', async () => {
    const doc = await open('oom.finetune.yaml');
    const api = vscode.extensions.getExtension(EXTENSION_ID)!.exports as {
      estimatePanelHtml(): string | undefined;
    };
    await waitFor(
      'the estimate breakdown in its panel',
      async () => {
        await vscode.commands.executeCommand('tunelab.showEstimate', doc.uri.toString());
        return api.estimatePanelHtml() ?? '';
      },
      (html) => /activations/.test(html) && /<table/.test(html),
    );
    const untitled = vscode.workspace.textDocuments.filter((d) => d.isUntitled);
    assert.deepEqual(
      untitled.map((d) => d.uri.toString()),
      [],
    );
  });

  it('shows the estimate table when hovering the micro-batch size', async () => {
    const doc = await open('oom.finetune.yaml');
    const at = rangeOf(doc, 'per_device_train_batch_size:', 'per_device_train_batch_size').start;
    const hovers = await waitFor(
      'an estimate hover',
      () =>
        vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', doc.uri, at),
      (hs) => /\*\*peak\*\*/.test(hoverText(hs ?? [])),
    );
    assert.match(hoverText(hovers), /\| activations \|/);
  });

  it('applies the fit quick fix and the out-of-memory error goes away', async () => {
    const doc = await open('oom.finetune.yaml');
    try {
      const ds = await waitForCodes(doc.uri, ['memory-exceeds-gpu']);
      const oom = ds.find((d) => codeOf(d) === 'memory-exceeds-gpu')!;
      assert.equal(oom.severity, vscode.DiagnosticSeverity.Error);
      const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>(
        'vscode.executeCodeActionProvider',
        doc.uri,
        oom.range,
        vscode.CodeActionKind.QuickFix.value,
      );
      const fit = actions.find((a) => a.title.startsWith('Make it fit'));
      assert.ok(fit?.edit, `a fit action among ${actions.map((a) => a.title).join(' | ')}`);
      assert.ok(await vscode.workspace.applyEdit(fit.edit));
      assert.match(doc.getText(), /gradient_checkpointing: true/);
      await waitFor(
        'memory-exceeds-gpu to clear',
        () => vscode.languages.getDiagnostics(doc.uri),
        (list) => !list.some((d) => codeOf(d) === 'memory-exceeds-gpu'),
      );
    } finally {
      await revert(doc);
    }
  });
});

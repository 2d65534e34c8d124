import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import {
  codeOf,
  diagnostics,
  fmtRange,
  hoverText,
  labelOf,
  open,
  rangeOf,
  revert,
  summarize,
  waitFor,
  waitForCodes,
} from './helpers';

describe('hover', () => {
  it("shows a key's documentation", async () => {
    const doc = await open('ok.finetune.yaml');
    const key = rangeOf(doc, 'lora_alpha:', 'lora_alpha');
    const pos = key.start.translate(0, 3);
    const hovers = await waitFor(
      'a hover on lora_alpha',
      () =>
        vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', doc.uri, pos),
      (h) => hoverText(h ?? []).length > 0,
    );
    const text = hoverText(hovers);
    assert.match(text, /alpha/i, `hover text mentions alpha: ${text}`);
    assert.ok(text.length > 20, `hover text is documentation, not just the key: ${text}`);
  });
});

describe('completion', () => {
  it('offers the keys of `lora` that are not present yet', async () => {
    const doc = await open('completion.finetune.yaml');
    try {
      const after = rangeOf(doc, 'target_modules:', 'target_modules');
      const eol = doc.lineAt(after.start.line).range.end;
      const edit = new vscode.WorkspaceEdit();
      edit.insert(doc.uri, eol, '\n  ');
      assert.ok(await vscode.workspace.applyEdit(edit), 'inserted a new line in lora');
      const pos = new vscode.Position(after.start.line + 1, 2);
      assert.equal(doc.lineAt(pos.line).text, '  ');
      const list = await waitFor(
        'completion items in lora',
        () =>
          vscode.commands.executeCommand<vscode.CompletionList>(
            'vscode.executeCompletionItemProvider',
            doc.uri,
            pos,
          ),
        (l) => (l?.items ?? []).some((i) => labelOf(i) === 'lora_alpha'),
      );
      const labels = list.items.map(labelOf);
      for (const k of ['lora_alpha', 'lora_dropout']) {
        assert.ok(labels.includes(k), `offers ${k}; got ${labels.join(', ')}`);
      }
      for (const k of ['r', 'target_modules']) {
        assert.ok(!labels.includes(k), `does not offer ${k}, already present`);
      }
      // Keys of other sections do not belong here.
      for (const k of ['learning_rate', 'name_or_path']) {
        assert.ok(!labels.includes(k), `does not offer ${k} inside lora`);
      }
    } finally {
      await revert(doc);
    }
  });
});

describe('quick fix', () => {
  it('renames lora_rank to r and the diagnostic goes away', async () => {
    const doc = await open('quickfix.finetune.yaml');
    try {
      const ds = await waitForCodes(doc.uri, ['schema-unknown-key']);
      const range = rangeOf(doc, 'lora_rank:', 'lora_rank');
      const diag = ds.find((d) => codeOf(d) === 'schema-unknown-key' && d.range.isEqual(range));
      assert.ok(diag, `schema-unknown-key on ${fmtRange(range)}`);

      const actions = await vscode.commands.executeCommand<(vscode.CodeAction | vscode.Command)[]>(
        'vscode.executeCodeActionProvider',
        doc.uri,
        diag.range,
        vscode.CodeActionKind.QuickFix.value,
        10, // resolve lazily computed edits
      );
      const fixes = (actions ?? []).filter(
        (a): a is vscode.CodeAction => 'edit' in a && a.edit !== undefined,
      );
      const fix = fixes.find((a) => /\br\b/.test(a.title)) ?? fixes[0];
      assert.ok(
        fix?.edit,
        `a quick fix with an edit; got ${JSON.stringify((actions ?? []).map((a) => a.title))}`,
      );
      assert.ok(await vscode.workspace.applyEdit(fix.edit), `applied "${fix.title}"`);

      const line = doc.lineAt(range.start.line).text;
      assert.equal(line.trim(), 'r: 16', `the key was renamed: '${line}'`);
      await waitFor(
        'schema-unknown-key to disappear after the fix',
        () => diagnostics(doc.uri),
        (cur) => !cur.some((d) => codeOf(d) === 'schema-unknown-key'),
      );
      // The other finding of the file is still there.
      const rest = diagnostics(doc.uri).map(summarize);
      assert.ok(
        rest.some((d) => d.code === 'schema-enum'),
        `schema-enum is still reported: ${JSON.stringify(rest)}`,
      );
    } finally {
      await revert(doc);
    }
  });
});

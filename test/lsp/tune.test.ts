// "Tune for speed" through the real server: offered on a config that can run
// faster, its edit is minimal, and the applied config is not offered it again.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import type { CodeAction, TextEdit } from 'vscode-languageserver-protocol';
import { applyTextEdits } from '../../engine/src/edits';
import { fileUri, LspTestClient, REPO_ROOT } from './client';

const TEMPLATE = path.join(REPO_ROOT, 'templates', 'telecom-support', 'lora.finetune.yaml');
const TEXT = fs.readFileSync(TEMPLATE, 'utf8');
const WHOLE = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };

let client: LspTestClient;
before(async () => {
  client = await LspTestClient.start();
});
after(async () => {
  await client.stop();
});

function tuneAction(actions: CodeAction[]): CodeAction | undefined {
  return actions.find((a) => a.title.startsWith('Tune for speed'));
}

test('the 8B LoRA template on an H100 is offered its fastest settings, with figures', async () => {
  // The template's own path: its data (relative paths) is read like the user's.
  const uri = fileUri(TEMPLATE);
  client.open(uri, TEXT);
  await client.diagnosticsFor(uri, 1);
  const action = tuneAction(await client.codeActions(uri, WHOLE, []));
  assert.ok(action, 'offered');
  assert.match(
    action.title,
    /^Tune for speed \(fastest settings that fit H100-80GB\): [\d,]+ → [\d,]+ tokens\/s, peak [\d.]+ GiB → [\d.]+ GiB — .*gradient checkpointing off/,
  );
  assert.equal(action.kind, 'refactor.rewrite');
  const edits = action.edit?.changes?.[uri] as TextEdit[];
  assert.ok(edits.length > 0);
  const tuned = applyTextEdits(TEXT, edits);
  assert.match(tuned, /gradient_checkpointing: false # recompute/, 'comments kept');

  // Applied, there is nothing faster that fits: no action.
  await client.diagnosticsFor(uri, client.change(uri, tuned));
  assert.equal(tuneAction(await client.codeActions(uri, WHOLE, [])), undefined);
});

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { applyEdits, fileUri, LspTestClient, REPO_ROOT } from './client';

const FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures');
const read = (name: string) => fs.readFileSync(path.join(FIXTURES, name), 'utf8');

let client: LspTestClient;
before(async () => {
  client = await LspTestClient.start();
});
after(async () => {
  await client.stop();
});

test('schema findings land on the exact key or value with rules.md codes', async () => {
  const uri = fileUri(path.join(FIXTURES, 'lora-typos.finetune.yaml'));
  client.open(uri, read('lora-typos.finetune.yaml'));
  const diagnostics = await client.diagnosticsFor(uri, 1);
  const byCode = (code: string) => diagnostics.filter((d) => d.code === code);

  const [unknown] = byCode('schema-unknown-key');
  assert.ok(unknown, JSON.stringify(diagnostics));
  assert.deepEqual(unknown.range, {
    start: { line: 8, character: 2 },
    end: { line: 8, character: 11 },
  });
  assert.match(String(unknown.message), /Did you mean `r`\?/);
  assert.equal(unknown.severity, 2);
  assert.equal(unknown.source, 'tunelab');
  assert.ok(unknown.codeDescription?.href.includes('schema-unknown-key'));

  const [enumError] = byCode('schema-enum');
  assert.deepEqual(enumError.range, {
    start: { line: 20, character: 21 },
    end: { line: 20, character: 28 },
  });
  assert.match(String(enumError.message), /Did you mean `cosine`\?/);

  const [typeError] = byCode('schema-type');
  assert.deepEqual(typeError.range, {
    start: { line: 19, character: 17 },
    end: { line: 19, character: 21 },
  });
  assert.equal(typeError.severity, 1);
});

test('the "did you mean" quick fix renames the key and the finding goes away', async () => {
  const uri = fileUri(path.join(FIXTURES, 'quickfix.finetune.yaml'));
  let text = read('lora-typos.finetune.yaml');
  client.open(uri, text);
  const diagnostics = await client.diagnosticsFor(uri, 1);
  const unknown = diagnostics.find((d) => d.code === 'schema-unknown-key')!;
  const actions = await client.codeActions(uri, unknown.range, [unknown]);
  const rename = actions.find((a) => a.title === "Rename to 'r'");
  assert.ok(rename?.edit?.changes?.[uri], JSON.stringify(actions));
  assert.equal(rename.isPreferred, true);
  text = applyEdits(text, rename.edit.changes[uri]);
  assert.match(text, /\n {2}r: 16\n/);
  const version = client.change(uri, text);
  const after = await client.diagnosticsFor(uri, version);
  assert.equal(after.filter((d) => d.code === 'schema-unknown-key').length, 0);
  // Comments and layout are untouched.
  assert.ok(text.startsWith('# A LoRA config with mistakes'));
});

test('non-config YAML gets no diagnostics at all', async () => {
  const uri = fileUri(path.join(FIXTURES, 'k8s-deployment.yaml'));
  client.open(uri, read('k8s-deployment.yaml'));
  assert.deepEqual(await client.diagnosticsFor(uri, 1), []);
  assert.equal(await client.hover(uri, 0, 2), null);
  assert.deepEqual(await client.completion(uri, 3, 2), []);
});

test('a config recognised by content (method + model) is checked', async () => {
  const uri = fileUri(path.join(FIXTURES, 'plain-name.yaml'));
  client.open(uri, 'method: lora\nmodel:\n  name_or_path: x\nlora:\n  rank: 8\n');
  const diagnostics = await client.diagnosticsFor(uri, 1);
  assert.ok(
    diagnostics.some((d) => d.code === 'schema-unknown-key' && /`r`/.test(String(d.message))),
  );
});

test('YAML syntax errors are reported as yaml-syntax', async () => {
  const uri = fileUri(path.join(FIXTURES, 'broken.finetune.yaml'));
  client.open(uri, 'method: lora\nmodel:\n  name_or_path: [unclosed\n');
  const diagnostics = await client.diagnosticsFor(uri, 1);
  assert.ok(diagnostics.some((d) => d.code === 'yaml-syntax' && d.severity === 1));
});

test('rapid edits are debounced and the last version wins', async () => {
  const uri = fileUri(path.join(FIXTURES, 'typing.finetune.yaml'));
  const base = 'method: lora\nmodel:\n  name_or_path: x\nlora:\n  r: 16\n';
  client.open(uri, base);
  await client.diagnosticsFor(uri, 1);
  let version = 1;
  const typed = 'lora_rnk: 8';
  for (let i = 1; i <= typed.length; i++)
    version = client.change(uri, base + '  ' + typed.slice(0, i) + '\n');
  const diagnostics = await client.diagnosticsFor(uri, version);
  assert.ok(
    diagnostics.some(
      (d) => d.code === 'schema-unknown-key' && String(d.message).includes('lora_rnk'),
    ),
  );
});

test('a server-side rule severity setting turns a code off', async () => {
  const quiet = await LspTestClient.start({ rules: { 'schema-unknown-key': 'off' } });
  try {
    const uri = fileUri(path.join(FIXTURES, 'settings.finetune.yaml'));
    // Give the server a moment to pull settings before opening.
    await new Promise((r) => setTimeout(r, 200));
    quiet.open(uri, read('lora-typos.finetune.yaml'));
    const diagnostics = await quiet.diagnosticsFor(uri, 1);
    assert.equal(diagnostics.filter((d) => d.code === 'schema-unknown-key').length, 0);
    assert.ok(diagnostics.some((d) => d.code === 'schema-enum'));
  } finally {
    await quiet.stop();
  }
});

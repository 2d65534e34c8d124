// Every hostile input of hostileInputs.ts through the built server over real
// LSP: a clear diagnostic, a bounded number of short ones, no JavaScript
// error text, and the server still answering the next request.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fileUri, LspTestClient } from './client';
import { HOSTILE_INPUTS } from './hostileInputs';

const RAW_JS_ERROR =
  /Maximum call stack|YAML\.parse|parseAllDocuments|RangeError|Invalid string length|TypeError/;

let client: LspTestClient;
before(async () => {
  client = await LspTestClient.start();
});
after(async () => {
  await client.stop();
});

async function answersNextRequest(uri: string): Promise<void> {
  await client.hover(uri, 0, 1);
  const other = fileUri('/tmp/hostile-alive.finetune.yaml');
  client.open(other, 'method: lora\nmodel:\n  name_or_path: x\n');
  await client.diagnosticsFor(other, 1, 10_000);
  assert.ok(await client.hover(other, 0, 2), 'hover answered after hostile input');
  client.close(other);
  assert.equal(client.process.exitCode, null, 'server process still running');
}

// The 20 MB file has its own test in robustness.test.ts.
for (const input of HOSTILE_INPUTS.filter((i) => !i.name.startsWith('20 MB'))) {
  test(`hostile input over LSP: ${input.name}`, async () => {
    const uri = fileUri(`/tmp/hostile/${input.fileName}`);
    client.open(uri, input.build());
    const diagnostics = await client.diagnosticsFor(uri, 1, 20_000);
    const messages = diagnostics.map((d) => String(d.message));
    const label = `${input.name}: ${messages.map((m) => m.slice(0, 100)).join(' | ')}`;
    assert.ok(
      diagnostics.some((d) => d.code === input.expectCode),
      label,
    );
    if (input.expectMessage)
      assert.ok(
        messages.some((m) => input.expectMessage!.test(m)),
        label,
      );
    if (input.expectMessage?.source.includes('nested too deeply'))
      assert.equal(diagnostics.length, 1, label);
    assert.ok(diagnostics.length <= 120, `${input.name}: ${diagnostics.length} diagnostics`);
    for (const message of messages) {
      assert.ok(message.length <= 400, `${input.name}: a message of ${message.length} chars`);
      assert.doesNotMatch(message, RAW_JS_ERROR, input.name);
    }
    await answersNextRequest(uri);
    client.close(uri);
  });
}

test('the 99-byte explicit-key file gets short diagnostics, and deeper keys one', async () => {
  const header = 'method: lora\nmodel: {name_or_path: x}\nx:\n';
  for (const levels of [27, 28, 29, 200]) {
    const uri = fileUri(`/tmp/hostile/keys-${levels}.finetune.yaml`);
    client.open(uri, header + '? '.repeat(levels) + '1\n');
    const diagnostics = await client.diagnosticsFor(uri, 1, 10_000);
    assert.ok(diagnostics.length > 0);
    assert.ok(diagnostics.every((d) => String(d.message).length <= 400));
    if (levels > 64) assert.equal(diagnostics.length, 1);
    client.close(uri);
  }
  await answersNextRequest(fileUri('/tmp/hostile/keys-200.finetune.yaml'));
});

test('capped diagnostics: 100 unknown keys and one summary, and an edit after it is fast to answer', async () => {
  const keys = Array.from({ length: 2500 }, (_, i) => `key_${i}: ${i}`).join('\n');
  const uri = fileUri('/tmp/hostile/capped.finetune.yaml');
  const text = `method: lora\nmodel: {name_or_path: x}\n${keys}\n`;
  client.open(uri, text);
  const diagnostics = await client.diagnosticsFor(uri, 1, 20_000);
  const unknown = diagnostics.filter((d) => d.code === 'schema-unknown-key');
  assert.equal(unknown.length, 101);
  assert.match(String(unknown.at(-1)!.message), /^… and 2,400 more unknown keys/);
  const version = client.change(uri, text.replace('key_0: 0', 'key_0: 1'));
  const after = await client.diagnosticsFor(uri, version, 20_000);
  assert.equal(after.filter((d) => d.code === 'schema-unknown-key').length, 101);
  client.close(uri);
});

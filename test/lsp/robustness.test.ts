// Hostile input over real LSP: the server must answer with a clear finding or
// skip the file, never crash or hang, and keep serving other files.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import type { Diagnostic } from 'vscode-languageserver-protocol/node';
import { fileUri, LspTestClient, REPO_ROOT } from './client';

const EXAMPLE = fs.readFileSync(
  path.join(REPO_ROOT, 'test', 'fixtures', 'spec-example.finetune.yaml'),
  'utf8',
);

let client: LspTestClient;
before(async () => {
  client = await LspTestClient.start();
});
after(async () => {
  await client.stop();
});

/** Messages a user can read: bounded, and never a JavaScript error's own text. */
function assertReadable(diagnostics: Diagnostic[], label: string): void {
  for (const { message } of diagnostics) {
    assert.ok(
      String(message).length <= 400,
      `${label}: a message of ${String(message).length} chars`,
    );
    assert.doesNotMatch(
      String(message),
      /Maximum call stack|YAML\.parse|parseAllDocuments|RangeError|Invalid string length/,
      label,
    );
  }
}

async function stillServes(): Promise<void> {
  const uri = fileUri('/tmp/alive.finetune.yaml');
  client.open(uri, 'method: lora\nmodel:\n  name_or_path: x\n');
  await client.diagnosticsFor(uri, 1, 5000);
  const hover = await client.hover(uri, 0, 2);
  assert.ok(hover, 'server answers hover after hostile input');
}

test('billion laughs alias bomb gives a finding quickly', async () => {
  const lines = [
    'method: lora',
    'model: {name_or_path: x}',
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
  ];
  for (let i = 1; i < 10; i++) {
    const prev = String.fromCharCode(96 + i);
    const name = String.fromCharCode(97 + i);
    lines.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`);
  }
  const uri = fileUri('/tmp/bomb.finetune.yaml');
  client.open(uri, lines.join('\n'));
  const diagnostics = await client.diagnosticsFor(uri, 1, 10_000);
  assert.ok(diagnostics.some((d) => /alias bomb/.test(String(d.message))));
  assertReadable(diagnostics, 'alias bomb');
  await stillServes();
});

test('a 20 MB file is skipped with a clear diagnostic, and ignored when not a config', async () => {
  const big =
    'method: lora\nmodel:\n  name_or_path: x\nnotes: |\n' +
    '  lorem ipsum dolor sit amet\n'.repeat(750_000);
  assert.ok(big.length > 20 * 1024 * 1024);
  const uri = fileUri('/tmp/big.finetune.yaml');
  client.open(uri, big);
  const diagnostics = await client.diagnosticsFor(uri, 1, 20_000);
  assert.equal(diagnostics.length, 1);
  assert.match(
    String(diagnostics[0].message),
    /^This file is 20\.7 MB; Tunelab checks configs up to 2 MB/,
  );
  const other = fileUri('/tmp/big-data.yaml');
  client.open(other, big);
  assert.deepEqual(await client.diagnosticsFor(other, 1, 20_000), []);
  client.close(uri);
  client.close(other);
  await stillServes();
});

test('binary garbage, deep nesting, tabs and lone surrogates are handled', async () => {
  let seed = 42;
  const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
  const garbage = Array.from({ length: 100_000 }, () =>
    String.fromCharCode(Math.floor(random() * 0xffff)),
  ).join('');
  const cases: Record<string, string> = {
    'garbage.finetune.yaml': garbage,
    'deep.finetune.yaml': 'method: lora\nx: ' + '{a: '.repeat(10_000) + '1' + '}'.repeat(10_000),
    'tabs.finetune.yaml': 'method: lora\nmodel:\n\tname_or_path: x\n',
    'surrogate.finetune.yaml': 'method: lora\nmodel:\n  name_or_path: "\uD800"\n',
    'empty.finetune.yaml': '',
    'scalar.finetune.yaml': 'just a string',
  };
  for (const [name, text] of Object.entries(cases)) {
    const uri = fileUri(`/tmp/${name}`);
    client.open(uri, text);
    const diagnostics = await client.diagnosticsFor(uri, 1, 10_000);
    assert.ok(diagnostics.length > 0, `${name} gets a finding`);
    assert.ok(diagnostics.length <= 60, `${name}: bounded number of findings`);
    assertReadable(diagnostics, name);
    if (name === 'deep.finetune.yaml') {
      assert.equal(diagnostics.length, 1);
      assert.match(String(diagnostics[0].message), /nested too deeply \(over 64 levels/);
    }
  }
  await stillServes();
});

test('fuzz: random edits of a real config never stop the server from answering', async () => {
  let seed = 1234;
  const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
  const pieces = [
    ':',
    ' ',
    '\n',
    '  ',
    '- ',
    '[',
    ']',
    '{',
    '}',
    '&a ',
    '*a',
    '"',
    "'",
    '#',
    '\t',
    'lora',
    '0.5',
    'x',
  ];
  const uri = fileUri('/tmp/fuzz.finetune.yaml');
  let text = EXAMPLE;
  client.open(uri, text);
  let version = 1;
  for (let i = 0; i < 300; i++) {
    const at = Math.floor(random() * (text.length + 1));
    const roll = random();
    if (roll < 0.4) text = text.slice(0, at) + text.slice(at + 1 + Math.floor(random() * 20));
    else if (roll < 0.8)
      text = text.slice(0, at) + pieces[Math.floor(random() * pieces.length)] + text.slice(at);
    else text = EXAMPLE.slice(0, Math.floor(random() * EXAMPLE.length));
    version = client.change(uri, text);
    if (i % 25 === 0) {
      assertReadable(await client.diagnosticsFor(uri, version, 5000), `fuzz step ${i}`);
      const line = Math.floor(random() * 40);
      await client.hover(uri, line, 2);
      await client.completion(uri, line, 2);
      await client.documentSymbols(uri);
    }
  }
  await client.diagnosticsFor(uri, version, 5000);
  await stillServes();
  assert.equal(client.process.exitCode, null, 'server process still running');
});

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import type { MarkupContent } from 'vscode-languageserver-protocol';
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

function lineOf(text: string, needle: string): number {
  const index = text.split('\n').findIndex((l) => l.includes(needle));
  assert.ok(index >= 0, needle);
  return index;
}

test('hover on a key shows its documentation, type and default', async () => {
  const uri = fileUri('/tmp/hover.finetune.yaml');
  client.open(uri, EXAMPLE);
  const line = lineOf(EXAMPLE, 'lora_alpha:');
  const hover = await client.hover(uri, line, 4);
  const value = (hover?.contents as MarkupContent).value;
  assert.match(value, /lora\.lora_alpha/);
  assert.match(value, /integer|number/);
  assert.ok(value.length > 80, value);
  // Hover on a value documents its key too.
  const valueHover = await client.hover(uri, lineOf(EXAMPLE, 'bnb_4bit_quant_type'), 28);
  assert.match((valueHover?.contents as MarkupContent).value, /bnb_4bit_quant_type/);
});

test('key completion offers the section keys not yet present, with docs', async () => {
  const uri = fileUri('/tmp/complete.finetune.yaml');
  const text = 'method: lora\nmodel:\n  name_or_path: x\nlora:\n  r: 16\n  \n';
  client.open(uri, text);
  const items = await client.completion(uri, 5, 2);
  const labels = items.map((i) => i.label);
  assert.ok(labels.includes('lora_alpha'), labels.join(','));
  assert.ok(labels.includes('target_modules'));
  assert.ok(!labels.includes('r'), 'r is already present');
  assert.ok(!labels.includes('learning_rate'), 'training keys do not belong in lora');
  const alpha = items.find((i) => i.label === 'lora_alpha')!;
  assert.ok((alpha.documentation as MarkupContent).value.length > 20);
});

test('top-level completion offers the sections', async () => {
  const uri = fileUri('/tmp/top.finetune.yaml');
  client.open(uri, 'method: lora\n\n');
  const labels = (await client.completion(uri, 1, 0)).map((i) => i.label);
  for (const section of ['model', 'lora', 'data', 'training', 'launch'])
    assert.ok(labels.includes(section), section);
  assert.ok(!labels.includes('method'));
});

test('value completion offers enum values', async () => {
  const uri = fileUri('/tmp/values.finetune.yaml');
  const text = 'method: lora\nmodel:\n  name_or_path: x\nquantization:\n  bnb_4bit_quant_type: \n';
  client.open(uri, text);
  const labels = (await client.completion(uri, 4, 23)).map((i) => i.label);
  assert.deepEqual(labels.sort(), ['fp4', 'nf4']);
  const methods = (await client.completion(uri, 0, 8)).map((i) => i.label);
  assert.deepEqual(methods.sort(), ['full', 'lora', 'qlora']);
});

test('document symbols outline the sections and keys', async () => {
  const uri = fileUri('/tmp/symbols.finetune.yaml');
  client.open(uri, EXAMPLE);
  const symbols = await client.documentSymbols(uri);
  const names = symbols.map((s) => s.name);
  assert.deepEqual(names.slice(0, 4), [
    'method',
    'model',
    'quantization',
    'prepare_model_for_kbit_training',
  ]);
  const lora = symbols.find((s) => s.name === 'lora');
  assert.ok(lora?.children?.some((c) => c.name === 'target_modules'));
});

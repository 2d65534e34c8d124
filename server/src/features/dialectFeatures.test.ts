// Completion and hover read the schema of the document's dialect.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MarkupContent } from 'vscode-languageserver/node';
import { complete, dialectOfText } from './completion';
import { hover } from './hover';
import { analyze } from '../../../engine/src/engine';

const labels = (text: string, line: number, character: number) =>
  complete(text, { line, character }).map((i) => i.label);

test('the dialect of a document being typed: modeline, content, else native', () => {
  assert.equal(dialectOfText('base_model: x\nadapter: lora\n'), 'axolotl');
  assert.equal(dialectOfText('# tunelab: dialect=trl\n'), 'trl');
  assert.equal(
    dialectOfText('model_name_or_path: x\nstage: sft\nfinetuning_type: lora\n'),
    'llamafactory',
  );
  assert.equal(dialectOfText('method: lora\nmodel:\n  name_or_path: x\n'), 'native');
  assert.equal(dialectOfText(''), 'native');
});

test("key completion offers the tool's keys, without those already written", () => {
  const axolotl = 'base_model: x\nadapter: lora\nlora_\n';
  const items = labels(axolotl, 2, 5);
  for (const key of [
    'lora_r',
    'lora_alpha',
    'lora_target_modules',
    'sequence_len',
    'micro_batch_size',
  ])
    assert.ok(items.includes(key), key);
  assert.ok(!items.includes('adapter') && !items.includes('base_model'));
  assert.ok(!items.includes('method') && !items.includes('training'), 'no native keys');

  const lf = 'model_name_or_path: x\nstage: sft\nfinetuning_type: lora\n\n';
  const lfItems = labels(lf, 3, 0);
  for (const key of ['lora_rank', 'lora_target', 'cutoff_len', 'template', 'learning_rate'])
    assert.ok(lfItems.includes(key), key);

  const trl = 'model_name_or_path: x\ndataset_name: y\n\n';
  const trlItems = labels(trl, 2, 0);
  for (const key of ['use_peft', 'lora_r', 'max_length', 'packing', 'per_device_train_batch_size'])
    assert.ok(trlItems.includes(key), key);
});

test("value completion offers the tool's enums", () => {
  assert.deepEqual(labels('base_model: x\nadapter: \n', 1, 9), ['lora', 'qlora', 'llama-adapter']);
  const lf = 'model_name_or_path: x\nstage: sft\nfinetuning_type: \n';
  assert.deepEqual(labels(lf, 2, 17), ['lora', 'oft', 'freeze', 'full']);
  const snippet = complete('base_model: x\nadapter: lora\nbf\n', { line: 2, character: 2 }).find(
    (i) => i.label === 'bf16',
  );
  assert.match(
    String(snippet?.textEdit && 'newText' in snippet.textEdit ? snippet.textEdit.newText : ''),
    /auto/,
  );
});

test("hover documents the tool's keys, with the estimate on the keys that drive it", () => {
  const text =
    'base_model: meta-llama/Llama-3.1-8B\nadapter: lora\nlora_r: 16\nmicro_batch_size: 2\nsequence_len: 4096\nlearning_rate: 0.0002\n';
  const analysis = analyze(text, '/x/a.yml');
  const value = (line: number, character: number) =>
    (hover(analysis, { line, character })?.contents as MarkupContent | undefined)?.value ?? '';
  assert.match(value(4, 2), /\*\*`sequence_len`\*\* · integer ≥ 1 · default `512`/);
  assert.match(value(4, 2), /GiB/, 'sequence_len drives the estimate');
  assert.match(value(2, 2), /`lora_r`/);
  assert.doesNotMatch(value(5, 2), /GiB/, 'learning_rate does not');
  const trl = analyze('model_name_or_path: x\ndataset_name: y\nmax_length: 1024\n', '/x/t.yaml');
  assert.match(
    (hover(trl, { line: 2, character: 3 })?.contents as MarkupContent).value,
    /truncated silently/,
  );
});

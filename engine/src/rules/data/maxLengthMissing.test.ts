import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { applyFix, findings, textAt } from '../testing';
import { chatRow, rows, tempProject } from './testFiles';

const project = tempProject();
after(() => project.remove());

const config = (data: string) => `method: lora
model:
  name_or_path: meta-llama/Llama-3.1-8B-Instruct
lora:
  r: 16
  lora_alpha: 32
${data}`;

test('missing in the data section: reported on the `data` key; the fix sets 2048', () => {
  const yaml = config(
    'data:\n  train_file: data/train.jsonl  # support chats\n  format: messages\n',
  );
  const [hit] = findings('max-length-missing', yaml);
  assert.equal(hit.severity, 'warning');
  assert.equal(textAt(yaml, hit.range), 'data');
  assert.match(hit.message, /`data\.max_length` is not set/);
  assert.match(hit.message, /`max_length: 2048`/);
  const fixed = applyFix(yaml, hit);
  assert.match(fixed, /\n {2}format: messages\n {2}max_length: 2048\n$/);
  assert.deepEqual(findings('max-length-missing', fixed), []);
});

test('with the data file read, the message gives the longest example', () => {
  project.write('data/train.jsonl', rows(10) + chatRow(3600) + '\n');
  const yaml = config('data:\n  train_file: data/train.jsonl\n');
  const [hit] = project.lint('max-length-missing', yaml);
  // 25 + 3600 characters: 7 + 1000 tokens, 4 per message, 2 per record.
  assert.match(hit.message, /longest training example read is about 1,017 tokens/);
});

test('`max_length: null` (no truncation) is reported on the value and replaced', () => {
  const yaml = config('data:\n  train_file: data/train.jsonl\n  max_length: null\n');
  const [hit] = findings('max-length-missing', yaml);
  assert.equal(textAt(yaml, hit.range), 'null');
  assert.match(hit.message, /means no truncation/);
  const fixed = applyFix(yaml, hit);
  assert.match(fixed, /\n {2}max_length: 2048\n$/);
  assert.deepEqual(findings('max-length-missing', fixed), []);
});

test('no data section: reported on the method; the fix creates the section', () => {
  const yaml = config('');
  const [hit] = findings('max-length-missing', yaml);
  assert.equal(textAt(yaml, hit.range), 'lora');
  const fixed = applyFix(yaml, hit);
  assert.ok(fixed.endsWith('\ndata:\n  max_length: 2048\n'), fixed);
  assert.deepEqual(findings('max-length-missing', fixed), []);
});

test('near misses: any number, and a value of the wrong type (the schema reports it)', () => {
  for (const value of ['512', '1', '32768', '"2048"']) {
    assert.deepEqual(
      findings('max-length-missing', config(`data:\n  max_length: ${value}\n`)),
      [],
      value,
    );
  }
});

import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { textAt } from '../testing';
import { chatRow, rows, tempProject } from './testFiles';

const project = tempProject();
after(() => project.remove());

const config = (maxLength: string) => `method: lora
model:
  name_or_path: meta-llama/Llama-3.1-8B-Instruct
lora:
  r: 16
  lora_alpha: 32
data:
  train_file: data/train.jsonl
  format: messages
${maxLength}`;

// A short row is 29 estimated tokens, a long one (3,600-character answer) 1,017.
const mixed = (long: number, total = 100) =>
  rows(total, (i) => (i < long ? chatRow(3600) : chatRow(40)));

test('6% of rows above max_length: info on the value, with the share and a length that fits 95%', () => {
  project.write('data/train.jsonl', mixed(6));
  const yaml = config('  max_length: 512  # tokens\n');
  const [hit] = project.lint('data-truncation', yaml);
  assert.equal(hit.severity, 'info');
  assert.equal(textAt(yaml, hit.range), '512');
  assert.match(hit.message, /About 6% of the training examples \(6 of 100 of `data\/train\.jsonl`/);
  assert.match(hit.message, /longest about 1,017\)/);
  assert.match(hit.message, /`max_length: 1024` fits 95% of the examples/);
  assert.equal(hit.fixes, undefined);
  // Following the advice clears it.
  assert.deepEqual(project.lint('data-truncation', config('  max_length: 1024\n')), []);
});

test('re-read when the data file changes: shortening the long rows clears it', () => {
  project.write('data/train.jsonl', mixed(20));
  const yaml = config('  max_length: 512\n');
  assert.match(project.lint('data-truncation', yaml)[0].message, /About 20%/);
  project.write('data/train.jsonl', mixed(2));
  assert.deepEqual(project.lint('data-truncation', yaml), []);
});

test('near misses: exactly 5%, rows exactly at max_length, bad lines not counted', () => {
  project.write('data/train.jsonl', mixed(5));
  assert.deepEqual(project.lint('data-truncation', config('  max_length: 512\n')), []);
  project.write('data/train.jsonl', mixed(50));
  assert.deepEqual(project.lint('data-truncation', config('  max_length: 1017\n')), []);
  assert.equal(project.lint('data-truncation', config('  max_length: 1016\n')).length, 1);
  // 10 long rows that are not valid JSON, 90 short valid ones.
  project.write('data/train.jsonl', rows(10, () => '{"messages": ' + 'x'.repeat(4000)) + rows(90));
  assert.deepEqual(project.lint('data-truncation', config('  max_length: 512\n')), []);
});

test('silent without max_length (max-length-missing reports it) and without readable data', () => {
  project.write('data/train.jsonl', mixed(50));
  assert.deepEqual(project.lint('data-truncation', config('')), []);
  assert.deepEqual(
    project.lint(
      'data-truncation',
      config('  max_length: 512\n').replace('train.jsonl', 'nope.jsonl'),
    ),
    [],
  );
});

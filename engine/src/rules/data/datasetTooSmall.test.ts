import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { textAt } from '../testing';
import { rows, tempProject } from './testFiles';

const project = tempProject();
after(() => project.remove());

const config = (data = '  train_file: data/train.jsonl') => `method: lora
model:
  name_or_path: meta-llama/Llama-3.1-8B-Instruct
lora:
  r: 16
  lora_alpha: 32
data:
${data}
  max_length: 2048
`;

test('999 rows: warning on the train file value with the row count', () => {
  project.write('data/train.jsonl', rows(999));
  const yaml = config();
  const [hit] = project.lint('dataset-too-small', yaml);
  assert.equal(hit.severity, 'warning');
  assert.equal(textAt(yaml, hit.range), 'data/train.jsonl');
  assert.match(hit.message, /has 999 training examples: under 1,000/);
  assert.match(hit.message, /Expand the data/);
});

test('one row: singular; blank lines are not rows', () => {
  project.write('data/train.jsonl', '\n' + rows(1) + '\n\n');
  assert.match(project.lint('dataset-too-small', config())[0].message, /has 1 training example:/);
});

test('the file grows while open: 1,000 rows clear it', () => {
  project.write('data/train.jsonl', rows(500));
  assert.equal(project.lint('dataset-too-small', config()).length, 1);
  project.write('data/train.jsonl', rows(1000));
  assert.deepEqual(project.lint('dataset-too-small', config()), []);
});

test('near misses: 1,000 rows, an empty or missing file, a small eval file', () => {
  project.write('data/train.jsonl', rows(1000));
  assert.deepEqual(project.lint('dataset-too-small', config()), []);
  project.write('data/eval.jsonl', rows(50));
  assert.deepEqual(
    project.lint(
      'dataset-too-small',
      config('  train_file: data/train.jsonl\n  eval_file: data/eval.jsonl'),
    ),
    [],
  );
  project.write('data/empty.jsonl', '');
  assert.deepEqual(project.lint('dataset-too-small', config('  train_file: data/empty.jsonl')), []);
  assert.deepEqual(project.lint('dataset-too-small', config('  train_file: data/none.jsonl')), []);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findings, textAt } from '../testing';

const CODE = 'evaluation-task-no-eval-file';
const LORA = 'method: lora\nmodel:\n  name_or_path: meta-llama/Llama-3.2-1B\nlora:\n  r: 8\n';

test('task metrics without data.eval_file: an error on the task key', () => {
  const yaml = `${LORA}data:\n  train_file: a.jsonl\nevaluation:\n  task:\n    metrics: [bleu]\n`;
  const [hit] = findings(CODE, yaml);
  assert.equal(hit.severity, 'error');
  assert.equal(textAt(yaml, hit.range), 'task');
  assert.match(hit.message, /no eval data/);
  assert.match(hit.message, /Add `data\.eval_file`/);
});

test('without a data section it still says what to add', () => {
  const yaml = `${LORA}evaluation:\n  task: { max_samples: 5 }\n`;
  const [hit] = findings(CODE, yaml);
  assert.equal(textAt(yaml, hit.range), 'task');
  assert.match(hit.message, /data\.eval_file/);
});

test('near misses: an eval file given; an evaluation section without task (forgetting only)', () => {
  assert.deepEqual(
    findings(
      CODE,
      `${LORA}data:\n  train_file: a.jsonl\n  eval_file: e.jsonl\nevaluation:\n  task: { metrics: [bleu] }\n`,
    ),
    [],
  );
  assert.deepEqual(
    findings(
      CODE,
      `${LORA}data:\n  train_file: a.jsonl\nevaluation:\n  forgetting: { file: g.jsonl }\n`,
    ),
    [],
  );
});

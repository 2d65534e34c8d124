import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findings, textAt } from '../testing';

const MODEL = 'model:\n  name_or_path: meta-llama/Llama-3.2-1B\n';

test('full without general data fires on the data key, without a fix', () => {
  const yaml = `method: full\n${MODEL}data:\n  train_file: data/train.jsonl\n`;
  const [hit] = findings('full-ft-forgetting', yaml);
  assert.equal(hit.severity, 'info');
  assert.equal(textAt(yaml, hit.range), 'data');
  assert.match(hit.message, /catastrophic forgetting/);
  assert.match(hit.message, /5-10% general data/);
  assert.equal(hit.fixes, undefined);
});

test('without a data section it points at the method', () => {
  const yaml = `method: full\n${MODEL}`;
  const [hit] = findings('full-ft-forgetting', yaml);
  assert.equal(textAt(yaml, hit.range), 'full');
});

test('near misses stay silent: general data given, LoRA', () => {
  assert.deepEqual(
    findings(
      'full-ft-forgetting',
      `method: full\n${MODEL}data:\n  train_file: a.jsonl\n  general_data: { file: g.jsonl, ratio: 0.05 }\n`,
    ),
    [],
  );
  assert.deepEqual(
    findings(
      'full-ft-forgetting',
      `method: lora\n${MODEL}lora:\n  r: 8\ndata:\n  train_file: a.jsonl\n`,
    ),
    [],
  );
});

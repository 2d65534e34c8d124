import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyFix, findings, textAt } from '../testing';

const config = (method: string, lr: string) => `method: ${method}
model:
  name_or_path: meta-llama/Llama-3.1-8B
${method === 'full' ? '' : 'lora:\n  r: 16\n  lora_alpha: 32\n'}training:
  learning_rate: ${lr}
  num_train_epochs: 3
`;

test('LoRA at 1e-5 fires on the value; the fix sets 2.0e-4', () => {
  const yaml = config('lora', '1.0e-5  # copied from a full run');
  const [hit] = findings('learning-rate-method', yaml);
  assert.equal(hit.severity, 'warning');
  assert.equal(textAt(yaml, hit.range), '1.0e-5');
  assert.match(hit.message, /learning_rate 1\.0e-5 is too low for LoRA/);
  assert.match(hit.message, /2\.0e-4/);
  const fixed = applyFix(yaml, hit);
  assert.match(fixed, /learning_rate: 2\.0e-4 {2}# copied from a full run\n/);
  assert.deepEqual(findings('learning-rate-method', fixed), []);
});

test('QLoRA at 0.005 fires as too high', () => {
  const yaml = config('qlora', '0.005');
  const [hit] = findings('learning-rate-method', yaml);
  assert.equal(textAt(yaml, hit.range), '0.005');
  assert.match(hit.message, /too high for QLoRA/);
});

test('full at 2e-4 fires (forgetting); the fix sets 2.0e-5', () => {
  const yaml = config('full', '2e-4');
  const [hit] = findings('learning-rate-method', yaml);
  assert.equal(textAt(yaml, hit.range), '2e-4');
  assert.match(hit.message, /too high for full fine-tuning/);
  assert.match(hit.message, /forget/);
  const fixed = applyFix(yaml, hit);
  assert.match(fixed, /learning_rate: 2\.0e-5\n/);
  assert.deepEqual(findings('learning-rate-method', fixed), []);
});

test('full at 5e-7 fires as too low', () => {
  const [hit] = findings('learning-rate-method', config('full', '5.0e-7'));
  assert.match(hit.message, /too low for full fine-tuning/);
});

test('near misses stay silent: at the bounds, usual values, missing', () => {
  for (const [method, lr] of [
    ['lora', '5.0e-5'],
    ['lora', '1.0e-3'],
    ['qlora', '2.0e-4'],
    ['full', '1.0e-4'],
    ['full', '1.0e-6'],
    ['full', '2.0e-5'],
  ]) {
    assert.deepEqual(findings('learning-rate-method', config(method, lr)), [], `${method} ${lr}`);
  }
  assert.deepEqual(
    findings(
      'learning-rate-method',
      'method: full\nmodel:\n  name_or_path: x\ntraining:\n  bf16: true\n',
    ),
    [],
  );
});

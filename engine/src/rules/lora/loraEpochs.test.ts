import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyFix, findings, textAt } from '../testing';

const config = (training: string, method = 'lora') => `method: ${method}
model:
  name_or_path: meta-llama/Llama-3.1-8B
lora:
  r: 16
  lora_alpha: 32
training:
${training}
`;

test('10 epochs fires on the value; the fix sets 3', () => {
  const yaml = config('  learning_rate: 2.0e-4\n  num_train_epochs: 10  # long');
  const [hit] = findings('lora-epochs', yaml);
  assert.equal(hit.severity, 'warning');
  assert.equal(textAt(yaml, hit.range), '10');
  assert.match(hit.message, /num_train_epochs 10 with LoRA/);
  const fixed = applyFix(yaml, hit);
  assert.match(fixed, /\n {2}num_train_epochs: 3 {2}# long\n/);
  assert.deepEqual(findings('lora-epochs', fixed), []);
});

test('QLoRA with 5.5 epochs fires', () => {
  const yaml = config('  num_train_epochs: 5.5', 'qlora');
  const [hit] = findings('lora-epochs', yaml);
  assert.equal(textAt(yaml, hit.range), '5.5');
  assert.match(hit.message, /QLoRA/);
});

test('near misses stay silent: 5 epochs, the default, max_steps set, full fine-tuning', () => {
  assert.deepEqual(findings('lora-epochs', config('  num_train_epochs: 5')), []);
  assert.deepEqual(findings('lora-epochs', config('  learning_rate: 2.0e-4')), []);
  assert.deepEqual(
    findings('lora-epochs', config('  num_train_epochs: 10\n  max_steps: 1000')),
    [],
  );
  assert.deepEqual(
    findings(
      'lora-epochs',
      'method: full\nmodel:\n  name_or_path: x\ntraining:\n  num_train_epochs: 10\n',
    ),
    [],
  );
});

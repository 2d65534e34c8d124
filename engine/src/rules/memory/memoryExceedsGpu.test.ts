import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyFix, findings, lintYaml, textAt } from '../testing';

const config = (training: string, gpu = 'A100-40GB', method = 'lora') => `method: ${method}
model:
  name_or_path: meta-llama/Llama-3.1-8B
lora:
  r: 16
  lora_alpha: 32
  target_modules: all-linear
data:
  train_file: data/train.jsonl
  max_length: 2048
training:
${training}
hardware:
  gpu: ${gpu}
`;

test('8B LoRA at 2048×4 without checkpointing does not fit 40 GB; the fix enables checkpointing', () => {
  const yaml = config('  per_device_train_batch_size: 4\n  gradient_checkpointing: false');
  const [hit] = findings('memory-exceeds-gpu', yaml);
  assert.ok(hit, 'fires');
  assert.equal(hit.severity, 'error');
  assert.equal(textAt(yaml, hit.range), 'lora');
  assert.match(hit.message, /needs about \d+\.\d GiB per GPU against 40\.0 GiB on A100-40GB/);
  assert.match(hit.message, /gradient checkpointing/);
  const fixed = applyFix(yaml, hit);
  assert.match(fixed, /gradient_checkpointing: true/);
  assert.deepEqual(findings('memory-exceeds-gpu', fixed), []);
});

test('when checkpointing is not enough the fix changes more, and the result fits', () => {
  const yaml = config(
    '  per_device_train_batch_size: 16\n  gradient_checkpointing: true',
    'RTX4090-24GB',
  );
  const [hit] = findings('memory-exceeds-gpu', yaml);
  assert.ok(hit);
  const fixed = applyFix(yaml, hit);
  assert.deepEqual(findings('memory-exceeds-gpu', fixed), [], fixed);
  // The fixed config is still valid YAML with no schema errors.
  assert.deepEqual(
    lintYaml(fixed).filter((f) => f.code.startsWith('schema') || f.code === 'yaml-syntax'),
    [],
  );
});

test('switching to QLoRA is offered when batching alone cannot fit, and the sections follow', () => {
  const yaml = config(
    '  per_device_train_batch_size: 1\n  gradient_checkpointing: true',
    'T4-16GB',
  );
  const [hit] = findings('memory-exceeds-gpu', yaml);
  assert.ok(hit);
  const fixed = applyFix(yaml, hit);
  assert.match(fixed, /^method: qlora$/m);
  assert.match(fixed, /load_in_4bit: true/);
  assert.match(fixed, /prepare_model_for_kbit_training: true/);
  assert.deepEqual(findings('memory-exceeds-gpu', fixed), []);
  assert.deepEqual(findings('method-sections', fixed), []);
  assert.deepEqual(findings('qlora-prepare-kbit', fixed), []);
});

test('silent when it fits, without a GPU, or with an unknown model', () => {
  assert.deepEqual(
    findings('memory-exceeds-gpu', config('  gradient_checkpointing: true', 'H100-80GB')),
    [],
  );
  assert.deepEqual(
    findings(
      'memory-exceeds-gpu',
      config('  per_device_train_batch_size: 4').replace(/hardware:\n.*\n/, ''),
    ),
    [],
  );
  assert.deepEqual(
    findings(
      'memory-exceeds-gpu',
      config('  per_device_train_batch_size: 4', 'T4-16GB').replace(
        'meta-llama/Llama-3.1-8B',
        'acme/unknown-model',
      ),
    ),
    [],
  );
});

test('the --gpu override is used', () => {
  const yaml = config(
    '  per_device_train_batch_size: 4\n  gradient_checkpointing: false',
    'H200-141GB',
  );
  assert.deepEqual(findings('memory-exceeds-gpu', yaml), []);
  assert.equal(findings('memory-exceeds-gpu', yaml, { gpu: 'A100-40GB' }).length, 1);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildNativePlan, DEFAULTS, MAX_NUM_GPUS } from './nativePlan';

test('usable numbers: nothing is listed as invalid', () => {
  const plan = buildNativePlan({
    method: 'lora',
    lora: { r: 16, lora_alpha: 32 },
    training: { num_train_epochs: 2, learning_rate: 2e-4 },
    hardware: { gpu: { name: 'MI300X', memory_gb: 192 }, num_gpus: 8 },
  });
  assert.deepEqual(plan.invalidNumbers, []);
  assert.equal(plan.lora?.r, 16);
  assert.equal(plan.hardware.numGpus, 8);
});

test('non-finite numbers are listed by plan field; the default stands in, never Infinity', () => {
  const plan = buildNativePlan({
    method: 'lora',
    lora: { r: Infinity, lora_alpha: 32, lora_dropout: NaN },
    data: { max_length: -Infinity },
    training: { num_train_epochs: Infinity, per_device_train_batch_size: NaN },
    hardware: { gpu: { name: 'X', memory_gb: Infinity }, num_gpus: Infinity },
  });
  assert.deepEqual([...(plan.invalidNumbers ?? [])].sort(), [
    'data.maxLength',
    'hardware.gpu',
    'hardware.numGpus',
    'lora.dropout',
    'lora.r',
    'training.epochs',
    'training.microBatch',
  ]);
  assert.equal(plan.lora?.r, DEFAULTS.loraR);
  assert.equal(plan.training.epochs, DEFAULTS.epochs);
  assert.equal(plan.hardware.numGpus, DEFAULTS.numGpus);
  assert.equal(plan.hardware.gpu, undefined);
  assert.equal(plan.data.maxLength, undefined);
  // Every listed field has a config path, for the finding's range.
  for (const field of plan.invalidNumbers ?? []) assert.ok(plan.where[field], field);
});

test('a GPU count that is no count is invalid but kept as written', () => {
  for (const count of [1e9, MAX_NUM_GPUS + 1, 2.5, 0, -1]) {
    const plan = buildNativePlan({ method: 'full', hardware: { num_gpus: count } });
    assert.deepEqual(plan.invalidNumbers, ['hardware.numGpus'], String(count));
    assert.equal(plan.hardware.numGpus, count);
  }
  assert.deepEqual(
    buildNativePlan({ method: 'full', hardware: { num_gpus: MAX_NUM_GPUS } }).invalidNumbers,
    [],
  );
});

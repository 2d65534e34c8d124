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

test('no evaluation section: nothing is evaluated', () => {
  const plan = buildNativePlan({ method: 'lora', data: { train_file: 'a.jsonl' } });
  assert.equal(plan.evaluation, undefined);
});

test('an empty evaluation section: evaluated at the end, the task on the eval file with the default metrics', () => {
  const plan = buildNativePlan({
    method: 'lora',
    data: { train_file: 'a.jsonl', eval_file: 'e.jsonl' },
    evaluation: {},
  });
  assert.deepEqual(plan.evaluation, {
    when: 'end',
    task: {
      maxSamples: 50,
      metrics: ['exact_match', 'chrf', 'bleu', 'rouge_l'],
      jsonSchema: undefined,
    },
    generation: { max_new_tokens: 256, do_sample: false },
    forgetting: undefined,
    lmEval: undefined,
  });
});

test('without an eval file and no task key there is no task; forgetting defaults to the general data', () => {
  const plan = buildNativePlan({
    method: 'full',
    data: { train_file: 'a.jsonl', general_data: { file: 'g.jsonl', ratio: 0.05 } },
    evaluation: { when: 'on_demand', forgetting: { threshold: 0.1 } },
  });
  assert.equal(plan.evaluation?.when, 'on_demand');
  assert.equal(plan.evaluation?.task, undefined);
  assert.deepEqual(plan.evaluation?.forgetting, {
    file: 'g.jsonl',
    maxSamples: 200,
    threshold: 0.1,
  });
});

test('written values win over defaults; unknown metrics and unusable numbers are dropped', () => {
  const plan = buildNativePlan({
    method: 'lora',
    evaluation: {
      when: 'sometimes',
      task: { max_samples: 0, metrics: ['bleu', 'accuracy', 'json_schema'], json_schema: 's.json' },
      generation: { max_new_tokens: 64, top_p: 0.9 },
      forgetting: { file: 'held-out.jsonl', max_samples: -3, threshold: Infinity },
      lm_eval: { tasks: ['mmlu', 7, 'gsm8k'], limit: 100 },
    },
  });
  const evaluation = plan.evaluation!;
  assert.equal(evaluation.when, 'end');
  assert.deepEqual(evaluation.task, {
    maxSamples: 0,
    metrics: ['bleu', 'json_schema'],
    jsonSchema: 's.json',
  });
  assert.deepEqual(evaluation.generation, { max_new_tokens: 64, do_sample: false, top_p: 0.9 });
  assert.deepEqual(evaluation.forgetting, {
    file: 'held-out.jsonl',
    maxSamples: 200,
    threshold: 0.05,
  });
  assert.deepEqual(evaluation.lmEval, { tasks: ['mmlu', 'gsm8k'], limit: 100, batchSize: 8 });
  // An eval setting never skips the memory estimate.
  assert.deepEqual(plan.invalidNumbers, []);
});

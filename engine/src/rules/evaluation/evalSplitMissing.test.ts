import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findings, textAt } from '../testing';

const CODE = 'eval-split-missing';
const LORA = 'method: lora\nmodel:\n  name_or_path: meta-llama/Llama-3.2-1B\nlora:\n  r: 8\n';

test('native data without eval_file: a warning on the data key, saying what to add', () => {
  const yaml = `${LORA}data:\n  train_file: data/train.jsonl\n`;
  const [hit] = findings(CODE, yaml);
  assert.equal(hit.severity, 'warning');
  assert.equal(textAt(yaml, hit.range), 'data');
  assert.match(hit.message, /No eval split/);
  assert.match(hit.message, /Add `data\.eval_file`/);
});

test('native near misses: an eval file, no data section at all, task metrics (the error says it)', () => {
  assert.deepEqual(
    findings(CODE, `${LORA}data:\n  train_file: a.jsonl\n  eval_file: e.jsonl\n`),
    [],
  );
  assert.deepEqual(findings(CODE, LORA), []);
  assert.deepEqual(
    findings(
      CODE,
      `${LORA}data:\n  train_file: a.jsonl\nevaluation:\n  task: { max_samples: 10 }\n`,
    ),
    [],
  );
});

const AXOLOTL = `base_model: meta-llama/Llama-3.2-1B
adapter: lora
lora_r: 8
micro_batch_size: 2
gradient_accumulation_steps: 4
datasets:
  - path: data/train.jsonl
    type: chat_template
`;

test('Axolotl without val_set_size or test_datasets: on `datasets`, in its own keys', () => {
  const [hit] = findings(CODE, AXOLOTL, { fileName: '/virtual/run.yml' });
  assert.equal(textAt(AXOLOTL, hit.range), 'datasets');
  assert.match(hit.message, /`val_set_size: 0\.05`/);
  assert.doesNotMatch(hit.message, /data\.eval_file/);
  for (const extra of [
    'val_set_size: 0.05\n',
    'test_datasets:\n  - path: data/eval.jsonl\n    type: chat_template\n',
  ])
    assert.deepEqual(findings(CODE, AXOLOTL + extra, { fileName: '/virtual/run.yml' }), []);
  // A held-out size of 0 holds nothing out.
  assert.equal(
    findings(CODE, AXOLOTL + 'val_set_size: 0\n', { fileName: '/virtual/run.yml' }).length,
    1,
  );
});

const LLAMAFACTORY = `model_name_or_path: meta-llama/Llama-3.2-1B
stage: sft
do_train: true
finetuning_type: lora
dataset: alpaca_en_demo
template: llama3
`;

test('LLaMA-Factory without val_size or eval_dataset: on `dataset`', () => {
  const [hit] = findings(CODE, LLAMAFACTORY, { fileName: '/virtual/run.yaml' });
  assert.equal(textAt(LLAMAFACTORY, hit.range), 'dataset');
  assert.match(hit.message, /`val_size: 0\.05`/);
  for (const extra of ['val_size: 0.1\n', 'eval_dataset: alpaca_en_demo\n'])
    assert.deepEqual(findings(CODE, LLAMAFACTORY + extra, { fileName: '/virtual/run.yaml' }), []);
});

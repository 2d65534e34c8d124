import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyFix, findings, textAt } from '../testing';

const LF = { fileName: '/virtual/llamafactory.yaml' };

const config = (extra: string) => `model_name_or_path: Qwen/Qwen2.5-7B-Instruct
stage: sft
do_train: true
finetuning_type: lora
${extra}dataset: alpaca_en_demo
template: qwen
per_device_train_batch_size: 2
gradient_accumulation_steps: 8
learning_rate: 1.0e-4
`;

test('llamafactory-lora-alpha-default: the doubled default is made visible', () => {
  const yaml = config('lora_rank: 16\n');
  const [hit] = findings('llamafactory-lora-alpha-default', yaml, LF);
  assert.equal(hit.severity, 'info');
  assert.equal(textAt(yaml, hit.range), '16');
  assert.match(hit.message, /2 × lora_rank = 32/);
  const fixed = applyFix(yaml, hit);
  assert.match(fixed, /\nlora_alpha: 32\n$/);
  assert.deepEqual(findings('llamafactory-lora-alpha-default', fixed, LF), []);
});

test('llamafactory-lora-alpha-default: with rsLoRA the scale grows with the rank', () => {
  const yaml = config('lora_rank: 64\nuse_rslora: true\n');
  const [hit] = findings('llamafactory-lora-alpha-default', yaml, LF);
  assert.match(hit.message, /128 \/ sqrt\(64\) = 16, far above/);
  assert.match(applyFix(yaml, hit), /lora_alpha: 16\n$/);
  // The generic scale rule sees the same default, on the rank, in LLaMA-Factory's words.
  const [ratio] = findings('lora-alpha-ratio', yaml, LF);
  assert.equal(textAt(yaml, ratio.range), 'finetuning_type');
  assert.match(ratio.message, /`lora_alpha: 16`/);
});

test('llamafactory-lora-alpha-default: no rank reports on finetuning_type; silent with alpha or full', () => {
  const yaml = config('');
  const [hit] = findings('llamafactory-lora-alpha-default', yaml, LF);
  assert.equal(textAt(yaml, hit.range), 'finetuning_type');
  assert.match(hit.message, /= 16/);
  assert.deepEqual(findings('llamafactory-lora-alpha-default', config('lora_alpha: 16\n'), LF), []);
  assert.deepEqual(
    findings('llamafactory-lora-alpha-default', config('').replace('type: lora', 'type: full'), LF),
    [],
  );
});

test('llamafactory-max-length: max_length is generation only; the fix renames it to cutoff_len', () => {
  const yaml = config('lora_alpha: 16\nmax_length: 8192\n');
  const [hit] = findings('llamafactory-max-length', yaml, LF);
  assert.equal(hit.severity, 'warning');
  assert.equal(textAt(yaml, hit.range), 'max_length');
  assert.match(hit.message, /defaults to 2048/);
  const fixed = applyFix(yaml, hit);
  assert.match(fixed, /\ncutoff_len: 8192\n/);
  assert.deepEqual(findings('llamafactory-max-length', fixed, LF), []);
  assert.deepEqual(
    findings('llamafactory-max-length', config('max_length: 512\ncutoff_len: 4096\n'), LF),
    [],
  );
});

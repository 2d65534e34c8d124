import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyFix, findings, textAt } from '../testing';

const config = (gpu: string, opts: { method?: string; evaluate?: boolean; merge?: boolean } = {}) =>
  `method: ${opts.method ?? 'qlora'}
model:
  name_or_path: meta-llama/Llama-3.1-8B
lora: { r: 16, lora_alpha: 32, target_modules: all-linear }
data:
  train_file: data/train.jsonl
  eval_file: data/eval.jsonl
  max_length: 1024
training:
  per_device_train_batch_size: 1
  gradient_checkpointing: true
${opts.evaluate === false ? '' : 'evaluation:\n  when: end\n'}export:
  merge: ${opts.merge === false ? 'false' : 'true'}
  dtype: bfloat16
hardware:
  gpu: ${gpu}
`;

test('a 16-bit 8B model on a 16 GB card: warned on export.merge; the fix keeps the adapter', () => {
  const yaml = config('T4-16GB');
  const [hit] = findings('qlora-merge-on-cpu', yaml);
  assert.equal(hit.severity, 'warning');
  assert.equal(textAt(yaml, hit.range), 'true');
  assert.match(hit.message, /merged 16-bit model \(15\.\d GiB\) does not fit T4-16GB/);
  const fixed = applyFix(yaml, hit);
  assert.match(fixed, /\n {2}merge: false\n/);
  assert.deepEqual(findings('qlora-merge-on-cpu', fixed), []);
});

test('silent where the merged model fits, without an evaluation after training, and for LoRA', () => {
  assert.deepEqual(findings('qlora-merge-on-cpu', config('A100-40GB')), []);
  assert.deepEqual(findings('qlora-merge-on-cpu', config('T4-16GB', { evaluate: false })), []);
  assert.deepEqual(findings('qlora-merge-on-cpu', config('T4-16GB', { method: 'lora' })), []);
  assert.deepEqual(findings('qlora-merge-on-cpu', config('T4-16GB', { merge: false })), []);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DataFileSummary } from '../../data/types';
import { applyFix, findings, textAt } from '../testing';

const full = (training: string, model = 'meta-llama/Llama-3.1-8B') => `method: full
model:
  name_or_path: ${model}
training:
  bf16: true
${training}
`;

function withRows(rows: number) {
  const train: DataFileSummary = {
    path: '/virtual/train.jsonl',
    exists: true,
    rows,
    partial: false,
    sizeBytes: rows * 400,
    badLines: 0,
    tokenLengths: [],
  };
  return { summarizeData: () => ({ train }) };
}

test('full without save_total_limit fires on the training key with the checkpoint size', () => {
  const yaml = full('  save_steps: 500');
  const [hit] = findings('checkpoint-storage', yaml);
  assert.equal(hit.severity, 'info');
  assert.equal(textAt(yaml, hit.range), 'training');
  // 8.03B parameters × (2 bf16 weights + 4 AdamW states in bf16) = 48.2 GB.
  assert.match(hit.message, /≈ 48\.2 GB for Llama 3\.1 8B \(8\.03B parameters × 6 bytes/);
  assert.match(hit.message, /`save_total_limit: 2` \(≈ 96\.4 GB\)/);
  const fixed = applyFix(yaml, hit);
  assert.match(fixed, /\n {2}save_steps: 500\n {2}save_total_limit: 2\n/);
  assert.deepEqual(findings('checkpoint-storage', fixed), []);
});

test('with rows known the message counts the checkpoints of the run', () => {
  // 20000 rows / (8 × 1 × 1) = 2500 steps per epoch × 3 = 7500 steps: 15 saves of 500.
  const [hit] = findings('checkpoint-storage', full('  save_steps: 500'), withRows(20000));
  assert.match(hit.message, /about 15 checkpoints: ≈ 723 GB/);
});

test('an unknown model still fires for full without a limit, without sizes', () => {
  const yaml = full('  learning_rate: 2.0e-5', 'acme/unknown-8b');
  const [hit] = findings('checkpoint-storage', yaml);
  assert.match(hit.message, /optimizer states/);
  assert.deepEqual(findings('checkpoint-storage', applyFix(yaml, hit)), []);
});

test('3 kept full checkpoints of 8B (144.5 GB) fire on the limit; the fix sets 2', () => {
  const yaml = full('  save_total_limit: 3  # keep a few');
  const [hit] = findings('checkpoint-storage', yaml);
  assert.equal(textAt(yaml, hit.range), '3');
  assert.match(hit.message, /≈ 145 GB: 3 kept × 48\.2 GB/);
  const fixed = applyFix(yaml, hit);
  assert.match(fixed, /save_total_limit: 2 {2}# keep a few\n/);
  assert.deepEqual(findings('checkpoint-storage', fixed), []);
});

test('a 70B checkpoint above 100 GB even at limit 2 fires without a fix', () => {
  const [hit] = findings(
    'checkpoint-storage',
    full('  save_total_limit: 2', 'meta-llama/Llama-3.1-70B'),
  );
  assert.equal(hit.fixes, undefined);
  assert.match(hit.message, /save_only_model/);
});

test('LoRA with modules_to_save over many saves fires; the limit fixes it', () => {
  const yaml = `method: lora
model:
  name_or_path: meta-llama/Llama-3.1-8B
lora:
  r: 16
  lora_alpha: 32
  target_modules: all-linear
  modules_to_save: [embed_tokens, lm_head]
training:
  per_device_train_batch_size: 4
  gradient_accumulation_steps: 4
`;
  // 50000 rows / 16 = 3125 steps × 3 = 9375 steps: 19 saves × 6.4 GB.
  const [hit] = findings('checkpoint-storage', yaml, withRows(50000));
  assert.equal(textAt(yaml, hit.range), 'training');
  assert.match(hit.message, /about 19 checkpoints/);
  assert.match(hit.message, /modules_to_save 1\.05B × 6 bytes/);
  const fixed = applyFix(yaml, hit);
  assert.deepEqual(findings('checkpoint-storage', fixed, withRows(50000)), []);
});

test('near misses stay silent', () => {
  assert.deepEqual(findings('checkpoint-storage', full('  save_total_limit: 2')), []);
  assert.deepEqual(findings('checkpoint-storage', full('  save_strategy: "no"')), []);
  // Small model, two checkpoints.
  assert.deepEqual(
    findings('checkpoint-storage', full('  save_total_limit: 2', 'Qwen/Qwen2.5-0.5B')),
    [],
  );
  // LoRA without a limit: adapter checkpoints are small.
  const lora = `method: lora
model:
  name_or_path: meta-llama/Llama-3.1-8B
lora:
  r: 16
  lora_alpha: 32
  target_modules: all-linear
`;
  assert.deepEqual(findings('checkpoint-storage', lora, withRows(50000)), []);
  assert.deepEqual(findings('checkpoint-storage', lora), []);
});

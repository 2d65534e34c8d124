// The native rules and the schema checks on configs of the other tools:
// findings land on the tool's own keys, in its words, and fixes write its keys.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyFix, findings, lintYaml, textAt } from '../rules/testing';

const AX = { fileName: '/virtual/axolotl.yml' };
const LF = { fileName: '/virtual/llamafactory.yaml' };
const TRL = { fileName: '/virtual/trl.yaml' };

const axolotl = (extra: string) => `base_model: meta-llama/Llama-3.1-8B
adapter: lora
lora_r: 16
lora_alpha: 32
datasets:
  - path: tatsu-lab/alpaca
    type: alpaca
micro_batch_size: 4
gradient_accumulation_steps: 8
${extra}`;

const llamafactory = (extra: string) => `model_name_or_path: meta-llama/Meta-Llama-3-8B-Instruct
stage: sft
finetuning_type: lora
lora_rank: 8
lora_alpha: 16
dataset: alpaca_en_demo
template: llama3
per_device_train_batch_size: 4
gradient_accumulation_steps: 8
${extra}`;

test('schema: unknown keys get each tool\'s "did you mean" and what the tool does with them', () => {
  const ax = axolotl(
    'learning_rate: 0.0002\nlora_target_modules: [q_proj]\nmax_seq_length: 4096\n',
  );
  const [unknown] = findings('schema-unknown-key', ax, AX);
  assert.equal(textAt(ax, unknown.range), 'max_seq_length');
  assert.match(unknown.message, /Did you mean `sequence_len`\? Axolotl ignores keys/);
  assert.match(applyFix(ax, unknown), /\nsequence_len: 4096\n/);

  const lf = llamafactory('lora_r: 16\n').replace('lora_rank: 8\n', '');
  const [lfUnknown] = findings('schema-unknown-key', lf, LF);
  assert.equal(textAt(lf, lfUnknown.range), 'lora_r');
  assert.match(lfUnknown.message, /Did you mean `lora_rank`\? LLaMA-Factory stops at start-up/);

  const trl = 'model_name_or_path: x\ndataset_name: y\nmax_length: 2048\nlora_rank: 8\n';
  const [trlUnknown] = findings('schema-unknown-key', trl, TRL);
  assert.match(trlUnknown.message, /Did you mean `lora_r`\? The TRL CLI stops/);
});

test('schema: types and enums are checked against the tool; renamed keys are not unknown', () => {
  const lf = llamafactory('learning_rate: 1.0e-4\n').replace(
    'finetuning_type: lora',
    'finetuning_type: qlora',
  );
  const [bad] = findings('schema-enum', lf, LF);
  assert.equal(textAt(lf, bad.range), 'qlora');
  assert.match(bad.message, /`lora`, `oft`, `freeze`, `full`/);

  const ax = axolotl('learning_rate: 0.0002\nflash_attention: true\n');
  const [renamed] = findings('deprecated-key', ax, AX);
  assert.equal(textAt(ax, renamed.range), 'flash_attention');
  assert.match(applyFix(ax, renamed), /\nattn_implementation: flash_attention_2\n/);
  assert.deepEqual(findings('schema-unknown-key', ax, AX), []);

  const trl = 'model_name_or_path: x\ndataset_name: y\nmax_length: 2048\nwarmup_ratio: 0.05\n';
  const [removed] = findings('removed-key', trl, TRL);
  assert.match(removed.message, /transformers 5\.15/);
  assert.match(applyFix(trl, removed), /\nwarmup_steps: 0\.05\n/);

  const [required] = findings('schema-required', 'adapter: lora\nmicro_batch_size: 2\n', {
    ...AX,
    dialect: 'axolotl',
  });
  assert.match(required.message, /`base_model`/);
});

test('lora-target-unknown: a LLaMA-Factory comma list is checked item by item', () => {
  const yaml = llamafactory('learning_rate: 1.0e-4\nlora_target: q_proj,query_key_value, v_proj\n');
  const [hit] = findings('lora-target-unknown', yaml, LF);
  assert.equal(textAt(yaml, hit.range), 'query_key_value');
  assert.match(hit.message, /not a module of Llama 3 8B Instruct/);
  const [attention] = findings('lora-target-modules', yaml, LF);
  assert.equal(textAt(yaml, attention.range), 'q_proj,query_key_value, v_proj');
  assert.match(applyFix(yaml, attention), /\nlora_target: all\n/);
});

test('lora-target-modules: missing targets in Axolotl; the fix sets lora_target_linear', () => {
  const yaml = axolotl('learning_rate: 0.0002\n');
  const [hit] = findings('lora-target-modules', yaml, AX);
  assert.equal(textAt(yaml, hit.range), 'adapter');
  assert.match(hit.message, /`lora_target_modules` is missing/);
  assert.match(hit.message, /`lora_target_linear: true`/);
  const fixed = applyFix(yaml, hit);
  assert.match(fixed, /\nlora_target_linear: true\n$/);
  assert.deepEqual(findings('lora-target-modules', fixed, AX), []);
});

test("learning-rate-method and effective-batch-size report on and fix the tool's keys", () => {
  const yaml = axolotl('learning_rate: 0.01\nlora_target_linear: true\n');
  const [lr] = findings('learning-rate-method', yaml, AX);
  assert.equal(textAt(yaml, lr.range), '0.01');
  assert.match(applyFix(yaml, lr), /\nlearning_rate: 2\.0e-4\n/);

  const small = yaml
    .replace('micro_batch_size: 4', 'micro_batch_size: 1')
    .replace('steps: 8', 'steps: 2');
  const [batch] = findings('effective-batch-size', small, AX);
  assert.equal(textAt(small, batch.range), '2');
  assert.match(applyFix(small, batch), /\ngradient_accumulation_steps: 32\n/);
});

test('full-ft-gradient-checkpointing: Axolotl defaults it off, LLaMA-Factory on', () => {
  const ax = axolotl('learning_rate: 0.00002\n').replace(
    /adapter: lora\nlora_r: 16\nlora_alpha: 32\n/,
    '',
  );
  const [hit] = findings('full-ft-gradient-checkpointing', ax, AX);
  assert.equal(textAt(ax, hit.range), 'learning_rate');
  assert.match(applyFix(ax, hit), /\ngradient_checkpointing: true\n$/);

  const lf = llamafactory('learning_rate: 1.0e-5\n').replace(
    'finetuning_type: lora',
    'finetuning_type: full',
  );
  assert.deepEqual(findings('full-ft-gradient-checkpointing', lf, LF), []);
  const off = lf + 'disable_gradient_checkpointing: true\n';
  const [lfHit] = findings('full-ft-gradient-checkpointing', off, LF);
  assert.equal(textAt(off, lfHit.range), 'true');
  assert.match(lfHit.message, /`disable_gradient_checkpointing: false`/);
  assert.match(applyFix(off, lfHit), /\ndisable_gradient_checkpointing: false\n$/);
});

test('bf16-unsupported: LLaMA-Factory bf16 on a T4 is renamed to fp16; dtypes it derives are not mentioned', () => {
  const yaml = llamafactory('learning_rate: 1.0e-4\nbf16: true\n');
  const [hit] = findings('bf16-unsupported', yaml, { ...LF, gpu: 'T4-16GB' });
  assert.equal(textAt(yaml, hit.range), 'true');
  assert.doesNotMatch(hit.message, /model\.dtype|bnb_4bit/);
  assert.match(applyFix(yaml, hit), /\nfp16: true\n$/);
});

test("chat-template-mismatch: the user's template name in the message, the family's in the fix", () => {
  const yaml = llamafactory('learning_rate: 1.0e-4\n').replace(
    'template: llama3',
    'template: qwen',
  );
  const [hit] = findings('chat-template-mismatch', yaml, LF);
  assert.equal(textAt(yaml, hit.range), 'qwen');
  assert.match(hit.message, /^`template: qwen` is ChatML/);
  assert.equal(hit.fixes?.length, 1, "LLaMA-Factory has no 'tokenizer's own' template to offer");
  assert.match(applyFix(yaml, hit), /\ntemplate: llama3\n/);
});

test('flash-attention-unsupported: the Axolotl flag is reported; no fix next to a legacy flag', () => {
  const yaml = axolotl('learning_rate: 0.0002\nlora_target_linear: true\nflash_attention: true\n');
  const [hit] = findings('flash-attention-unsupported', yaml, { ...AX, gpu: 'V100-32GB' });
  assert.equal(textAt(yaml, hit.range), 'true');
  assert.equal(hit.fixes, undefined);
  const modern = yaml.replace('flash_attention: true', 'attn_implementation: flash_attention_2');
  const [fixable] = findings('flash-attention-unsupported', modern, { ...AX, gpu: 'V100-32GB' });
  assert.match(applyFix(modern, fixable), /\nattn_implementation: sdpa\n/);
});

test('warmup: LLaMA-Factory keeps warmup_ratio (transformers 4); TRL writes warmup_steps', () => {
  const lf = llamafactory('learning_rate: 1.0e-4\n');
  const [hit] = findings('warmup', lf, LF);
  assert.equal(textAt(lf, hit.range), 'learning_rate');
  assert.match(hit.message, /`warmup_ratio: 0\.03`/);
  assert.match(applyFix(lf, hit), /\nwarmup_ratio: 0\.03\n$/);
  const high = lf + 'warmup_ratio: 0.5\n';
  const [ratio] = findings('warmup', high, LF);
  assert.equal(textAt(high, ratio.range), '0.5');
  assert.match(applyFix(high, ratio), /\nwarmup_ratio: 0\.03\n$/);
});

test("memory-exceeds-gpu: the fit fix writes the tool's keys", () => {
  const yaml = axolotl('learning_rate: 0.0002\nlora_target_linear: true\nsequence_len: 2048\n');
  const options = { ...AX, gpu: 'A10G-24GB' };
  const [hit] = findings('memory-exceeds-gpu', yaml, options);
  assert.equal(textAt(yaml, hit.range), 'lora');
  assert.match(
    hit.message,
    /enable gradient checkpointing \(the largest saving\), with per-device batch 4 → 2/,
  );
  const fixed = applyFix(yaml, hit);
  assert.doesNotMatch(fixed, /training:|method:/);
  assert.match(fixed, /\nmicro_batch_size: 2\n/);
  assert.match(fixed, /\ngradient_accumulation_steps: 16\n/);
  assert.match(fixed, /\ngradient_checkpointing: true\n/);
  assert.deepEqual(findings('memory-exceeds-gpu', fixed, options), []);
});

test('native-only rules stay silent on other tools', () => {
  const all = lintYaml(axolotl('learning_rate: 0.0002\nlora_target_linear: true\n'), AX).map(
    (f) => f.code,
  );
  for (const code of [
    'method-sections',
    'qlora-prepare-kbit',
    'max-length-missing',
    'model-unknown',
  ])
    assert.ok(!all.includes(code), code);
});

test('Axolotl list targets are checked item by item; a missing local dataset is named by its key', () => {
  const yaml = `base_model: Qwen/Qwen2.5-7B
adapter: lora
lora_r: 16
lora_alpha: 32
lora_target_modules:
  - q_proj
  - dense_h_to_4h
datasets:
  - path: data/missing.jsonl
    type: chat_template
chat_template: chatml
learning_rate: 0.0002
`;
  const options = { fileName: '/nonexistent-dir/run.yml' };
  const [target] = findings('lora-target-unknown', yaml, options);
  assert.equal(textAt(yaml, target.range), 'dense_h_to_4h');
  assert.equal(target.range.start.line, 6);
  const [missing] = findings('data-file-missing', yaml, options);
  assert.equal(textAt(yaml, missing.range), 'data/missing.jsonl');
  assert.match(missing.message, /^`datasets\[0\]\.path`: `data\/missing\.jsonl` does not exist/);
});

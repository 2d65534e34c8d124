import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { applyFix, findings, textAt } from '../testing';

const TRL = { fileName: '/virtual/trl.yaml' };

const config = (extra: string) => `model_name_or_path: meta-llama/Llama-3.1-8B
dataset_name: trl-lib/Capybara
${extra}per_device_train_batch_size: 4
gradient_accumulation_steps: 8
`;

test('trl-max-length-default: missing max_length truncates at 1024', () => {
  const yaml = config('learning_rate: 2.0e-5\n');
  const [hit] = findings('trl-max-length-default', yaml, TRL);
  assert.equal(hit.severity, 'warning');
  assert.equal(textAt(yaml, hit.range), 'dataset_name');
  assert.match(hit.message, /1024 tokens/);
  const fixed = applyFix(yaml, hit);
  assert.match(fixed, /\nmax_length: 2048\n$/);
  assert.deepEqual(findings('trl-max-length-default', fixed, TRL), []);
  assert.deepEqual(findings('trl-max-length-default', config('max_length: null\n'), TRL), []);
});

test('trl-max-length-default: the old max_seq_length is named and reported on', () => {
  const yaml = config('max_seq_length: 4096\n');
  const [hit] = findings('trl-max-length-default', yaml, TRL);
  assert.equal(textAt(yaml, hit.range), 'max_seq_length');
  assert.match(hit.message, /`max_seq_length: 4096` is not read/);
  const [removed] = findings('removed-key', yaml, TRL);
  assert.equal(textAt(yaml, removed.range), 'max_seq_length');
  assert.match(applyFix(yaml, removed), /\nmax_length: 4096\n/);
});

test('trl-max-length-default: a local data file sizes the suggestion', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tunelab-trl-'));
  const long = 'word '.repeat(4000);
  const rows = Array.from({ length: 20 }, () =>
    JSON.stringify({
      messages: [
        { role: 'user', content: 'q' },
        { role: 'assistant', content: long },
      ],
    }),
  );
  fs.writeFileSync(path.join(dir, 'train.jsonl'), rows.join('\n') + '\n');
  const yaml = config('').replace('trl-lib/Capybara', 'train.jsonl');
  const [hit] = findings('trl-max-length-default', yaml, { fileName: path.join(dir, 'c.yaml') });
  assert.match(hit.message, /20 of the 20 examples read are estimated longer than 1024/);
  assert.match(hit.message, /max_length: 8192/);
});

test('trl-quantized-without-peft: load_in_4bit needs use_peft', () => {
  const yaml = config('max_length: 2048\nload_in_4bit: true\n');
  const [hit] = findings('trl-quantized-without-peft', yaml, TRL);
  assert.equal(hit.severity, 'error');
  assert.equal(textAt(yaml, hit.range), 'true');
  assert.equal(hit.range.start.line, 3);
  assert.match(hit.message, /purely quantized/);
  const fixed = applyFix(yaml, hit);
  assert.match(fixed, /\nuse_peft: true\n$/);
  assert.deepEqual(findings('trl-quantized-without-peft', fixed, TRL), []);
  assert.equal(
    findings('trl-quantized-without-peft', config('load_in_8bit: true\nuse_peft: false\n'), TRL)
      .length,
    1,
  );
});

test('trl-peft-learning-rate: use_peft with the SFTConfig default rate', () => {
  const yaml = config('max_length: 2048\nuse_peft: true\n');
  const [hit] = findings('trl-peft-learning-rate', yaml, TRL);
  assert.equal(hit.severity, 'warning');
  assert.equal(textAt(yaml, hit.range), 'true');
  assert.match(hit.message, /2e-5/);
  const fixed = applyFix(yaml, hit);
  assert.match(fixed, /\nlearning_rate: 2\.0e-4\n$/);
  assert.deepEqual(findings('trl-peft-learning-rate', fixed, TRL), []);
  assert.deepEqual(findings('trl-peft-learning-rate', config('max_length: 2048\n'), TRL), []);
});

test('trl-lora-float32-base: LoRA on the default float32 base', () => {
  const yaml = config('max_length: 2048\nuse_peft: true\nlearning_rate: 2.0e-4\n');
  const [hit] = findings('trl-lora-float32-base', yaml, TRL);
  assert.equal(hit.severity, 'warning');
  assert.equal(textAt(yaml, hit.range), 'true');
  assert.match(hit.message, /more weight memory than bfloat16/);
  const fixed = applyFix(yaml, hit);
  assert.match(fixed, /\ndtype: bfloat16\n$/);
  assert.deepEqual(findings('trl-lora-float32-base', fixed, TRL), []);
  // QLoRA: qlora-compute-dtype owns the float32 default, with the same fix on `dtype`.
  const qlora = yaml + 'load_in_4bit: true\n';
  assert.deepEqual(findings('trl-lora-float32-base', qlora, TRL), []);
  const [compute] = findings('qlora-compute-dtype', qlora, TRL);
  assert.match(applyFix(qlora, compute), /\ndtype: bfloat16\n$/);
});

// Conversion between dialects through every face: the engine, `tunelab convert` and the editor action.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { convertFile } from '../../cli/src/convert';
import { dialectConversionActions } from '../../server/src/features/dialectConvert';
import { analyze } from '../../engine/src/engine';
import type { Plan } from '../../engine/src/plan';
import { nativeFileName, toNativeConfig } from '../../engine/src/dialects/convert';
import { fromNativeConfig } from '../../engine/src/dialects/fromNative';

const AXOLOTL = `base_model: meta-llama/Llama-3.1-8B
adapter: qlora
load_in_4bit: true
lora_r: 16
lora_alpha: 32
lora_dropout: 0.05
lora_target_linear: true
chat_template: llama3
datasets:
  - path: data/train.jsonl
    type: chat_template
sequence_len: 2048
micro_batch_size: 2
gradient_accumulation_steps: 8
num_epochs: 2
learning_rate: 0.0002
optimizer: paged_adamw_8bit
bf16: true
gradient_checkpointing: true
warmup_ratio: 0.03
output_dir: ./outputs/run
wandb_project: support
`;

const TRL = `model_name_or_path: Qwen/Qwen2.5-7B-Instruct
dataset_name: data/train.jsonl
use_peft: true
lora_target_modules: all-linear
dtype: bfloat16
max_length: 4096
learning_rate: 2.0e-4
per_device_train_batch_size: 2
gradient_accumulation_steps: 8
warmup_steps: 0.03
`;

function withoutWhere(plan: Plan | undefined) {
  if (!plan) return undefined;
  const copy: Partial<Plan> = { ...plan };
  delete copy.where;
  return copy;
}

for (const [name, text, file] of [
  ['Axolotl', AXOLOTL, '/x/run.yml'],
  ['TRL', TRL, '/x/sft.yaml'],
] as const) {
  test(`${name}: the native conversion trains the same run`, () => {
    const original = analyze(text, file);
    const conversion = toNativeConfig(original);
    assert.ok(conversion?.lossless, JSON.stringify(conversion?.dropped));
    const converted = analyze(conversion.text, nativeFileName(file));
    assert.equal(converted.dialect, 'native');
    assert.deepEqual(withoutWhere(converted.plan), withoutWhere(original.plan));
    assert.equal(converted.estimate?.perGpuBytes, original.estimate?.perGpuBytes);
    const schema = converted.findings.filter((f) => f.code.startsWith('schema-'));
    assert.deepEqual(schema, []);
  });
}

test('keys without a native home make the conversion lossy, and they are named', () => {
  const lossy = analyze(AXOLOTL + 'neftune_noise_alpha: 5\nrl: dpo\n', '/x/run.yml');
  const conversion = toNativeConfig(lossy);
  assert.equal(conversion?.lossless, false);
  assert.deepEqual(conversion?.dropped, ['rl']);
  assert.match(conversion?.text ?? '', /# {3}not converted: rl/);
  const hub = toNativeConfig(
    analyze(TRL.replace('data/train.jsonl', 'trl-lib/Capybara'), '/x/t.yaml'),
  );
  assert.equal(hub?.lossless, false);
  assert.match(hub?.missing[0] ?? '', /local JSON Lines/);
  assert.equal(
    toNativeConfig(analyze('method: lora\nmodel:\n  name_or_path: x\n', '/x/a.yaml')),
    undefined,
  );
});

test('the code action writes the native file next to the config, only when lossless', () => {
  const uri = 'file:///work/configs/run.yml';
  const [action] = dialectConversionActions(uri, analyze(AXOLOTL, '/work/configs/run.yml'));
  assert.match(
    action.title,
    /Convert this Axolotl config to a native Tunelab config \(run\.finetune\.yaml\)/,
  );
  const changes = action.edit?.documentChanges ?? [];
  assert.deepEqual(changes[0], { kind: 'create', uri: 'file:///work/configs/run.finetune.yaml' });
  assert.match(JSON.stringify(changes[1]), /method: qlora/);
  assert.deepEqual(
    dialectConversionActions(uri, analyze(AXOLOTL + 'rl: dpo\n', '/work/configs/run.yml')),
    [],
  );
});

test('tunelab convert: stdout, --out, refusal and --force', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tunelab-convert-'));
  const file = path.join(dir, 'run.yml');
  fs.writeFileSync(file, AXOLOTL);
  const ok = convertFile(file);
  assert.equal(ok.exitCode, 0);
  assert.match(
    ok.stdout,
    /^# Converted from a Axolotl config|^# Converted from an? Axolotl config/,
  );
  const out = path.join(dir, 'run.finetune.yaml');
  assert.equal(convertFile(file, { out }).exitCode, 0);
  assert.equal(analyze(fs.readFileSync(out, 'utf8'), out).dialect, 'native');
  fs.writeFileSync(file, AXOLOTL + 'rl: dpo\n');
  const refused = convertFile(file);
  assert.equal(refused.exitCode, 1);
  assert.match(refused.stderr, /rl: dropped: no equivalent in native/);
  const forced = convertFile(file, { force: true });
  assert.equal(forced.exitCode, 0);
  assert.match(forced.stderr, /converted with losses/);
  fs.writeFileSync(file, 'jobs: {}\n');
  assert.equal(convertFile(file).exitCode, 2);
});

const NATIVE = `method: qlora
model:
  name_or_path: meta-llama/Llama-3.1-8B
  dtype: bfloat16
quantization:
  load_in_4bit: true
  bnb_4bit_quant_type: nf4
  bnb_4bit_compute_dtype: bfloat16
  bnb_4bit_use_double_quant: true
prepare_model_for_kbit_training: true
lora:
  r: 16
  lora_alpha: 32
  target_modules: all-linear
data:
  train_file: data/train.jsonl
  max_length: 2048
training:
  per_device_train_batch_size: 2
  gradient_accumulation_steps: 8
  learning_rate: 2.0e-4
  optim: paged_adamw_8bit
  bf16: true
  gradient_checkpointing: true
hardware:
  gpu: A100-80GB
`;

test('and back: a native config written for Axolotl and TRL reads back as the same run', () => {
  const native = analyze(NATIVE, '/x/run.finetune.yaml');
  for (const dialect of ['axolotl', 'trl'] as const) {
    const conversion = fromNativeConfig(native, dialect);
    assert.ok(conversion?.lossless, `${dialect}: ${JSON.stringify(conversion?.dropped)}`);
    const back = analyze(conversion.text, `/x/run.${dialect}.yaml`);
    assert.equal(back.dialect, dialect);
    assert.equal(back.gpu?.id, 'A100-80GB', 'the GPU travels in the modeline');
    assert.deepEqual(withoutWhere(back.plan), withoutWhere(native.plan));
    assert.deepEqual(
      back.findings.filter((f) => f.code.startsWith('schema-')),
      [],
      `${dialect} output is valid`,
    );
  }
  const axolotl = fromNativeConfig(native, 'axolotl');
  assert.match(axolotl?.text ?? '', /^# tunelab: dialect=axolotl gpu=A100-80GB\n/);
  assert.match(axolotl?.text ?? '', /\nadapter: qlora\nload_in_4bit: true\n/);
  assert.match(axolotl?.text ?? '', /\nlora_target_linear: true\n/);
});

test('and back: what a tool cannot say is named, and no lossless conversion is claimed', () => {
  const native = analyze(NATIVE, '/x/run.finetune.yaml');
  const lf = fromNativeConfig(native, 'llamafactory');
  assert.equal(lf?.lossless, false);
  assert.ok(
    lf?.dropped.includes('data.train_file'),
    'LLaMA-Factory reads datasets from dataset_info.json',
  );
  const withExport = analyze(NATIVE + 'export:\n  merge: true\n', '/x/run.finetune.yaml');
  assert.ok(fromNativeConfig(withExport, 'axolotl')?.dropped.includes('export'));
  const titles = dialectConversionActions('file:///w/run.finetune.yaml', native).map(
    (a) => a.title,
  );
  assert.deepEqual(titles, [
    'Convert to an Axolotl config (run.axolotl.yml)',
    'Convert to a TRL config (run.trl.yaml)',
  ]);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tunelab-back-'));
  const file = path.join(dir, 'run.finetune.yaml');
  fs.writeFileSync(file, NATIVE);
  assert.equal(convertFile(file, { to: 'axolotl' }).exitCode, 0);
  assert.equal(convertFile(file, { to: 'llamafactory' }).exitCode, 1);
  assert.equal(convertFile(file).exitCode, 2, 'a native file needs --to');
});

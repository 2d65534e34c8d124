// `tunelab convert` names every key it drops or respells, in text and JSON,
// refuses a lossy conversion without --force, and writes a lint-clean config.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { convertFile } from '../../cli/src/convert';
import { analyze } from '../../engine/src/engine';

const DATA = path.resolve(__dirname, '..', '..', 'templates', 'telecom-support', 'data');

function axolotlConfig(extra: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tunelab-convert-'));
  fs.cpSync(DATA, path.join(dir, 'data'), { recursive: true });
  const file = path.join(dir, 'run.yml');
  fs.writeFileSync(
    file,
    `base_model: meta-llama/Llama-3.1-8B
adapter: lora
lora_r: 16
lora_alpha: 32
lora_dropout: 0.05
lora_target_linear: true
datasets:
  - path: data/train.jsonl
    type: chat_template
chat_template: llama3
sequence_len: 2048
micro_batch_size: 2
gradient_accumulation_steps: 8
num_epochs: 3
learning_rate: 0.0002
lr_scheduler: cosine
warmup_ratio: 0.03
bf16: true
gradient_checkpointing: true
train_on_inputs: false
saves_per_epoch: 1
output_dir: ./out
${extra}`,
  );
  return file;
}

const LOSSY = `val_set_size: 0.05
evals_per_epoch: 4
special_tokens:
  pad_token: "<|end_of_text|>"
`;

test('a lossy Axolotl conversion is refused, naming every dropped and respelled key', () => {
  const outcome = convertFile(axolotlConfig(LOSSY));
  assert.equal(outcome.exitCode, 1);
  assert.equal(outcome.stdout, '');
  for (const key of ['val_set_size', 'evals_per_epoch', 'special_tokens'])
    assert.match(outcome.stderr, new RegExp(`^  ${key}: dropped: `, 'm'));
  for (const key of ['warmup_ratio', 'train_on_inputs', 'saves_per_epoch'])
    assert.match(outcome.stderr, new RegExp(`^  ${key}: .* → `, 'm'));
});

test('JSON output lists dropped keys with reasons and respelled keys', () => {
  const outcome = convertFile(axolotlConfig(LOSSY), { format: 'json' });
  assert.equal(outcome.exitCode, 1);
  const report = JSON.parse(outcome.stdout);
  assert.equal(report.converted, false);
  assert.equal(report.lossless, false);
  assert.deepEqual(report.dropped.map((d: { key: string }) => d.key).sort(), [
    'evals_per_epoch',
    'special_tokens',
    'val_set_size',
  ]);
  assert.ok(report.dropped.every((d: { reason: string }) => d.reason.length > 10));
  assert.equal(report.changed.length, 3);
  assert.equal(report.config, null);
});

test('--force converts anyway; the result keeps the meanings and lints clean but for the dropped eval split', () => {
  const file = axolotlConfig(LOSSY);
  const outcome = convertFile(file, { force: true });
  assert.equal(outcome.exitCode, 0);
  assert.match(outcome.stderr, /converted with losses/);
  const text = outcome.stdout;
  assert.doesNotMatch(text, /warmup_ratio/);
  assert.match(text, /warmup_steps: 0\.03/);
  assert.match(text, /completion_only_loss: true/);
  const converted = path.join(path.dirname(file), 'run.finetune.yaml');
  fs.writeFileSync(converted, text);
  const findings = analyze(text, converted).findings.filter(
    (f) => f.severity === 'error' || f.severity === 'warning',
  );
  // val_set_size was dropped, so the converted config has no eval split: the one finding left says so
  assert.deepEqual(
    findings.map((f) => f.code),
    ['eval-split-missing'],
  );
});

test('a config whose keys all keep their meaning converts without --force, saying what it respelled', () => {
  const outcome = convertFile(
    axolotlConfig(
      'test_datasets:\n  - path: data/eval.jsonl\n    type: chat_template\nevals_per_epoch: 2\n',
    ),
    { format: 'json' },
  );
  assert.equal(outcome.exitCode, 0, outcome.stdout);
  const report = JSON.parse(outcome.stdout);
  assert.deepEqual(report.dropped, []);
  assert.ok(report.changed.some((c: string) => c.startsWith('evals_per_epoch: 2 → ')));
  assert.match(report.config, /eval_file: data\/eval\.jsonl/);
});

test('native → Axolotl: peft defaults (bias: none, task_type: CAUSAL_LM) never block', () => {
  const template = path.resolve(DATA, '..', 'lora.finetune.yaml');
  const outcome = convertFile(template, { to: 'axolotl', format: 'json' });
  const keys = JSON.parse(outcome.stdout).dropped.map((d: { key: string }) => d.key);
  assert.ok(!keys.includes('lora.bias') && !keys.includes('lora.task_type'), keys.join(', '));
});

test('`tunelab convert --format json` from the command line reports the losses', () => {
  const cli = path.resolve(__dirname, '..', '..', 'dist', 'cli.js');
  const result = spawnSync(
    process.execPath,
    [cli, 'convert', '--format', 'json', axolotlConfig(LOSSY)],
    {
      encoding: 'utf8',
    },
  );
  assert.equal(result.status, 1, result.stderr);
  const report = JSON.parse(result.stdout);
  assert.equal(report.lossless, false);
  assert.ok(report.dropped.some((d: { key: string }) => d.key === 'val_set_size'));
});

test("LLaMA-Factory's held-out split (val_size) is named as dropped, never lost in silence", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tunelab-convert-lf-'));
  fs.cpSync(DATA, path.join(dir, 'data'), { recursive: true });
  const file = path.join(dir, 'run.yaml');
  fs.writeFileSync(
    file,
    `model_name_or_path: meta-llama/Llama-3.1-8B
stage: sft
do_train: true
finetuning_type: lora
lora_rank: 16
lora_alpha: 32
lora_target: all
dataset: data/train.jsonl
template: llama3
cutoff_len: 2048
output_dir: saves/x
per_device_train_batch_size: 2
gradient_accumulation_steps: 8
learning_rate: 1.0e-4
num_train_epochs: 3.0
bf16: true
val_size: 0.1
`,
  );
  const outcome = convertFile(file, { format: 'json' });
  const report = JSON.parse(outcome.stdout);
  const valSize = report.dropped.find((d: { key: string }) => d.key === 'val_size');
  assert.ok(valSize, JSON.stringify(report.dropped));
  assert.match(valSize.reason, /eval_file/);
  assert.equal(report.lossless, false);
});

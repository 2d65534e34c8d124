// `tunelab templates` and `tunelab new`: the configs they write lint clean,
// and the method follows the estimate for the chosen GPU.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';

const ROOT = path.resolve(__dirname, '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const tunelab = (args: string[]) =>
  spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, HF_ENDPOINT: 'http://127.0.0.1:9' },
  });

test('templates lists the telecom variants with their descriptions', () => {
  const result = tunelab(['templates']);
  assert.equal(result.status, 0);
  for (const method of ['full', 'lora', 'qlora'])
    assert.match(result.stdout, new RegExp(`^telecom-support/${method} +\\S`, 'm'));
});

test('new on a 24 GB GPU recommends and writes QLoRA for an 8B model, with its data, lint-clean', () => {
  const dest = fs.mkdtempSync(path.join(os.tmpdir(), 'tunelab-new-'));
  const result = tunelab([
    'new',
    'telecom-support',
    dest,
    '--model',
    'meta-llama/Llama-3.1-8B',
    '--gpu',
    'RTX4090-24GB',
  ]);
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /^(qlora|lora) \(recommended: /);
  const method = result.stdout.split(' ')[0];
  const config = path.join(dest, `${method}.finetune.yaml`);
  assert.ok(fs.existsSync(path.join(dest, 'data', 'train.jsonl')));
  assert.ok(fs.existsSync(path.join(dest, 'data', 'eval.jsonl')));
  assert.match(fs.readFileSync(config, 'utf8'), /gpu: RTX4090-24GB/);
  const lint = tunelab(['lint', '--format', 'json', config]);
  assert.equal(lint.status, 0, lint.stdout);
  const findings = JSON.parse(lint.stdout).files[0].diagnostics;
  assert.deepEqual(
    findings.filter((d: { severity: string }) => d.severity !== 'info'),
    [],
  );
});

test('new adapts the model and its chat template; an existing file is never overwritten', () => {
  const dest = fs.mkdtempSync(path.join(os.tmpdir(), 'tunelab-new-'));
  const ok = tunelab([
    'new',
    'telecom-support/lora',
    dest,
    '--model',
    'Qwen/Qwen2.5-7B',
    '--gpu',
    'H100-80GB',
  ]);
  assert.equal(ok.status, 0, ok.stderr);
  const text = fs.readFileSync(path.join(dest, 'lora.finetune.yaml'), 'utf8');
  assert.match(text, /name_or_path: Qwen\/Qwen2\.5-7B/);
  assert.match(text, /chat_template: chatml/);
  assert.match(text, /# /, 'comments kept');
  const again = tunelab(['new', 'telecom-support/lora', dest]);
  assert.equal(again.status, 2);
  assert.match(again.stderr, /exists already/);
  assert.equal(tunelab(['new', 'nope', dest]).status, 2);
  assert.equal(tunelab(['new', 'telecom-support', dest, '--gpu', 'Banana-3GB']).status, 2);
});

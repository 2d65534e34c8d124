// `tunelab tune`: called through its exported function until main.ts
// registers the command (then this can spawn dist/cli.js like the others).

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { analyzeFile } from '../../cli/src/analyzeFile';
import { tuneOutcome, type TuneOptions } from '../../cli/src/tuneCommand';

const ROOT = path.resolve(__dirname, '..', '..');
const TEMPLATE = path.join(ROOT, 'templates', 'telecom-support');

/** A copy of the telecom templates (and their data) the test may rewrite. */
function copyTemplates(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tunelab-tune-'));
  fs.cpSync(TEMPLATE, dir, { recursive: true });
  return dir;
}

function tune(file: string, options: Partial<TuneOptions> = {}) {
  const all: TuneOptions = { format: 'text', write: false, ...options };
  return tuneOutcome(file, analyzeFile(file, { gpu: all.gpu }), all);
}

test('prints each change with tokens/s and memory, writes with --write, then has nothing left', () => {
  const file = path.join(copyTemplates(), 'lora.finetune.yaml');
  const original = fs.readFileSync(file, 'utf8');
  const dry = tune(file);
  assert.equal(dry.exitCode, 0, dry.stderr);
  assert.match(
    dry.stdout,
    /fastest settings that fit H100-80GB \(5% of H100-80GB's 80\.0 GiB kept free/,
  );
  assert.match(
    dry.stdout,
    /gradient checkpointing off: [\d,]+ tokens\/s → [\d,]+ tokens\/s, peak [\d.]+ GiB → [\d.]+ GiB/,
  );
  assert.match(dry.stdout, /run with --write to apply/);
  assert.equal(fs.readFileSync(file, 'utf8'), original, 'nothing written without --write');

  const wrote = tune(file, { write: true });
  assert.equal(wrote.exitCode, 0);
  const after = fs.readFileSync(file, 'utf8');
  assert.equal(after, wrote.written);
  assert.match(after, /gradient_checkpointing: false # recompute activations/);
  assert.match(after, /use_liger_kernel: true/);
  assert.match(after, /attn_implementation: flex_attention/);
  assert.match(after, /torch_compile: true\n\s+liger_kernel_config:\n\s+rms_norm: false/);
  // Minimal edits: only the changed values' lines are new (six added: use_liger_kernel,
  // torch_compile, liger_kernel_config and its three keys).
  const before = new Set(original.split('\n'));
  const changed = after.split('\n').filter((l) => !before.has(l));
  assert.ok(changed.length >= 1 && changed.length <= 10, changed.join('\n'));
  assert.equal(after.split('\n').length - original.split('\n').length, 6);

  const again = tune(file);
  assert.match(again.stdout, /already the fastest that fits/);
});

test('--gpu and --format json: the figures and changes as data', () => {
  const file = path.join(copyTemplates(), 'qlora.finetune.yaml');
  const out = tune(file, { gpu: 'T4-16GB', format: 'json' });
  assert.equal(out.exitCode, 0, out.stderr);
  const json = JSON.parse(out.stdout);
  assert.equal(json.gpu, 'T4-16GB');
  assert.deepEqual(json.changes, [
    { field: 'training.useLigerKernel', from: false, to: true },
    { field: 'training.torchCompile', from: false, to: true },
    { field: 'training.ligerLayerKernels', from: true, to: false },
    { field: 'model.attnImplementation', from: 'sdpa', to: 'flex_attention' },
  ]);
  assert.ok(json.after.peakBytes <= json.limitBytes);
  assert.equal(json.written, false);
});

test('--no-liger and --no-compile leave Liger Kernel and compiled layers out', () => {
  const file = path.join(copyTemplates(), 'qlora.finetune.yaml');
  const all = JSON.parse(tune(file, { gpu: 'T4-16GB', format: 'json' }).stdout);
  const fields = (json: { changes: { field: string }[] }) => json.changes.map((c) => c.field);
  assert.ok(fields(all).includes('training.torchCompile'));
  const eager = JSON.parse(tune(file, { gpu: 'T4-16GB', format: 'json', compile: false }).stdout);
  assert.deepEqual(fields(eager), ['training.useLigerKernel', 'model.attnImplementation']);
  const neither = tune(file, { gpu: 'T4-16GB', format: 'json', compile: false, liger: false });
  assert.equal(neither.exitCode, 0, neither.stderr);
  const plain = fields(JSON.parse(neither.stdout));
  assert.ok(!plain.includes('training.useLigerKernel') && !plain.includes('training.torchCompile'));
});

test('nothing fits: exit 1 and why; an unknown GPU: exit 1', () => {
  const dir = copyTemplates();
  const none = tune(path.join(dir, 'lora.finetune.yaml'), { gpu: 'T4-16GB' });
  assert.equal(none.exitCode, 1);
  assert.match(none.stderr, /fits T4-16GB with 5% kept free/);
  const unknown = tune(path.join(dir, 'lora.finetune.yaml'), { gpu: 'Z9-1GB' });
  assert.equal(unknown.exitCode, 1);
  assert.match(unknown.stderr, /unknown GPU "Z9-1GB"/);
});

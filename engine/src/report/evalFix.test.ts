import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { applyTextEdits, chainEdits, setKey } from '../edits';
import { analyze } from '../engine';
import { formatGiB } from '../estimate/index';

const FILE = path.resolve(
  __dirname,
  '..',
  '..',
  '..',
  'templates',
  'telecom-support',
  'lora.finetune.yaml',
);

test('when evaluation sets the peak, the fit fix lowers the eval batch and quotes the re-estimate', () => {
  const base = fs.readFileSync(FILE, 'utf8');
  const text = applyTextEdits(
    base,
    chainEdits(base, [
      (p) => setKey(p, ['model'], 'name_or_path', 'meta-llama/Llama-3.2-1B'),
      (p) => setKey(p, ['hardware'], 'gpu', 'T4-16GB'),
      (p) => setKey(p, ['data'], 'packing', 'true'),
      (p) => setKey(p, ['training'], 'per_device_train_batch_size', '1'),
      (p) => setKey(p, ['training'], 'per_device_eval_batch_size', '8'),
    ]),
  );
  const analysis = analyze(text, FILE);
  assert.equal(analysis.estimate?.peakRunPhase, 'evaluation');
  const finding = analysis.findings.find((f) => f.code === 'memory-exceeds-gpu');
  assert.ok(finding, 'evaluation does not fit a T4');
  const fix = finding.fixes?.[0];
  assert.ok(fix && /eval batch 8 → \d/.test(fix.title), fix?.title);
  const after = analyze(applyTextEdits(text, fix.edits), FILE);
  assert.ok(after.parsed?.text.includes('per_device_eval_batch_size:'));
  assert.ok(fix.title.includes(`→ ${formatGiB(after.estimate!.perGpuBytes)} per GPU`), fix.title);
  assert.ok(!after.findings.some((f) => f.code === 'memory-exceeds-gpu'));
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DataFileSummary } from '../../data/types';
import { applyFix, findings, textAt } from '../testing';

const config = (lora: string) => `method: lora
model:
  name_or_path: meta-llama/Llama-3.1-8B
data:
  train_file: data/train.jsonl
lora:
${lora}
`;

function withRows(rows: number, extra: Partial<DataFileSummary> = {}) {
  const train: DataFileSummary = {
    path: '/virtual/data/train.jsonl',
    exists: true,
    rows,
    partial: false,
    sizeBytes: rows * 500,
    badLines: 0,
    tokenLengths: [],
    ...extra,
  };
  return { summarizeData: () => ({ train }) };
}

test('r 64 on 450 rows fires on the r value; the fix sets r 8 and keeps the scale', () => {
  const yaml = config('  r: 64  # big\n  lora_alpha: 128\n  lora_dropout: 0.05');
  const [hit] = findings('lora-rank-data-size', yaml, withRows(450));
  assert.equal(hit.severity, 'warning');
  assert.equal(textAt(yaml, hit.range), '64');
  assert.match(hit.message, /r 64 on 450 training rows/);
  assert.match(hit.message, /`r: 8` and `lora_alpha: 16`/);
  const fixed = applyFix(yaml, hit);
  assert.match(fixed, /\n {2}r: 8 {2}# big\n {2}lora_alpha: 16\n/);
  assert.deepEqual(findings('lora-rank-data-size', fixed, withRows(450)), []);
  assert.deepEqual(findings('lora-alpha-ratio', fixed), []);
});

test('r 32 on 150 rows fires; missing alpha is added at scale 2', () => {
  const yaml = config('  r: 32');
  const [hit] = findings('lora-rank-data-size', yaml, withRows(150));
  assert.equal(textAt(yaml, hit.range), '32');
  const fixed = applyFix(yaml, hit);
  assert.match(fixed, /\n {2}r: 8\n {2}lora_alpha: 16\n/);
  assert.deepEqual(findings('lora-rank-data-size', fixed, withRows(150)), []);
});

test('rsLoRA keeps its scale: r 64 alpha 16 (scale 2) becomes r 8 alpha 6', () => {
  const yaml = config('  r: 64\n  lora_alpha: 16\n  use_rslora: true');
  const [hit] = findings('lora-rank-data-size', yaml, withRows(900));
  const fixed = applyFix(yaml, hit);
  assert.match(fixed, /\n {2}r: 8\n {2}lora_alpha: 6\n/);
});

test('near misses stay silent', () => {
  const r64 = config('  r: 64\n  lora_alpha: 128');
  const r32 = config('  r: 32\n  lora_alpha: 64');
  // At the thresholds.
  assert.deepEqual(findings('lora-rank-data-size', r64, withRows(1000)), []);
  assert.deepEqual(findings('lora-rank-data-size', r32, withRows(200)), []);
  assert.deepEqual(findings('lora-rank-data-size', config('  r: 16'), withRows(50)), []);
  // Rows unknown: no summary, missing file, partly read file.
  assert.deepEqual(findings('lora-rank-data-size', r64), []);
  assert.deepEqual(findings('lora-rank-data-size', r64, withRows(0, { exists: false })), []);
  assert.deepEqual(findings('lora-rank-data-size', r64, withRows(500, { partial: true })), []);
  // Full fine-tuning has no rank.
  assert.deepEqual(
    findings('lora-rank-data-size', r64.replace('method: lora', 'method: full'), withRows(100)),
    [],
  );
});

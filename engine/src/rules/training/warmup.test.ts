import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyFix, findings, textAt } from '../testing';
import { warmupRatioKey } from './warmup';

const config = (training: string) => `method: lora
model:
  name_or_path: meta-llama/Llama-3.1-8B
lora:
  r: 16
  lora_alpha: 32
training:
${training}
`;
const KEY = warmupRatioKey();

test('no warmup fires on the training key; the fix adds a ratio of 0.03', () => {
  const yaml = config('  learning_rate: 2.0e-4\n  lr_scheduler_type: cosine');
  const [hit] = findings('warmup', yaml);
  assert.equal(hit.severity, 'info');
  assert.equal(textAt(yaml, hit.range), 'training');
  assert.match(hit.message, /neither `warmup_ratio` nor `warmup_steps` is set/);
  const fixed = applyFix(yaml, hit);
  assert.match(fixed, new RegExp(`\\n {2}lr_scheduler_type: cosine\\n {2}${KEY}: 0\\.03\\n`));
  assert.deepEqual(findings('warmup', fixed), []);
});

test('no training section: reported on the method, the fix adds the section', () => {
  const yaml = config('').replace('training:\n\n', '');
  const [hit] = findings('warmup', yaml);
  assert.equal(textAt(yaml, hit.range), 'lora');
  assert.equal(hit.range.start.line, 0);
  const fixed = applyFix(yaml, hit);
  assert.ok(fixed.endsWith(`\ntraining:\n  ${KEY}: 0.03\n`), fixed);
  assert.deepEqual(findings('warmup', fixed), []);
});

test('a ratio of 0.5 fires on the value; the fix sets 0.03', () => {
  const yaml = config('  warmup_ratio: 0.5  # half the run');
  const [hit] = findings('warmup', yaml);
  assert.equal(textAt(yaml, hit.range), '0.5');
  assert.match(hit.message, /Warmup ratio 0\.5/);
  assert.match(hit.message, /above 0\.2/);
  assert.match(hit.message, new RegExp(`Set \`${KEY}: 0\\.03\``));
  const fixed = applyFix(yaml, hit);
  // The removed `warmup_ratio` is rewritten to the current key, comment kept.
  assert.match(fixed, new RegExp(`\\n {2}${KEY}: 0\\.03 {2}# half the run\\n`));
  assert.deepEqual(findings('warmup', fixed), []);
});

test('warmup_steps below 1 is a ratio: 0.001 fires as too short', () => {
  const yaml = config('  warmup_steps: 0.001');
  const [hit] = findings('warmup', yaml);
  assert.equal(textAt(yaml, hit.range), '0.001');
  assert.match(hit.message, /below 0\.01/);
  assert.deepEqual(findings('warmup', applyFix(yaml, hit)), []);
});

test('a ratio of 0 fires', () => {
  assert.equal(findings('warmup', config('  warmup_ratio: 0')).length, 1);
});

test('near misses stay silent', () => {
  for (const training of [
    '  warmup_ratio: 0.01',
    '  warmup_ratio: 0.2',
    '  warmup_ratio: 0.03',
    '  warmup_steps: 100',
    '  warmup_steps: 0.1',
    // Steps switched off on purpose.
    '  warmup_steps: 0',
    // Whole steps win over the ratio.
    '  warmup_steps: 50\n  warmup_ratio: 0.5',
  ]) {
    assert.deepEqual(findings('warmup', config(training)), [], training);
  }
});

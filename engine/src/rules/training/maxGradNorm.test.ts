import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyFix, findings, textAt } from '../testing';

const config = (training: string) => `method: full
model:
  name_or_path: meta-llama/Llama-3.2-1B
training:
${training}
  bf16: true
`;

test('0 fires on the value; the fix sets 1.0', () => {
  const yaml = config('  max_grad_norm: 0  # off');
  const [hit] = findings('max-grad-norm', yaml);
  assert.equal(hit.severity, 'warning');
  assert.equal(textAt(yaml, hit.range), '0');
  assert.match(hit.message, /`max_grad_norm: 0` switches gradient clipping off/);
  const fixed = applyFix(yaml, hit);
  assert.match(fixed, /max_grad_norm: 1\.0 {2}# off\n/);
  assert.deepEqual(findings('max-grad-norm', fixed), []);
});

test('null fires on the value', () => {
  const yaml = config('  max_grad_norm: null');
  const [hit] = findings('max-grad-norm', yaml);
  assert.equal(textAt(yaml, hit.range), 'null');
  assert.match(hit.message, /null/);
  const fixed = applyFix(yaml, hit);
  assert.match(fixed, /max_grad_norm: 1\.0\n/);
  assert.deepEqual(findings('max-grad-norm', fixed), []);
});

test('an empty value (null) fires on the key; the fix writes a valid value', () => {
  const yaml = config('  max_grad_norm:');
  const [hit] = findings('max-grad-norm', yaml);
  assert.equal(textAt(yaml, hit.range), 'max_grad_norm');
  const fixed = applyFix(yaml, hit);
  assert.match(fixed, /\n {2}max_grad_norm: 1\.0\n {2}bf16: true\n/);
  assert.deepEqual(findings('max-grad-norm', fixed), []);
});

test('a negative value fires', () => {
  assert.equal(findings('max-grad-norm', config('  max_grad_norm: -1')).length, 1);
});

test('near misses stay silent: 1.0, 0.3, missing (default 1.0)', () => {
  assert.deepEqual(findings('max-grad-norm', config('  max_grad_norm: 1.0')), []);
  assert.deepEqual(findings('max-grad-norm', config('  max_grad_norm: 0.3')), []);
  assert.deepEqual(findings('max-grad-norm', config('  learning_rate: 2.0e-5')), []);
});

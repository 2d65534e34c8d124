import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyFix, findings, textAt } from '../testing';

const config = (lora: string) => `method: lora
model:
  name_or_path: meta-llama/Llama-3.1-8B
lora:
${lora}
`;

test('alpha below r fires on the alpha value and the fix sets 2 × r', () => {
  const yaml = config('  r: 64\n  lora_alpha: 16  # too small');
  const [hit] = findings('lora-alpha-ratio', yaml);
  assert.equal(hit.severity, 'warning');
  assert.equal(textAt(yaml, hit.range), '16');
  assert.match(hit.message, /16 \/ 64 = 0\.25/);
  const fixed = applyFix(yaml, hit);
  assert.match(fixed, /lora_alpha: 128 {2}# too small/);
  assert.deepEqual(findings('lora-alpha-ratio', fixed), []);
});

test('alpha far above r fires', () => {
  const [hit] = findings('lora-alpha-ratio', config('  r: 4\n  lora_alpha: 64'));
  assert.match(hit.message, /above 4/);
});

test('missing alpha uses peft default 8: r 16 → scale 0.5, reported on the lora key', () => {
  const yaml = config('  r: 16');
  const [hit] = findings('lora-alpha-ratio', yaml);
  assert.equal(textAt(yaml, hit.range), 'lora');
  assert.match(applyFix(yaml, hit), /\n {2}r: 16\n {2}lora_alpha: 32\n/);
});

test('near misses stay silent: scale 1, 2, 4; rslora scale; full fine-tuning', () => {
  for (const lora of [
    '  r: 16\n  lora_alpha: 16',
    '  r: 16\n  lora_alpha: 32',
    '  r: 8\n  lora_alpha: 32',
  ]) {
    assert.deepEqual(findings('lora-alpha-ratio', config(lora)), [], lora);
  }
  // rsLoRA: 16 / sqrt(64) = 2.
  assert.deepEqual(
    findings('lora-alpha-ratio', config('  r: 64\n  lora_alpha: 16\n  use_rslora: true')),
    [],
  );
  assert.deepEqual(findings('lora-alpha-ratio', 'method: full\nmodel:\n  name_or_path: x\n'), []);
});

test('under rsLoRA the fix sets 2 × sqrt(r) and clears the finding', () => {
  const yaml = config('  r: 64\n  lora_alpha: 128\n  use_rslora: true');
  const [hit] = findings('lora-alpha-ratio', yaml);
  assert.match(hit.message, /128 \/ sqrt\(64\) = 16/);
  const fixed = applyFix(yaml, hit);
  assert.match(fixed, /lora_alpha: 16\n/);
  assert.deepEqual(findings('lora-alpha-ratio', fixed), []);
});

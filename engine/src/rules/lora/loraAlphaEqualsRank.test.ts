import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyFix, findings, textAt } from '../testing';

const config = (lora: string, method = 'lora') => `method: ${method}
model:
  name_or_path: meta-llama/Llama-3.1-8B
lora:
${lora}
`;

test('alpha equal to r fires on the alpha value; the fix sets 2 × r', () => {
  const yaml = config('  r: 16\n  lora_alpha: 16  # same as r\n  lora_dropout: 0.05');
  const [hit] = findings('lora-alpha-equals-rank', yaml);
  assert.equal(hit.severity, 'info');
  assert.equal(textAt(yaml, hit.range), '16');
  assert.equal(hit.range.start.line, 5);
  assert.match(hit.message, /lora_alpha 16 equals r 16/);
  assert.match(hit.message, /lora_alpha: 32/);
  const fixed = applyFix(yaml, hit);
  assert.match(fixed, /lora_alpha: 32 {2}# same as r\n/);
  assert.deepEqual(findings('lora-alpha-equals-rank', fixed), []);
  assert.deepEqual(findings('lora-alpha-ratio', fixed), []);
});

test("peft's defaults (r 8, alpha 8) fire on the lora key and say they are defaults", () => {
  const yaml = config('  lora_dropout: 0.05', 'qlora');
  const [hit] = findings('lora-alpha-equals-rank', yaml);
  assert.equal(textAt(yaml, hit.range), 'lora');
  assert.match(hit.message, /lora_alpha 8 \(peft's default\) equals r 8 \(peft's default\)/);
  const fixed = applyFix(yaml, hit);
  assert.match(fixed, /\n {2}lora_dropout: 0\.05\n {2}lora_alpha: 16\n/);
  assert.deepEqual(findings('lora-alpha-equals-rank', fixed), []);
});

test('rsLoRA with alpha = sqrt(r) fires; the fix sets 2 × sqrt(r)', () => {
  const yaml = config('  r: 16\n  lora_alpha: 4\n  use_rslora: true');
  const [hit] = findings('lora-alpha-equals-rank', yaml);
  assert.equal(textAt(yaml, hit.range), '4');
  assert.match(hit.message, /sqrt\(r\) = 4/);
  const fixed = applyFix(yaml, hit);
  assert.match(fixed, /lora_alpha: 8\n/);
  assert.deepEqual(findings('lora-alpha-equals-rank', fixed), []);
  assert.deepEqual(findings('lora-alpha-ratio', fixed), []);
});

test('near misses stay silent: scale 2, scale 0.5 (the ratio rule), rsLoRA alpha = r, full', () => {
  assert.deepEqual(findings('lora-alpha-equals-rank', config('  r: 16\n  lora_alpha: 32')), []);
  assert.deepEqual(findings('lora-alpha-equals-rank', config('  r: 16\n  lora_alpha: 17')), []);
  assert.deepEqual(findings('lora-alpha-equals-rank', config('  r: 16\n  lora_alpha: 8')), []);
  assert.deepEqual(
    findings('lora-alpha-equals-rank', config('  r: 16\n  lora_alpha: 16\n  use_rslora: true')),
    [],
  );
  assert.deepEqual(
    findings('lora-alpha-equals-rank', 'method: full\nmodel:\n  name_or_path: x\n'),
    [],
  );
});

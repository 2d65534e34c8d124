import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyFix, findings, textAt } from '../testing';

const config = (quant: string, method = 'qlora') => `method: ${method}
model:
  name_or_path: meta-llama/Llama-3.1-8B
quantization:
${quant}
prepare_model_for_kbit_training: true
lora:
  r: 16
  lora_alpha: 32
`;

test('fp4 fires on the value; the fix sets nf4', () => {
  const yaml = config('  load_in_4bit: true\n  bnb_4bit_quant_type: fp4  # chosen');
  const [hit] = findings('qlora-quant-type', yaml);
  assert.equal(hit.severity, 'info');
  assert.equal(textAt(yaml, hit.range), 'fp4');
  assert.match(hit.message, /NF4/);
  const fixed = applyFix(yaml, hit);
  assert.match(fixed, /bnb_4bit_quant_type: nf4 {2}# chosen\n/);
  assert.deepEqual(findings('qlora-quant-type', fixed), []);
});

test('a missing quant type (fp4 by default) fires on the quantization key; the fix adds nf4', () => {
  const yaml = config('  load_in_4bit: true\n  bnb_4bit_compute_dtype: bfloat16');
  const [hit] = findings('qlora-quant-type', yaml);
  assert.equal(textAt(yaml, hit.range), 'quantization');
  assert.match(hit.message, /default fp4/);
  const fixed = applyFix(yaml, hit);
  assert.match(fixed, /\n {2}bnb_4bit_compute_dtype: bfloat16\n {2}bnb_4bit_quant_type: nf4\n/);
  assert.deepEqual(findings('qlora-quant-type', fixed), []);
});

test('near misses stay silent: nf4, 8-bit, not qlora', () => {
  assert.deepEqual(
    findings('qlora-quant-type', config('  load_in_4bit: true\n  bnb_4bit_quant_type: nf4')),
    [],
  );
  assert.deepEqual(findings('qlora-quant-type', config('  load_in_8bit: true')), []);
  assert.deepEqual(
    findings(
      'qlora-quant-type',
      config('  load_in_4bit: true\n  bnb_4bit_quant_type: fp4', 'lora'),
    ),
    [],
  );
});

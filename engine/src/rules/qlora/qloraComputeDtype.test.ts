import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyFix, findings, textAt } from '../testing';

const config = (quant: string, training = '  bf16: true', hardware = '') => `method: qlora
model:
  name_or_path: meta-llama/Llama-3.1-8B
quantization:
  load_in_4bit: true
${quant}
prepare_model_for_kbit_training: true
lora:
  r: 16
  lora_alpha: 32
training:
${training}
${hardware}`;

test('float32 fires on the value; the fix sets bfloat16', () => {
  const yaml = config('  bnb_4bit_compute_dtype: float32  # slow\n  bnb_4bit_quant_type: nf4');
  const [hit] = findings('qlora-compute-dtype', yaml);
  assert.equal(hit.severity, 'warning');
  assert.equal(textAt(yaml, hit.range), 'float32');
  assert.match(hit.message, /slower/);
  const fixed = applyFix(yaml, hit);
  assert.match(fixed, /bnb_4bit_compute_dtype: bfloat16 {2}# slow\n/);
  assert.deepEqual(findings('qlora-compute-dtype', fixed), []);
});

test('missing compute dtype (float32 by default) fires on the quantization key; the fix adds it', () => {
  const yaml = config('  bnb_4bit_quant_type: nf4');
  const [hit] = findings('qlora-compute-dtype', yaml);
  assert.equal(textAt(yaml, hit.range), 'quantization');
  assert.match(hit.message, /missing, so BitsAndBytesConfig computes in float32/);
  const fixed = applyFix(yaml, hit);
  assert.match(fixed, /\n {2}bnb_4bit_quant_type: nf4\n {2}bnb_4bit_compute_dtype: bfloat16\n/);
  assert.deepEqual(findings('qlora-compute-dtype', fixed), []);
});

test('float16 with training.bf16 fires; the fix sets bfloat16', () => {
  const yaml = config('  bnb_4bit_compute_dtype: float16');
  const [hit] = findings('qlora-compute-dtype', yaml);
  assert.equal(textAt(yaml, hit.range), 'float16');
  assert.match(hit.message, /training\.bf16: true/);
  assert.deepEqual(findings('qlora-compute-dtype', applyFix(yaml, hit)), []);
});

test('float32 on a T4 (no bf16) suggests float16', () => {
  const yaml = config(
    '  bnb_4bit_compute_dtype: float32',
    '  fp16: true',
    'hardware:\n  gpu: T4-16GB\n',
  );
  const [hit] = findings('qlora-compute-dtype', yaml);
  assert.match(hit.message, /`bnb_4bit_compute_dtype: float16`/);
  const fixed = applyFix(yaml, hit);
  assert.match(fixed, /bnb_4bit_compute_dtype: float16\n/);
  assert.deepEqual(findings('qlora-compute-dtype', fixed), []);
});

test('near misses stay silent', () => {
  assert.deepEqual(
    findings('qlora-compute-dtype', config('  bnb_4bit_compute_dtype: bfloat16')),
    [],
  );
  // float16 without bf16 training is consistent.
  assert.deepEqual(
    findings('qlora-compute-dtype', config('  bnb_4bit_compute_dtype: float16', '  fp16: true')),
    [],
  );
  // 8-bit quantization has no 4-bit compute dtype.
  assert.deepEqual(
    findings(
      'qlora-compute-dtype',
      config('  bnb_4bit_compute_dtype: float32').replace('load_in_4bit', 'load_in_8bit'),
    ),
    [],
  );
  assert.deepEqual(
    findings(
      'qlora-compute-dtype',
      config('  bnb_4bit_compute_dtype: float32').replace('method: qlora', 'method: lora'),
    ),
    [],
  );
});

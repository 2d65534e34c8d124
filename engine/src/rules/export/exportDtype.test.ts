import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyFix, findings, textAt } from '../testing';

const config = (method: string, exportSection: string, training = '') => `method: ${method}
model:
  name_or_path: meta-llama/Llama-3.1-8B-Instruct
quantization:
  load_in_4bit: true
prepare_model_for_kbit_training: true
lora:
  r: 16
  lora_alpha: 32
${training}${exportSection}`;

test('merge after QLoRA without dtype: warning on the export key; the fix adds bfloat16', () => {
  const yaml = config('qlora', 'export:\n  merge: true\n  output_dir: runs/merged\n');
  const [hit] = findings('export-dtype', yaml);
  assert.equal(hit.severity, 'warning');
  assert.equal(textAt(yaml, hit.range), 'export');
  assert.match(hit.message, /^`export\.merge: true` after QLoRA without `export\.dtype`/);
  assert.match(hit.message, /Set `dtype: bfloat16`\.$/);
  const fixed = applyFix(yaml, hit);
  assert.ok(fixed.endsWith('  output_dir: runs/merged\n  dtype: bfloat16\n'), fixed);
  assert.deepEqual(findings('export-dtype', fixed), []);
});

test('an explicit float32 is reported on the value and replaced', () => {
  const yaml = config('qlora', 'export:\n  merge: true\n  dtype: float32\n');
  const [hit] = findings('export-dtype', yaml);
  assert.equal(textAt(yaml, hit.range), 'float32');
  assert.match(hit.message, /twice the size/);
  const fixed = applyFix(yaml, hit);
  assert.match(fixed, /\n {2}dtype: bfloat16\n$/);
  assert.deepEqual(findings('export-dtype', fixed), []);
});

test('fp16 training suggests float16', () => {
  const yaml = config('qlora', 'export: { merge: true }\n', 'training:\n  fp16: true\n');
  const [hit] = findings('export-dtype', yaml);
  assert.match(hit.message, /Set `dtype: float16`\.$/);
  const fixed = applyFix(yaml, hit);
  assert.match(fixed, /export: \{ merge: true, dtype: float16 \}/);
  assert.deepEqual(findings('export-dtype', fixed), []);
});

test('near misses: 16-bit dtypes, no merge, LoRA, no export section', () => {
  for (const dtype of ['bfloat16', 'float16']) {
    assert.deepEqual(
      findings('export-dtype', config('qlora', `export:\n  merge: true\n  dtype: ${dtype}\n`)),
      [],
    );
  }
  assert.deepEqual(findings('export-dtype', config('qlora', 'export:\n  merge: false\n')), []);
  assert.deepEqual(findings('export-dtype', config('qlora', 'export:\n  adapter: true\n')), []);
  assert.deepEqual(findings('export-dtype', config('lora', 'export:\n  merge: true\n')), []);
  assert.deepEqual(findings('export-dtype', config('qlora', '')), []);
});

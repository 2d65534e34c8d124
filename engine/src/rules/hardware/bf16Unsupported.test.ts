import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyFix, findings, textAt } from '../testing';

const config = (
  method: string,
  extra: string,
  training: string,
  gpu = 'T4-16GB',
) => `method: ${method}
model:
  name_or_path: meta-llama/Llama-3.2-1B-Instruct
${extra}training:
  learning_rate: 2.0e-4
${training}hardware:
  gpu: ${gpu}
`;
const LORA = 'lora:\n  r: 16\n  lora_alpha: 32\n';

test('bf16 on a T4: error on the value; the fix renames it to fp16 in place', () => {
  const yaml = config('lora', LORA, '  bf16: true  # mixed precision\n  logging_steps: 10\n');
  const [hit] = findings('bf16-unsupported', yaml);
  assert.equal(hit.severity, 'error');
  assert.equal(textAt(yaml, hit.range), 'true');
  assert.equal(
    hit.message,
    'Tesla T4 (compute capability 7.5) has no bfloat16: training stops at start-up with `bf16: true`. Use `fp16: true`.',
  );
  const fixed = applyFix(yaml, hit);
  assert.match(fixed, /\n {2}fp16: true {2}# mixed precision\n {2}logging_steps: 10\n/);
  assert.ok(!/bf16/.test(fixed));
  assert.deepEqual(findings('bf16-unsupported', fixed), []);
});

test('LoRA loaded in bfloat16: the fix also loads the model in float16', () => {
  const yaml = config('lora', LORA, '  bf16: true\n').replace(
    'Instruct\n',
    'Instruct\n  dtype: bfloat16\n',
  );
  const [hit] = findings('bf16-unsupported', yaml);
  assert.match(hit.message, /Use `fp16: true` and `model\.dtype: float16`\.$/);
  const fixed = applyFix(yaml, hit);
  assert.match(fixed, /\n {2}dtype: float16\n/);
  assert.match(fixed, /\n {2}fp16: true\n/);
  assert.deepEqual(findings('bf16-unsupported', fixed), []);
});

test('full fine-tuning: the model goes to float32 (fp16 mixed precision needs fp32 master weights)', () => {
  const yaml = config('full', '', '  bf16: true\n', 'V100-32GB').replace(
    'Instruct\n',
    'Instruct\n  dtype: bfloat16\n',
  );
  const [hit] = findings('bf16-unsupported', yaml);
  assert.match(hit.message, /^Tesla V100-SXM2-32GB \(compute capability 7\) has no bfloat16/);
  const fixed = applyFix(yaml, hit);
  assert.match(fixed, /\n {2}dtype: float32\n/);
  assert.deepEqual(findings('bf16-unsupported', fixed), []);
});

test('QLoRA: the compute dtype follows; an existing `fp16: false` is set and bf16 removed', () => {
  const qlora = `quantization:\n  load_in_4bit: true\n  bnb_4bit_compute_dtype: bfloat16\nprepare_model_for_kbit_training: true\n${LORA}`;
  const yaml = config('qlora', qlora, '  bf16: true\n  fp16: false\n');
  const [hit] = findings('bf16-unsupported', yaml);
  assert.match(hit.message, /`bnb_4bit_compute_dtype: float16`/);
  const fixed = applyFix(yaml, hit);
  assert.match(fixed, /bnb_4bit_compute_dtype: float16\n/);
  assert.match(fixed, /\ntraining:\n {2}learning_rate: 2\.0e-4\n {2}fp16: true\nhardware:/);
  assert.deepEqual(findings('bf16-unsupported', fixed), []);
});

test('a GPU given as a mapping with `bf16: false`, and the --gpu override', () => {
  const yaml = config(
    'lora',
    LORA,
    '  bf16: true\n',
    '{ name: Quadro RTX 8000, memory_gb: 48, bf16: false }',
  );
  assert.equal(findings('bf16-unsupported', yaml).length, 1);
  const a100 = config('lora', LORA, '  bf16: true\n', 'A100-80GB');
  assert.equal(findings('bf16-unsupported', a100, { gpu: 't4' }).length, 1);
});

test('near misses: Ampere or newer, no GPU, bf16 false, fp16 on a T4', () => {
  for (const gpu of ['A100-80GB', 'L4', 'RTX3090-24GB', 'A10G-24GB']) {
    assert.deepEqual(
      findings('bf16-unsupported', config('lora', LORA, '  bf16: true\n', gpu)),
      [],
      gpu,
    );
  }
  const noGpu = config('lora', LORA, '  bf16: true\n').replace(/hardware:\n.*\n/, '');
  assert.deepEqual(findings('bf16-unsupported', noGpu), []);
  assert.deepEqual(findings('bf16-unsupported', config('lora', LORA, '  bf16: false\n')), []);
  assert.deepEqual(findings('bf16-unsupported', config('lora', LORA, '  fp16: true\n')), []);
});

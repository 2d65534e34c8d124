import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyFix, findings, textAt } from '../testing';

const CODE = 'compile-liger-layer-kernels';
const config = (training: string) => `method: lora
model:
  name_or_path: meta-llama/Llama-3.1-8B
lora:
  r: 16
  lora_alpha: 32
training:
${training}
  bf16: true
`;

test("compiled layers with Liger's layer kernels: fires on torch_compile; the fix keeps the loss only", () => {
  const yaml = config('  use_liger_kernel: true\n  torch_compile: true');
  const [hit] = findings(CODE, yaml);
  assert.equal(hit.severity, 'info');
  assert.equal(textAt(yaml, hit.range), 'true');
  assert.match(hit.message, /12,802 tokens\/s .* 14,008/);
  const fixed = applyFix(yaml, hit);
  assert.match(fixed, /liger_kernel_config:\n\s+rms_norm: false\n\s+swiglu: false\n\s+rope: false/);
  assert.match(fixed, /use_liger_kernel: true/);
  assert.deepEqual(findings(CODE, fixed), []);
});

test('a compile mode alone turns compile on; a config that keeps one layer kernel on still fires', () => {
  const yaml = config(
    '  use_liger_kernel: true\n  torch_compile_mode: max-autotune-no-cudagraphs\n  liger_kernel_config:\n    rms_norm: false',
  );
  const [hit] = findings(CODE, yaml);
  assert.equal(textAt(yaml, hit.range), 'max-autotune-no-cudagraphs');
  const fixed = applyFix(yaml, hit);
  assert.match(fixed, /liger_kernel_config:\n\s+rms_norm: false\n\s+swiglu: false\n\s+rope: false/);
  assert.deepEqual(findings(CODE, fixed), []);
});

test('silent without compile, without Liger, or with the layer kernels already off', () => {
  for (const training of [
    '  use_liger_kernel: true',
    '  torch_compile: true',
    '  use_liger_kernel: true\n  torch_compile: false',
    '  use_liger_kernel: true\n  torch_compile: true\n  liger_kernel_config: {rms_norm: false, swiglu: false}',
  ])
    assert.deepEqual(findings(CODE, config(training)), [], training);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyze } from '../../engine';
import { applyFix, findings, lintYaml, textAt } from '../testing';

const config = (hardware: string) => `method: lora
model:
  name_or_path: meta-llama/Llama-3.1-8B-Instruct
lora:
  r: 16
  lora_alpha: 32
hardware:
${hardware}
`;

test('a misspelt GPU id: warning on the value, did-you-mean, object-form hint, fix sets the nearest id', () => {
  const yaml = config('  gpu: H1OO # typo\n  num_gpus: 1');
  const [hit] = findings('gpu-unknown', yaml);
  assert.equal(hit.severity, 'warning');
  assert.equal(textAt(yaml, hit.range), 'H1OO');
  assert.equal(
    hit.message,
    '`hardware.gpu: H1OO` is not a GPU Tunelab knows, so the memory check and the GPU-dependent checks are off. Did you mean `H100-80GB`, `H100-94GB`? For a card outside the catalog write `{ name, memory_gb }` (e.g. `{ name: MI300X, memory_gb: 192 }`).',
  );
  assert.equal(hit.fixes?.[0].title, 'Set gpu: H100-80GB');
  const fixed = applyFix(yaml, hit);
  assert.match(fixed, /\n {2}gpu: H100-80GB # typo\n {2}num_gpus: 1\n/);
  assert.deepEqual(findings('gpu-unknown', fixed), []);
  // With the fix the memory check is back on.
  assert.equal(analyze(fixed, '/virtual/test.finetune.yaml').gpu?.id, 'H100-80GB');
});

test('the context says the GPU was named but unknown; the estimate runs without a GPU', () => {
  const analysis = analyze(config('  gpu: H1OO'), '/virtual/test.finetune.yaml');
  assert.equal(analysis.gpu, undefined);
  assert.equal(analysis.estimate?.fits, undefined);
});

test('a card outside the catalog: no suggestion and no fix, but the object-form hint', () => {
  const yaml = config('  gpu: MI300X');
  const [hit] = findings('gpu-unknown', yaml);
  assert.equal(textAt(yaml, hit.range), 'MI300X');
  assert.doesNotMatch(hit.message, /Did you mean/);
  assert.match(hit.message, /`\{ name, memory_gb \}`/);
  assert.equal(hit.fixes, undefined);
});

test('an unknown --gpu (engine option) is reported too, on the hardware.gpu key, without a fix', () => {
  const yaml = config('  gpu: A100-80GB');
  const hits = lintYaml(yaml, { gpu: 'A100 90GB' }).filter((f) => f.code === 'gpu-unknown');
  assert.equal(hits.length, 1);
  assert.equal(textAt(yaml, hits[0].range), 'gpu');
  assert.match(
    hits[0].message,
    /^The GPU `A100 90GB` given for this check is not one Tunelab knows/,
  );
  assert.match(hits[0].message, /Did you mean `A100-80GB`, `A100-40GB`\?/);
  assert.equal(hits[0].fixes, undefined);
});

test('near misses stay silent: catalog ids, forgiving names, the object form, no GPU at all', () => {
  for (const gpu of ['H100-80GB', 'h100', 'A100 80GB', 'NVIDIA A100-SXM4-80GB', 'rtx 4090']) {
    assert.deepEqual(findings('gpu-unknown', config(`  gpu: ${gpu}`)), [], gpu);
  }
  assert.deepEqual(findings('gpu-unknown', config('  gpu: { name: MI300X, memory_gb: 192 }')), []);
  assert.deepEqual(findings('gpu-unknown', config('  num_gpus: 1')), []);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyze } from '../../engine';
import { findings, lintYaml, textAt } from '../testing';

const config = (numGpus: string) => `method: lora
model:
  name_or_path: meta-llama/Llama-3.1-8B-Instruct
lora:
  r: 16
  lora_alpha: 32
hardware:
  gpu: H100-80GB
  num_gpus: ${numGpus}
`;

test('num_gpus: 1e9 is an error on the value, and the estimate is skipped', () => {
  const yaml = config('1e9');
  const [hit] = findings('num-gpus-range', yaml);
  assert.equal(hit.severity, 'error');
  assert.equal(textAt(yaml, hit.range), '1e9');
  assert.equal(
    hit.message,
    '`hardware.num_gpus: 1000000000` is more GPUs than any one run uses (Tunelab allows up to 1,024): a typo? The effective batch and the launch would be sized for it; the memory estimate is skipped until it is a real count.',
  );
  assert.equal(hit.fixes, undefined);
  const analysis = analyze(yaml, '/virtual/test.finetune.yaml');
  assert.equal(analysis.estimate, undefined);
  assert.deepEqual(analysis.plan?.invalidNumbers, ['hardware.numGpus']);
});

test('fractions and counts below 1 are reported by the schema, not twice', () => {
  for (const value of ['2.5', '0']) {
    const yaml = config(value);
    assert.deepEqual(findings('num-gpus-range', yaml), [], value);
    const schema = lintYaml(yaml).filter((f) => f.code.startsWith('schema-'));
    assert.equal(schema.length, 1, value);
    assert.equal(textAt(yaml, schema[0].range), value);
    // The estimate is not computed for a count no launch can have.
    assert.equal(analyze(yaml, '/virtual/test.finetune.yaml').estimate, undefined, value);
  }
});

test('near misses stay silent: 1, 8, the bound itself; the estimate runs', () => {
  for (const value of ['1', '8', '1024']) {
    assert.deepEqual(findings('num-gpus-range', config(value)), [], value);
  }
  assert.ok(analyze(config('8'), '/virtual/test.finetune.yaml').estimate);
  assert.deepEqual(findings('num-gpus-range', config('1').replace(/ {2}num_gpus: 1\n/, '')), []);
});

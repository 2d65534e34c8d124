// Each dialect example estimates exactly like the native config it amounts to.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { analyze } from '../engine';
import type { Plan } from '../plan';

const FIXTURES = path.resolve(__dirname, '../../../test/fixtures/dialects');

function analyzeFixture(name: string, options = {}) {
  const file = path.join(FIXTURES, name);
  return analyze(fs.readFileSync(file, 'utf8'), file, options);
}

/** The plan without `where` (the dialect's paths differ, by design). */
function planOf(plan: Plan | undefined): Omit<Plan, 'where'> | undefined {
  if (!plan) return undefined;
  const { where: _where, ...rest } = plan;
  void _where;
  return rest;
}

const PAIRS: [string, string, string][] = [
  ['axolotl', 'axolotl-qlora.yml', 'axolotl-qlora.native.finetune.yaml'],
  ['llamafactory', 'llamafactory-lora.yaml', 'llamafactory-lora.native.finetune.yaml'],
  ['trl', 'trl-sft.yaml', 'trl-sft.native.finetune.yaml'],
];

for (const [dialect, file, nativeFile] of PAIRS) {
  test(`${dialect}: the estimate equals the native equivalent's`, () => {
    const a = analyzeFixture(file);
    const n = analyzeFixture(nativeFile);
    assert.equal(a.dialect, dialect);
    assert.equal(n.dialect, 'native');
    assert.ok(a.estimate && n.estimate, 'both have an estimate');
    assert.equal(a.estimate.perGpuBytes, n.estimate.perGpuBytes);
    assert.deepEqual(planOf(a.plan), planOf(n.plan));
    assert.equal(
      // Data files are the tools' own business (hub datasets, dataset_info.json): not compared.
      n.findings.filter((f) => f.code.startsWith('schema-') && !f.message.includes('train_file'))
        .length,
      0,
      'the native equivalent is itself valid',
    );
  });
}

test('the GPU comes from the modeline or --gpu, and the estimate judges against it', () => {
  const a = analyzeFixture('axolotl-qlora.yml');
  assert.equal(a.gpu?.id, 'A100-80GB');
  const t4 = analyzeFixture('axolotl-qlora.yml', { gpu: 'T4-16GB' });
  assert.equal(t4.gpu?.id, 'T4-16GB');
  assert.equal(t4.estimate?.fits, false);
  // bf16: auto is off on a T4: no bf16-unsupported, and the weights compute in float32.
  assert.equal(t4.findings.filter((f) => f.code === 'bf16-unsupported').length, 0);
  assert.equal(t4.plan?.quantization?.computeDtype, 'float32');
});

test('LLaMA-Factory RL stages get no estimate: a reference model is not modelled', () => {
  const text = fs
    .readFileSync(path.join(FIXTURES, 'llamafactory-lora.yaml'), 'utf8')
    .replace('stage: sft', 'stage: dpo');
  const a = analyze(text, '/x/dpo.yaml');
  assert.equal(a.dialect, 'llamafactory');
  assert.equal(a.estimate, undefined);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyFix, findings, textAt } from '../testing';

const QLORA = `method: qlora
model:
  name_or_path: meta-llama/Llama-3.1-8B
quantization:
  load_in_4bit: true
  bnb_4bit_quant_type: nf4
lora:
  r: 16
  lora_alpha: 32
`;

test('fires on the method when prepare_model_for_kbit_training is missing; the fix inserts it', () => {
  const [hit] = findings('qlora-prepare-kbit', QLORA);
  assert.ok(hit);
  assert.equal(hit.severity, 'error');
  assert.equal(textAt(QLORA, hit.range), 'qlora');
  const fixed = applyFix(QLORA, hit);
  assert.ok(fixed.endsWith('\nprepare_model_for_kbit_training: true\n'));
  assert.deepEqual(findings('qlora-prepare-kbit', fixed), []);
});

test('fires on the value when it is false', () => {
  const yaml = QLORA + 'prepare_model_for_kbit_training: false\n';
  const [hit] = findings('qlora-prepare-kbit', yaml);
  assert.equal(textAt(yaml, hit.range), 'false');
  assert.deepEqual(findings('qlora-prepare-kbit', applyFix(yaml, hit)), []);
});

test('silent when true, when given as an object, and for lora', () => {
  assert.deepEqual(
    findings('qlora-prepare-kbit', QLORA + 'prepare_model_for_kbit_training: true\n'),
    [],
  );
  assert.deepEqual(
    findings(
      'qlora-prepare-kbit',
      QLORA + 'prepare_model_for_kbit_training: { use_gradient_checkpointing: true }\n',
    ),
    [],
  );
  assert.deepEqual(
    findings('qlora-prepare-kbit', QLORA.replace('method: qlora', 'method: lora')),
    [],
  );
});

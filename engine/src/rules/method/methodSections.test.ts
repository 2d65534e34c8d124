import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyFix, findings, textAt } from '../testing';

const MODEL = `model:
  name_or_path: meta-llama/Llama-3.1-8B
`;
const QUANT = `quantization:
  load_in_4bit: true
  bnb_4bit_quant_type: nf4
`;
const LORA = `lora:
  r: 16
  lora_alpha: 32
`;
const KBIT = 'prepare_model_for_kbit_training: true\n';

test('lora with a 4-bit quantization section fires on the section key; the fix makes it qlora', () => {
  const yaml = `method: lora  # adapter\n${MODEL}${QUANT}${LORA}${KBIT}`;
  const hits = findings('method-sections', yaml);
  assert.equal(hits.length, 2);
  const [quant, kbit] = hits;
  assert.equal(quant.severity, 'error');
  assert.equal(textAt(yaml, quant.range), 'quantization');
  assert.match(quant.message, /not allowed with `method: lora`/);
  assert.match(quant.message, /QLoRA/);
  assert.equal(textAt(yaml, kbit.range), 'prepare_model_for_kbit_training');
  const fixed = applyFix(yaml, quant);
  assert.match(fixed, /^method: qlora {2}# adapter\n/);
  assert.deepEqual(findings('method-sections', fixed), []);
  assert.deepEqual(findings('method-sections', applyFix(yaml, kbit)), []);
});

test('full with a lora section fires on the lora key; the fix makes it lora', () => {
  const yaml = `method: full\n${MODEL}${LORA}`;
  const [hit] = findings('method-sections', yaml);
  assert.equal(textAt(yaml, hit.range), 'lora');
  assert.match(hit.message, /every weight/);
  const fixed = applyFix(yaml, hit);
  assert.match(fixed, /^method: lora\n/);
  assert.deepEqual(findings('method-sections', fixed), []);
});

test('full with quantization and lora: both sections fire, the fix makes it qlora', () => {
  const yaml = `method: full\n${MODEL}${QUANT}${LORA}${KBIT}`;
  const hits = findings('method-sections', yaml);
  assert.deepEqual(
    hits.map((h) => textAt(yaml, h.range)),
    ['quantization', 'prepare_model_for_kbit_training', 'lora'],
  );
  const fixed = applyFix(yaml, hits[0]);
  assert.match(fixed, /^method: qlora\n/);
  assert.deepEqual(findings('method-sections', fixed), []);
});

test('qlora without quantization fires on the method value; the fix makes it lora', () => {
  const yaml = `method: qlora\n${MODEL}${LORA}`;
  const [hit] = findings('method-sections', yaml);
  assert.equal(textAt(yaml, hit.range), 'qlora');
  assert.match(hit.message, /needs a `quantization` section/);
  const fixed = applyFix(yaml, hit);
  assert.match(fixed, /^method: lora\n/);
  assert.deepEqual(findings('method-sections', fixed), []);
});

test('lora without a lora section fires on the method value; the fix makes it full', () => {
  const yaml = `method: lora\n${MODEL}`;
  const [hit] = findings('method-sections', yaml);
  assert.equal(textAt(yaml, hit.range), 'lora');
  assert.match(hit.message, /needs a `lora` section/);
  const fixed = applyFix(yaml, hit);
  assert.match(fixed, /^method: full\n/);
  assert.deepEqual(findings('method-sections', fixed), []);
});

test('no fix when the sections fit no method (quantization without lora)', () => {
  const yaml = `method: qlora\n${MODEL}${QUANT}${KBIT}`;
  const [hit] = findings('method-sections', yaml);
  assert.equal(textAt(yaml, hit.range), 'qlora');
  assert.equal(hit.fixes, undefined);
});

test('near misses stay silent', () => {
  // Each method with exactly its sections.
  assert.deepEqual(findings('method-sections', `method: full\n${MODEL}`), []);
  assert.deepEqual(findings('method-sections', `method: lora\n${MODEL}${LORA}`), []);
  assert.deepEqual(
    findings('method-sections', `method: qlora\n${MODEL}${QUANT}${LORA}${KBIT}`),
    [],
  );
  // qlora without prepare_model_for_kbit_training is qlora-prepare-kbit's finding, not this one.
  assert.deepEqual(findings('method-sections', `method: qlora\n${MODEL}${QUANT}${LORA}`), []);
  // prepare_model_for_kbit_training: false is harmless with lora.
  assert.deepEqual(
    findings(
      'method-sections',
      `method: lora\n${MODEL}${LORA}prepare_model_for_kbit_training: false\n`,
    ),
    [],
  );
  // No or an unknown method: the schema reports it.
  assert.deepEqual(findings('method-sections', `method: dpo\n${MODEL}${QUANT}`), []);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyFix, findings, textAt } from '../testing';

const BASE = `method: qlora
model:
  name_or_path: meta-llama/Llama-3.1-8B
quantization:
  load_in_4bit: true
  bnb_4bit_quant_type: nf4
prepare_model_for_kbit_training: true
lora:
  r: 16
  lora_alpha: 32
`;

test('adamw_torch fires on the value; the fix sets paged_adamw_8bit', () => {
  const yaml = BASE + 'training:\n  optim: adamw_torch  # plain\n  bf16: true\n';
  const [hit] = findings('qlora-optimizer', yaml);
  assert.equal(hit.severity, 'info');
  assert.equal(textAt(yaml, hit.range), 'adamw_torch');
  assert.match(hit.message, /`optim: adamw_torch` with QLoRA/);
  const fixed = applyFix(yaml, hit);
  assert.match(fixed, /optim: paged_adamw_8bit {2}# plain\n/);
  assert.deepEqual(findings('qlora-optimizer', fixed), []);
});

test('a missing optim fires on the training key and names the default', () => {
  const yaml = BASE + 'training:\n  bf16: true\n';
  const [hit] = findings('qlora-optimizer', yaml);
  assert.equal(textAt(yaml, hit.range), 'training');
  assert.match(hit.message, /adamw_torch_fused/);
  const fixed = applyFix(yaml, hit);
  assert.match(fixed, /\n {2}bf16: true\n {2}optim: paged_adamw_8bit\n/);
  assert.deepEqual(findings('qlora-optimizer', fixed), []);
});

test('without a training section it fires on the method and the fix adds the section', () => {
  const [hit] = findings('qlora-optimizer', BASE);
  assert.equal(textAt(BASE, hit.range), 'qlora');
  const fixed = applyFix(BASE, hit);
  assert.ok(fixed.endsWith('\ntraining:\n  optim: paged_adamw_8bit\n'));
  assert.deepEqual(findings('qlora-optimizer', fixed), []);
});

test('near misses stay silent: paged 32-bit, 8-bit, lora', () => {
  for (const optim of ['paged_adamw_32bit', 'adamw_8bit', 'adamw_bnb_8bit', 'paged_lion_8bit']) {
    assert.deepEqual(
      findings('qlora-optimizer', BASE + `training:\n  optim: ${optim}\n`),
      [],
      optim,
    );
  }
  assert.deepEqual(
    findings(
      'qlora-optimizer',
      'method: lora\nmodel:\n  name_or_path: x\nlora:\n  r: 8\ntraining:\n  optim: adamw_torch\n',
    ),
    [],
  );
});

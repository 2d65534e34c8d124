import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyTextEdits } from '../edits';
import { parseYaml } from '../parse';
import { lintYaml } from '../rules/testing';
import { convertMethodEdits } from './method';

const LORA = `# telecom bot
method: lora   # adapters
model:
  name_or_path: meta-llama/Llama-3.1-8B
lora:
  r: 16
  lora_alpha: 32
training:
  learning_rate: 2.0e-4
  optim: adamw_torch_fused
`;

const convert = (text: string, target: 'full' | 'lora' | 'qlora') =>
  applyTextEdits(text, convertMethodEdits(parseYaml(text), target));
const sectionErrors = (text: string) =>
  lintYaml(text).filter(
    (f) =>
      ['method-sections', 'qlora-prepare-kbit', 'yaml-syntax'].includes(f.code) ||
      f.code.startsWith('schema'),
  );

test('lora → qlora adds quantization, prepare_model_for_kbit_training and a paged optimizer; keeps comments', () => {
  const out = convert(LORA, 'qlora');
  assert.match(out, /^method: qlora {3}# adapters$/m);
  assert.match(out, /quantization:\n {2}load_in_4bit: true\n {2}bnb_4bit_quant_type: nf4/);
  assert.match(out, /^prepare_model_for_kbit_training: true$/m);
  assert.match(out, /optim: paged_adamw_8bit/);
  assert.ok(out.startsWith('# telecom bot\n'));
  assert.deepEqual(sectionErrors(out), []);
});

test('qlora → lora removes the 4-bit sections and the paged optimizer', () => {
  const out = convert(convert(LORA, 'qlora'), 'lora');
  assert.doesNotMatch(out, /quantization|prepare_model_for_kbit_training|paged/);
  assert.match(out, /^method: lora/m);
  assert.deepEqual(sectionErrors(out), []);
});

test('lora → full removes the adapter, lowers the learning rate, turns on checkpointing', () => {
  const out = convert(LORA, 'full');
  assert.doesNotMatch(out, /^lora:/m);
  assert.match(out, /learning_rate: 2\.0e-5/);
  assert.match(out, /gradient_checkpointing: true/);
  assert.deepEqual(sectionErrors(out), []);
});

test('full → lora adds a LoRA section with r 16 / alpha 32 all-linear and a LoRA learning rate', () => {
  const full = convert(LORA, 'full');
  const out = convert(full, 'lora');
  assert.match(
    out,
    /lora:\n {2}r: 16\n {2}lora_alpha: 32\n {2}lora_dropout: 0\.05\n {2}target_modules: all-linear/,
  );
  assert.match(out, /learning_rate: 2\.0e-4/);
  assert.deepEqual(sectionErrors(out), []);
});

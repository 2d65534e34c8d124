import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findings, textAt } from '../testing';

const config = (method: string, data: string) => `method: ${method} # what trains
model:
  name_or_path: meta-llama/Llama-3.1-8B-Instruct
lora:
  r: 16
  lora_alpha: 32
${data}training:
  learning_rate: 2.0e-4
`;

test('a training config without data: error on the method value', () => {
  const yaml = config('lora', '');
  const [hit] = findings('data-section-missing', yaml);
  assert.equal(hit.severity, 'error');
  assert.equal(textAt(yaml, hit.range), 'lora');
  assert.equal(
    hit.message,
    '`method: lora` trains, but there is no `data` section: nothing to train on, and the data checks have nothing to look at. Add `data:` with `train_file` (JSON Lines, relative to this file), `format` and `max_length`.',
  );
  assert.equal(hit.fixes, undefined);
});

test("near misses stay silent: a data section (even an incomplete one, the schema's), no valid method", () => {
  assert.deepEqual(
    findings('data-section-missing', config('lora', 'data:\n  train_file: train.jsonl\n')),
    [],
  );
  assert.deepEqual(findings('data-section-missing', config('lora', 'data: {}\n')), []);
  // No or an invalid method is schema-required / schema-enum: there is no run to speak of.
  assert.deepEqual(findings('data-section-missing', config('lorra', '')), []);
});

test('other dialects name their data their own way: not this rule', () => {
  const axolotl = `base_model: meta-llama/Llama-3.1-8B-Instruct
adapter: lora
lora_r: 16
learning_rate: 0.0002
`;
  assert.deepEqual(
    findings('data-section-missing', axolotl, {
      fileName: '/virtual/axolotl.yml',
      dialect: 'axolotl',
    }),
    [],
  );
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findings, textAt } from '../testing';

const config = (model: string) => `method: lora
model:
${model}
lora:
  r: 16
  lora_alpha: 32
`;

test('a Hub id outside the catalog fires on the name_or_path value', () => {
  const yaml = config('  name_or_path: acme/secret-model-7b  # private');
  const [hit] = findings('model-unknown', yaml);
  assert.equal(hit.severity, 'info');
  assert.equal(textAt(yaml, hit.range), 'acme/secret-model-7b');
  assert.match(
    hit.message,
    /^architecture unknown: give model\.architecture or a local path with config\.json for estimates and module checks/,
  );
  assert.match(hit.message, /acme\/secret-model-7b is not in the built-in catalog/);
  assert.equal(hit.fixes, undefined);
});

test('an invalid model.architecture fires on the architecture key', () => {
  const yaml = config('  name_or_path: acme/secret-model-7b\n  architecture:\n    hidden_size: -4');
  const [hit] = findings('model-unknown', yaml);
  assert.equal(textAt(yaml, hit.range), 'architecture');
  assert.match(hit.message, /model\.architecture/);
});

test('near misses stay silent: a catalog model, an architecture given, no model at all', () => {
  assert.deepEqual(
    findings('model-unknown', config('  name_or_path: meta-llama/Llama-3.1-8B')),
    [],
  );
  assert.deepEqual(
    findings(
      'model-unknown',
      config(`  name_or_path: acme/secret-model-7b
  architecture:
    model_type: llama
    hidden_size: 4096
    num_hidden_layers: 32
    num_attention_heads: 32
    num_key_value_heads: 8
    intermediate_size: 14336
    vocab_size: 128256`),
    ),
    [],
  );
  assert.deepEqual(findings('model-unknown', config('  dtype: bfloat16')), []);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyFix, findings, textAt } from '../testing';

const config = (lora: string, tokens = '["<|tool|>", "<|end_tool|>"]') => `method: lora
model:
  name_or_path: meta-llama/Llama-3.1-8B
  add_tokens: ${tokens}
lora:
  r: 16
  lora_alpha: 32
  target_modules: all-linear
${lora}
`;

test('added tokens without modules_to_save fire on the lora key; the fix adds both layers', () => {
  const yaml = config('  lora_dropout: 0.05');
  const [hit] = findings('new-tokens-not-trained', yaml);
  assert.equal(hit.severity, 'warning');
  assert.equal(textAt(yaml, hit.range), 'lora');
  assert.match(hit.message, /adds 2 tokens \(<\|tool\|>, <\|end_tool\|>\)/);
  assert.match(hit.message, /embed_tokens and lm_head/);
  const fixed = applyFix(yaml, hit);
  assert.match(
    fixed,
    /\n {2}lora_dropout: 0\.05\n {2}modules_to_save: \[embed_tokens, lm_head\]\n/,
  );
  assert.deepEqual(findings('new-tokens-not-trained', fixed), []);
});

test('a block modules_to_save lacking lm_head fires on it; the fix keeps what was there', () => {
  const yaml = config('  modules_to_save:\n    - embed_tokens\n  lora_dropout: 0.05');
  const [hit] = findings('new-tokens-not-trained', yaml);
  assert.equal(textAt(yaml, hit.range).trim(), '- embed_tokens');
  assert.match(hit.message, /`modules_to_save` lacks lm_head/);
  const fixed = applyFix(yaml, hit);
  assert.match(
    fixed,
    /\n {2}modules_to_save: \[embed_tokens, lm_head\]\n {2}lora_dropout: 0\.05\n/,
  );
  assert.deepEqual(findings('new-tokens-not-trained', fixed), []);
});

test('a trainable_token_indices list on an untied model leaves lm_head untrained', () => {
  const yaml = config('  trainable_token_indices: [128256, 128257]');
  const [hit] = findings('new-tokens-not-trained', yaml);
  assert.match(hit.message, /no `modules_to_save` lists lm_head:/);
  const fixed = applyFix(yaml, hit);
  assert.match(fixed, /\n {2}modules_to_save: \[lm_head\]\n/);
  assert.deepEqual(findings('new-tokens-not-trained', fixed), []);
});

test('near misses stay silent', () => {
  assert.deepEqual(
    findings('new-tokens-not-trained', config('  modules_to_save: [embed_tokens, lm_head]')),
    [],
  );
  // LoRA on both layers through an explicit target list.
  assert.deepEqual(
    findings(
      'new-tokens-not-trained',
      config('  modules_to_save: [lm_head]').replace(
        'target_modules: all-linear',
        'target_modules: [q_proj, v_proj, embed_tokens]',
      ),
    ),
    [],
  );
  // trainable_token_indices naming both modules, or a list on a model with tied embeddings.
  assert.deepEqual(
    findings(
      'new-tokens-not-trained',
      config('  trainable_token_indices: { embed_tokens: [128256], lm_head: [128256] }'),
    ),
    [],
  );
  assert.deepEqual(
    findings(
      'new-tokens-not-trained',
      config('  trainable_token_indices: [128256, 128257]').replace('Llama-3.1-8B', 'Llama-3.2-1B'),
    ),
    [],
  );
  assert.deepEqual(findings('new-tokens-not-trained', config('', '[]')), []);
  assert.deepEqual(
    findings(
      'new-tokens-not-trained',
      'method: full\nmodel:\n  name_or_path: x\n  add_tokens: ["<x>"]\n',
    ),
    [],
  );
});

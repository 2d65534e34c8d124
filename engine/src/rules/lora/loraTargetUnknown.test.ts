import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findings, textAt } from '../testing';

const config = (model: string, targets: string) => `method: lora
model:
  name_or_path: ${model}
lora:
  r: 16
  lora_alpha: 32
  target_modules: ${targets}
`;
const LLAMA = 'meta-llama/Llama-3.1-8B';

test('a Falcon module name on a Llama model fires on that list item', () => {
  const yaml = config(LLAMA, '[query_key_value, dense]');
  const hits = findings('lora-target-unknown', yaml);
  assert.equal(hits.length, 2);
  assert.equal(hits[0].severity, 'error');
  assert.equal(textAt(yaml, hits[0].range), 'query_key_value');
  assert.equal(textAt(yaml, hits[1].range), 'dense');
  assert.match(hits[0].message, /`query_key_value` is not a module of Llama 3\.1 8B \(llama\)/);
  assert.match(hits[0].message, /q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj/);
  assert.equal(hits[0].fixes, undefined);
});

test('only the unknown item of a block list fires', () => {
  const yaml = config(LLAMA, '\n    - q_proj\n    - self_attn.v_projj\n    - down_proj');
  const [hit, ...rest] = findings('lora-target-unknown', yaml);
  assert.deepEqual(rest, []);
  assert.equal(textAt(yaml, hit.range), 'self_attn.v_projj');
});

test("Phi-3's fused modules: q_proj does not exist there", () => {
  const yaml = config('microsoft/Phi-3-mini-4k-instruct', '[q_proj, qkv_proj]');
  const [hit, ...rest] = findings('lora-target-unknown', yaml);
  assert.deepEqual(rest, []);
  assert.equal(textAt(yaml, hit.range), 'q_proj');
  assert.match(hit.message, /qkv_proj, o_proj, gate_up_proj, down_proj/);
});

test('a plain single string is a regex for peft and matches nothing', () => {
  const yaml = config(LLAMA, 'q_proj');
  const [hit] = findings('lora-target-unknown', yaml);
  assert.equal(textAt(yaml, hit.range), 'q_proj');
  assert.match(hit.message, /regular expression/);
  assert.match(hit.message, /\[q_proj\]/);
});

test('all-linear inside a list fires with its own message', () => {
  const yaml = config(LLAMA, '[all-linear]');
  const [hit] = findings('lora-target-unknown', yaml);
  assert.equal(textAt(yaml, hit.range), 'all-linear');
  assert.match(hit.message, /only works as the whole value/);
});

test('a regex inside a list is matched literally by peft and fires', () => {
  const yaml = config(LLAMA, "[q_proj, '.*down_proj']");
  const [hit, ...rest] = findings('lora-target-unknown', yaml);
  assert.deepEqual(rest, []);
  assert.equal(textAt(yaml, hit.range), "'.*down_proj'");
  assert.match(hit.message, /looks like a regular expression/);
});

test('near misses stay silent', () => {
  for (const targets of [
    'all-linear',
    '[q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj]',
    '[self_attn.q_proj, mlp.down_proj, lm_head, embed_tokens]',
    "'.*\\.(q_proj|v_proj)'",
    'lm_head',
  ]) {
    assert.deepEqual(findings('lora-target-unknown', config(LLAMA, targets)), [], targets);
  }
  // Mixtral's experts and router.
  assert.deepEqual(
    findings(
      'lora-target-unknown',
      config('mistralai/Mixtral-8x7B-v0.1', '[q_proj, w1, w2, w3, gate]'),
    ),
    [],
  );
  // Unknown architecture: cannot decide.
  assert.deepEqual(
    findings('lora-target-unknown', config('acme/unknown-7b', '[query_key_value]')),
    [],
  );
  // Full fine-tuning has no adapter.
  assert.deepEqual(
    findings(
      'lora-target-unknown',
      config(LLAMA, '[query_key_value]').replace('method: lora', 'method: full'),
    ),
    [],
  );
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyFix, findings, textAt } from '../testing';

const config = (lora: string) => `method: lora
model:
  name_or_path: meta-llama/Llama-3.1-8B
lora:
  r: 16
  lora_alpha: 32
${lora}
data:
  max_length: 2048
`;

test('a flow list of attention projections fires on the list; the fix sets all-linear', () => {
  const yaml = config('  target_modules: [q_proj, v_proj]  # attention');
  const [hit] = findings('lora-target-modules', yaml);
  assert.equal(hit.severity, 'warning');
  assert.equal(textAt(yaml, hit.range), '[q_proj, v_proj]');
  assert.match(hit.message, /attention only \(q_proj, v_proj\)/);
  const fixed = applyFix(yaml, hit);
  assert.match(fixed, /\n {2}target_modules: all-linear {2}# attention\n/);
  assert.deepEqual(findings('lora-target-modules', fixed), []);
});

test('a block list of dotted attention names fires; the fix replaces the whole block', () => {
  const yaml = config(
    '  target_modules:\n    - self_attn.q_proj\n    - k_proj\n    - v_proj\n    - o_proj\n  lora_dropout: 0.05',
  );
  const [hit] = findings('lora-target-modules', yaml);
  assert.equal(textAt(yaml, hit.range).trim().split('\n')[0], '- self_attn.q_proj');
  const fixed = applyFix(yaml, hit);
  assert.match(fixed, /\n {2}target_modules: all-linear\n {2}lora_dropout: 0\.05\ndata:\n/);
  assert.deepEqual(findings('lora-target-modules', fixed), []);
});

test('missing target_modules fires on the lora key; the fix adds all-linear', () => {
  const yaml = config('  lora_dropout: 0.05');
  const [hit] = findings('lora-target-modules', yaml);
  assert.equal(textAt(yaml, hit.range), 'lora');
  assert.match(hit.message, /missing/);
  const fixed = applyFix(yaml, hit);
  assert.match(fixed, /\n {2}lora_dropout: 0\.05\n {2}target_modules: all-linear\n/);
  assert.deepEqual(findings('lora-target-modules', fixed), []);
});

test('near misses stay silent', () => {
  for (const line of [
    '  target_modules: all-linear',
    '  target_modules: [q_proj, v_proj, gate_proj]',
    '  target_modules: [q_proj, k_proj, v_proj, o_proj, up_proj, down_proj]',
    // A regular expression string is not judged.
    "  target_modules: '.*\\.(q_proj|v_proj)'",
    // Not a causal-LM generation task.
    '  target_modules: [q_proj, v_proj]\n  task_type: SEQ_CLS',
  ]) {
    assert.deepEqual(findings('lora-target-modules', config(line)), [], line);
  }
  // Explicit causal LM still fires.
  assert.equal(
    findings('lora-target-modules', config('  target_modules: [q_proj]\n  task_type: CAUSAL_LM'))
      .length,
    1,
  );
  assert.deepEqual(
    findings('lora-target-modules', 'method: full\nmodel:\n  name_or_path: x\n'),
    [],
  );
});

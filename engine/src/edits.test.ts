import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyTextEdits, removeKey, replaceValue, setKey, yamlScalar } from './edits';
import { parseYaml } from './parse';

const BASE = `# comment stays
method: lora   # why lora
lora:
  r: 16        # rank
  lora_alpha: 8
training:
  learning_rate: 1e-5
`;

function apply(text: string, edits: ReturnType<typeof setKey>): string {
  return applyTextEdits(text, edits);
}

test('replaceValue keeps comments and layout', () => {
  const parsed = parseYaml(BASE);
  const out = apply(BASE, replaceValue(parsed, ['lora', 'lora_alpha'], '32'));
  assert.equal(out, BASE.replace('lora_alpha: 8', 'lora_alpha: 32'));
});

test('setKey adds a key at the section indentation after its last entry', () => {
  const parsed = parseYaml(BASE);
  const out = apply(BASE, setKey(parsed, ['training'], 'warmup_ratio', '0.03'));
  assert.equal(
    out,
    BASE.replace('learning_rate: 1e-5\n', 'learning_rate: 1e-5\n  warmup_ratio: 0.03\n'),
  );
  assert.deepEqual(parseYaml(out).findings, []);
});

test('setKey replaces an existing value', () => {
  const parsed = parseYaml(BASE);
  const out = apply(BASE, setKey(parsed, ['lora'], 'r', '8'));
  assert.match(out, /\n {2}r: 8 {8}# rank\n/);
});

test('setKey creates a missing section at the end of the file', () => {
  const parsed = parseYaml(BASE);
  const out = apply(BASE, setKey(parsed, ['data'], 'max_length', '2048'));
  assert.ok(out.endsWith('learning_rate: 1e-5\ndata:\n  max_length: 2048\n'), out);
  const top = apply(BASE, setKey(parsed, [], 'prepare_model_for_kbit_training', 'true'));
  assert.ok(top.endsWith('\nprepare_model_for_kbit_training: true\n'));
});

test('setKey creates a nested missing section under an existing one', () => {
  const text = 'method: full\nlaunch:\n  target: local\n';
  const out = apply(
    text,
    setKey(parseYaml(text), ['launch', 'distributed'], 'backend', 'deepspeed'),
  );
  assert.equal(
    out,
    'method: full\nlaunch:\n  target: local\n  distributed:\n    backend: deepspeed\n',
  );
});

test('setKey fills an empty section and a flow mapping', () => {
  const empty = 'lora:\ntraining: {}\n';
  const out = apply(empty, setKey(parseYaml(empty), ['lora'], 'r', '16'));
  assert.equal(out, 'lora:\n  r: 16\ntraining: {}\n');
  const out2 = apply(empty, setKey(parseYaml(empty), ['training'], 'bf16', 'true'));
  assert.equal(out2, 'lora:\ntraining:\n  bf16: true\n');
  const flow = 'data: { train_file: a.jsonl }\n';
  const out3 = apply(flow, setKey(parseYaml(flow), ['data'], 'max_length', '2048'));
  assert.equal(out3, 'data: { train_file: a.jsonl, max_length: 2048 }\n');
});

test('removeKey deletes the entry lines', () => {
  const parsed = parseYaml(BASE);
  const out = apply(BASE, removeKey(parsed, ['lora', 'lora_alpha']));
  assert.equal(out, BASE.replace('  lora_alpha: 8\n', ''));
});

test('yamlScalar writes values as people do', () => {
  assert.equal(yamlScalar(2e-4), '2.0e-4');
  assert.equal(yamlScalar(2e-5), '2.0e-5');
  assert.equal(yamlScalar(0.03), '0.03');
  assert.equal(yamlScalar(32), '32');
  assert.equal(yamlScalar('all-linear'), 'all-linear');
  assert.equal(yamlScalar('yes'), '"yes"');
});

test('setKey on an empty value or a block list puts the scalar on the key line', () => {
  const empty = 'training:\n  max_grad_norm:\n  bf16: true\n';
  assert.equal(
    apply(empty, setKey(parseYaml(empty), ['training'], 'max_grad_norm', '1.0')),
    'training:\n  max_grad_norm: 1.0\n  bf16: true\n',
  );
  const block = 'lora:\n  target_modules:\n    - q_proj\n    - v_proj\n  r: 8\n';
  assert.equal(
    apply(block, setKey(parseYaml(block), ['lora'], 'target_modules', 'all-linear')),
    'lora:\n  target_modules: all-linear\n  r: 8\n',
  );
});

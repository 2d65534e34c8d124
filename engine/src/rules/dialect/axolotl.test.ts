import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyFix, findings, textAt } from '../testing';

const AX = { fileName: '/virtual/axolotl.yml' };

const chat = (extra = '') => `base_model: meta-llama/Llama-3.1-8B
adapter: lora
lora_r: 16
lora_alpha: 32
lora_target_linear: true
datasets:
  - path: data/chats.jsonl
    type: chat_template
${extra}micro_batch_size: 4
gradient_accumulation_steps: 8
learning_rate: 0.0002
`;

test('axolotl-chat-template-missing: chat datasets on a base model without chat_template', () => {
  const yaml = chat();
  const [hit] = findings('axolotl-chat-template-missing', yaml, AX);
  assert.equal(hit.severity, 'warning');
  assert.equal(textAt(yaml, hit.range), 'chat_template');
  assert.equal(hit.range.start.line, 7);
  assert.match(hit.message, /tokenizer_default/);
  assert.match(hit.message, /loss is 0/);
  const fixed = applyFix(yaml, hit);
  assert.match(fixed, /\nchat_template: llama3\n$/);
  assert.deepEqual(findings('axolotl-chat-template-missing', fixed, AX), []);
});

test('axolotl-chat-template-missing: an explicit tokenizer_default on a base model is reported on it', () => {
  const yaml = chat('chat_template: tokenizer_default\n');
  const [hit] = findings('axolotl-chat-template-missing', yaml, AX);
  assert.equal(textAt(yaml, hit.range), 'tokenizer_default');
  assert.equal(applyFix(yaml, hit).includes('chat_template: llama3\n'), true);
});

test('axolotl-chat-template-missing: silent for instruct models, named templates and other types', () => {
  assert.deepEqual(
    findings('axolotl-chat-template-missing', chat().replace('3.1-8B', '3.1-8B-Instruct'), AX),
    [],
  );
  assert.deepEqual(
    findings('axolotl-chat-template-missing', chat('chat_template: llama3\n'), AX),
    [],
  );
  assert.deepEqual(
    findings(
      'axolotl-chat-template-missing',
      chat().replace('type: chat_template', 'type: alpaca'),
      AX,
    ),
    [],
  );
  const perDataset = chat().replace(
    'type: chat_template',
    'type: chat_template\n    chat_template: llama3',
  );
  assert.deepEqual(findings('axolotl-chat-template-missing', perDataset, AX), []);
});

test('axolotl-eval-sample-packing: packing with an eval split and no eval_sample_packing', () => {
  const yaml = chat('chat_template: llama3\nsample_packing: true\nval_set_size: 0.05\n');
  const [hit] = findings('axolotl-eval-sample-packing', yaml, AX);
  assert.equal(hit.severity, 'warning');
  assert.equal(textAt(yaml, hit.range), 'true');
  assert.match(hit.message, /val_set_size: 0\.05/);
  const fixed = applyFix(yaml, hit);
  assert.match(fixed, /eval_sample_packing: false\n$/);
  assert.deepEqual(findings('axolotl-eval-sample-packing', fixed, AX), []);
});

test('axolotl-eval-sample-packing: silent without eval, without packing, or when set', () => {
  const base = 'chat_template: llama3\nsample_packing: true\n';
  assert.deepEqual(findings('axolotl-eval-sample-packing', chat(base), AX), []);
  assert.deepEqual(
    findings('axolotl-eval-sample-packing', chat(`${base}val_set_size: 0\n`), AX),
    [],
  );
  assert.deepEqual(
    findings(
      'axolotl-eval-sample-packing',
      chat(`${base}val_set_size: 0.1\neval_sample_packing: true\n`),
      AX,
    ),
    [],
  );
  assert.deepEqual(
    findings(
      'axolotl-eval-sample-packing',
      chat(`${base}val_set_size: 0.1\neval_strategy: "no"\n`),
      AX,
    ),
    [],
  );
  const tests = chat(`${base}test_datasets:\n  - path: data/eval.jsonl\n    type: chat_template\n`);
  assert.equal(findings('axolotl-eval-sample-packing', tests, AX).length, 1);
});

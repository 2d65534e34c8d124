import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { applyFix, findings, textAt } from '../testing';

const config = (model: string, data: string) => `method: lora
model:
  name_or_path: ${model}
lora:
  r: 16
  lora_alpha: 32
data:
  train_file: data/train.jsonl
${data}  max_length: 2048
`;

test("base model, messages, no chat_template: warning on the data key; the fix sets the family's template", () => {
  const yaml = config('meta-llama/Llama-3.1-8B', '  format: messages\n');
  const [hit] = findings('chat-template-missing', yaml);
  assert.equal(hit.severity, 'warning');
  assert.equal(textAt(yaml, hit.range), 'data');
  assert.match(hit.message, /^Llama 3\.1 8B is a base model and `data\.chat_template` is not set/);
  assert.match(hit.message, /Set `chat_template: llama-3`, the model family's template/);
  const fixed = applyFix(yaml, hit);
  assert.match(fixed, /\n {2}max_length: 2048\n {2}chat_template: llama-3\n$/);
  assert.deepEqual(findings('chat-template-missing', fixed), []);
  assert.deepEqual(findings('chat-template-mismatch', fixed), []);
});

test('format defaults to messages; a Qwen base model gets chatml', () => {
  const yaml = config('Qwen/Qwen2.5-7B', '');
  const [hit] = findings('chat-template-missing', yaml);
  assert.match(hit.message, /`chat_template: chatml`/);
  assert.deepEqual(findings('chat-template-missing', applyFix(yaml, hit)), []);
});

test('`chat_template: model` on a base model fires too, on the value', () => {
  const yaml = config('mistralai/Mistral-7B-v0.3', '  chat_template: model\n');
  const [hit] = findings('chat-template-missing', yaml);
  assert.equal(textAt(yaml, hit.range), 'model');
  assert.match(
    hit.message,
    /`chat_template: model` uses the tokenizer's own template, but Mistral 7B v0\.3 is a base model/,
  );
  const fixed = applyFix(yaml, hit);
  assert.match(fixed, /chat_template: mistral\n/);
  assert.deepEqual(findings('chat-template-missing', fixed), []);
});

test('a family the runner has no built-in template for (Llama 2): no quick fix, Jinja advice', () => {
  const [hit] = findings('chat-template-missing', config('meta-llama/Llama-2-7b-hf', ''));
  assert.equal(hit.fixes, undefined);
  assert.match(hit.message, /as a Jinja string \(the runner has no built-in llama-2 template\)/);
});

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tunelab-template-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test('a local base model with no template and no known family: the fix sets chatml', () => {
  const dir = path.join(tmp, 'my-base');
  fs.mkdirSync(dir);
  fs.writeFileSync(
    path.join(dir, 'config.json'),
    JSON.stringify({
      model_type: 'llama',
      hidden_size: 1024,
      num_hidden_layers: 7,
      num_attention_heads: 16,
      num_key_value_heads: 16,
      intermediate_size: 2816,
      vocab_size: 32000,
    }),
  );
  const yaml = config('./my-base', '  format: messages\n');
  const fileName = path.join(tmp, 'run.finetune.yaml');
  const [hit] = findings('chat-template-missing', yaml, { fileName });
  assert.match(hit.message, /my-base is a base model/);
  assert.match(hit.message, /Set `chat_template: chatml`, and use the same/);
  const fixed = applyFix(yaml, hit);
  assert.deepEqual(findings('chat-template-missing', fixed, { fileName }), []);
  assert.deepEqual(findings('chat-template-mismatch', fixed, { fileName }), []);
});

test('near misses: instruct model, other formats, a named or Jinja template, unknown model', () => {
  const silent: [string, string][] = [
    ['meta-llama/Llama-3.1-8B-Instruct', ''],
    ['meta-llama/Llama-3.1-8B-Instruct', '  chat_template: model\n'],
    ['meta-llama/Llama-3.1-8B', '  format: prompt_completion\n'],
    ['meta-llama/Llama-3.1-8B', '  format: text\n'],
    ['meta-llama/Llama-3.1-8B', '  chat_template: llama-3\n'],
    ['meta-llama/Llama-3.1-8B', '  chat_template: chatml\n'],
    [
      'meta-llama/Llama-3.1-8B',
      "  chat_template: '{% for m in messages %}{{ m.content }}{% endfor %}'\n",
    ],
    ['acme/unknown-7b', ''],
  ];
  for (const [model, data] of silent) {
    assert.deepEqual(
      findings('chat-template-missing', config(model, data)),
      [],
      `${model} ${data}`,
    );
  }
});

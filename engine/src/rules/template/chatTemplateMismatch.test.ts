import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { applyFix, findings, textAt } from '../testing';

const config = (model: string, template: string) => `method: lora
model:
  name_or_path: ${model}
lora:
  r: 16
  lora_alpha: 32
data:
  train_file: data/train.jsonl
  chat_template: ${template}
  max_length: 2048
`;

test('llama-3 on a Qwen instruct model: error on the value; fixes set chatml (preferred) or model', () => {
  const yaml = config('Qwen/Qwen2.5-7B-Instruct', 'llama-3   # copied from a Llama config');
  const [hit] = findings('chat-template-mismatch', yaml);
  assert.equal(hit.severity, 'error');
  assert.equal(textAt(yaml, hit.range), 'llama-3');
  assert.match(
    hit.message,
    /^`chat_template: llama-3` is the Llama 3 format .* but Qwen2\.5 7B Instruct uses ChatML/,
  );
  assert.match(hit.message, /loses what it learned about turns/);
  assert.match(hit.message, /Set `chat_template: chatml` \(or `model`\)\.$/);
  assert.deepEqual(
    hit.fixes?.map((f) => [f.title, f.preferred]),
    [
      ['Set `chat_template: chatml`', true],
      ["Use the tokenizer's own template (`chat_template: model`)", false],
    ],
  );
  const fixed = applyFix(yaml, hit);
  assert.match(fixed, /chat_template: chatml {3}# copied from a Llama config\n/);
  assert.deepEqual(findings('chat-template-mismatch', fixed), []);
  assert.deepEqual(findings('chat-template-mismatch', applyFix(yaml, hit, 1)), []);
});

test('chatml on a Llama 3 base model: the special tokens are not in its vocabulary; one fix', () => {
  const yaml = config('meta-llama/Llama-3.1-8B', 'chatml');
  const [hit] = findings('chat-template-mismatch', yaml);
  assert.match(hit.message, /not in this model's vocabulary/);
  assert.equal(hit.fixes?.length, 1);
  const fixed = applyFix(yaml, hit);
  assert.match(fixed, /chat_template: llama-3\n/);
  assert.deepEqual(findings('chat-template-mismatch', fixed), []);
  assert.deepEqual(findings('chat-template-missing', fixed), []);
});

test('Mistral and Llama 2 are told apart; families without a runner template fall back to `model`', () => {
  const mistral = config('mistralai/Mistral-7B-Instruct-v0.3', 'llama-2');
  const [hit] = findings('chat-template-mismatch', mistral);
  assert.match(applyFix(mistral, hit), /chat_template: mistral\n/);

  const llama2 = config('meta-llama/Llama-2-7b-chat-hf', 'chatml');
  const [chat] = findings('chat-template-mismatch', llama2);
  assert.match(chat.message, /Set `chat_template: model`\.$/);
  assert.deepEqual(
    chat.fixes?.map((f) => f.preferred),
    [true],
  );
  assert.deepEqual(findings('chat-template-mismatch', applyFix(llama2, chat)), []);

  const [base] = findings('chat-template-mismatch', config('meta-llama/Llama-2-7b-hf', 'gemma'));
  assert.equal(base.fixes, undefined);
  assert.match(base.message, /Give the family's template as a Jinja string\.$/);
});

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tunelab-mismatch-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test('near misses: the family template, model, Jinja, unknown model, a model of no known family', () => {
  const silent: [string, string][] = [
    ['Qwen/Qwen2.5-7B-Instruct', 'chatml'],
    ['Qwen/Qwen2.5-7B-Instruct', 'model'],
    ['meta-llama/Llama-3.1-8B-Instruct', 'llama-3'],
    ['google/gemma-2-9b-it', 'gemma'],
    ['meta-llama/Llama-2-7b-chat-hf', 'llama-2'],
    ['Qwen/Qwen2.5-7B-Instruct', "'{% for m in messages %}<|start_header_id|>{% endfor %}'"],
    ['acme/unknown-7b', 'llama-3'],
  ];
  for (const [model, template] of silent) {
    assert.deepEqual(
      findings('chat-template-mismatch', config(model, template)),
      [],
      `${model} ${template}`,
    );
  }
  const dir = path.join(tmp, 'my-base');
  fs.mkdirSync(dir);
  fs.writeFileSync(
    path.join(dir, 'config.json'),
    JSON.stringify({
      model_type: 'llama',
      hidden_size: 1024,
      num_hidden_layers: 7,
      num_attention_heads: 16,
      intermediate_size: 2816,
      vocab_size: 32000,
    }),
  );
  const fileName = path.join(tmp, 'run.finetune.yaml');
  assert.deepEqual(
    findings('chat-template-mismatch', config('./my-base', 'llama-3'), { fileName }),
    [],
  );
  // (The local model does resolve: as a base model, `model` is reported by chat-template-missing.)
  assert.equal(
    findings('chat-template-missing', config('./my-base', 'model'), { fileName }).length,
    1,
  );
});

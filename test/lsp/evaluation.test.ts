// The `evaluation:` section through the real server: hover documents its keys
// from the schema, completion offers them in order with their docs and enum
// values, and its rules arrive as diagnostics with a working quick fix.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { MarkupContent } from 'vscode-languageserver-protocol';
import { applyEdits, fileUri, LspTestClient } from './client';

let client: LspTestClient;
before(async () => {
  client = await LspTestClient.start();
});
after(async () => {
  await client.stop();
});

const CONFIG = `method: full
model:
  name_or_path: meta-llama/Llama-3.2-1B
data:
  train_file: data/train.jsonl
  eval_file: data/eval.jsonl
  general_data: { file: data/general.jsonl, ratio: 0.05 }
evaluation:
  when: end
  task:
    max_samples: 50
    metrics: [exact_match, chrf]
  generation:
    max_new_tokens: 256
  forgetting:
    threshold: 0.05
`;

function lineOf(text: string, needle: string): number {
  const index = text.split('\n').findIndex((l) => l.includes(needle));
  assert.ok(index >= 0, needle);
  return index;
}

async function hoverText(uri: string, needle: string, character: number): Promise<string> {
  const hover = await client.hover(uri, lineOf(CONFIG, needle), character);
  return (hover?.contents as MarkupContent | undefined)?.value ?? '';
}

test('hover on evaluation keys shows their documentation, type and default', async () => {
  const uri = fileUri('/tmp/eval-hover.finetune.yaml');
  client.open(uri, CONFIG);
  const section = await hoverText(uri, 'evaluation:', 2);
  assert.match(section, /\*\*`evaluation`\*\* · object/);
  assert.match(section, /forgetting check/);
  const when = await hoverText(uri, 'when: end', 3);
  assert.match(
    when,
    /\*\*`evaluation\.when`\*\*.*"end" \| "every_eval" \| "on_demand".*default `"end"`/,
  );
  const threshold = await hoverText(uri, 'threshold:', 6);
  assert.match(
    threshold,
    /\*\*`evaluation\.forgetting\.threshold`\*\* · number > 0 · default `0\.05`/,
  );
  assert.match(threshold, /bits per byte/);
  const metrics = await hoverText(uri, 'metrics:', 6);
  assert.match(metrics, /list of "exact_match" \| "chrf" \| "bleu" \| "rouge_l"/);
  assert.match(metrics, /sacrebleu/);
  // On a value, the key that holds it is documented.
  const tokens = await hoverText(uri, 'max_new_tokens', 22);
  assert.match(
    tokens,
    /\*\*`evaluation\.generation\.max_new_tokens`\*\* · integer ≥ 1 · default `256`/,
  );
});

test('completion offers the evaluation keys in order, with docs, and the values of `when`', async () => {
  const uri = fileUri('/tmp/eval-complete.finetune.yaml');
  const text = 'method: lora\nmodel:\n  name_or_path: x\nevaluation:\n  when: \n  \n';
  client.open(uri, text);
  const keys = await client.completion(uri, 5, 2);
  assert.deepEqual(
    keys.map((i) => i.label),
    ['task', 'generation', 'forgetting', 'lm_eval'],
  );
  const forgetting = keys.find((i) => i.label === 'forgetting')!;
  assert.match((forgetting.documentation as MarkupContent).value, /base model/);
  const values = await client.completion(uri, 4, 8);
  assert.deepEqual(
    values.map((i) => i.label),
    ['end', 'every_eval', 'on_demand'],
  );

  const nested = 'method: lora\nmodel:\n  name_or_path: x\nevaluation:\n  forgetting:\n    \n';
  const nestedUri = fileUri('/tmp/eval-complete-nested.finetune.yaml');
  client.open(nestedUri, nested);
  const forgettingKeys = (await client.completion(nestedUri, 5, 4)).map((i) => i.label);
  assert.deepEqual(forgettingKeys, ['file', 'max_samples', 'threshold']);
});

test('the evaluation rules arrive as diagnostics; the forgetting quick fix is offered', async () => {
  const uri = fileUri('/tmp/eval-rules.finetune.yaml');
  const text = `method: full
model:
  name_or_path: meta-llama/Llama-3.2-1B
data:
  train_file: data/train.jsonl
  general_data: { file: data/general.jsonl, ratio: 0.05 }
evaluation:
  task:
    metrics: [json_schema]
`;
  client.open(uri, text);
  const diagnostics = await client.diagnosticsFor(uri, 1);
  const codes = diagnostics.map((d) => d.code);
  for (const code of [
    'evaluation-task-no-eval-file',
    'json-schema-metric-without-schema',
    'forgetting-check-missing',
  ])
    assert.ok(codes.includes(code), `${code} in ${codes.join(', ')}`);
  const noEval = diagnostics.find((d) => d.code === 'evaluation-task-no-eval-file')!;
  assert.equal(noEval.range.start.line, lineOf(text, 'task:'));
  assert.match(String(noEval.codeDescription?.href), /rules\.md#evaluation-task-no-eval-file$/);
  const forgetting = diagnostics.find((d) => d.code === 'forgetting-check-missing')!;
  const actions = await client.codeActions(uri, forgetting.range, [forgetting]);
  const fix = actions.find((a) => a.title === "Check forgetting on 'data/general.jsonl'");
  assert.ok(fix?.edit?.changes?.[uri], JSON.stringify(actions));
  assert.equal(fix.isPreferred, true);
  const fixed = applyEdits(text, fix.edit.changes[uri]);
  assert.match(fixed, /\n {2}forgetting:\n {4}file: data\/general\.jsonl/);
  const version = client.change(uri, fixed);
  const after = await client.diagnosticsFor(uri, version);
  assert.ok(!after.some((d) => d.code === 'forgetting-check-missing'));
});

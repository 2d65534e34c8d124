import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findings, textAt } from '../testing';

const CODE = 'json-schema-metric-without-schema';
const LORA =
  'method: lora\nmodel:\n  name_or_path: meta-llama/Llama-3.2-1B\nlora:\n  r: 8\ndata:\n  train_file: a.jsonl\n  eval_file: e.jsonl\n';

test('json_schema metric without task.json_schema: an error on the metric in the list', () => {
  const yaml = `${LORA}evaluation:\n  task:\n    metrics: [exact_match, json_schema]\n`;
  const [hit] = findings(CODE, yaml);
  assert.equal(hit.severity, 'error');
  assert.equal(textAt(yaml, hit.range), 'json_schema');
  assert.equal(
    hit.range.start.line,
    yaml.split('\n').findIndex((l) => l.includes('metrics')),
  );
  assert.match(hit.message, /json_valid/);
});

test('near misses: the schema given; json_valid alone; default metrics', () => {
  assert.deepEqual(
    findings(
      CODE,
      `${LORA}evaluation:\n  task:\n    metrics: [json_schema]\n    json_schema: reply.schema.json\n`,
    ),
    [],
  );
  assert.deepEqual(findings(CODE, `${LORA}evaluation:\n  task:\n    metrics: [json_valid]\n`), []);
  assert.deepEqual(findings(CODE, `${LORA}evaluation:\n  task: {}\n`), []);
});

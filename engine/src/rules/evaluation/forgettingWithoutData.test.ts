import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findings, textAt } from '../testing';

const CODE = 'forgetting-without-data';
const FULL = 'method: full\nmodel:\n  name_or_path: meta-llama/Llama-3.2-1B\n';

test('forgetting with neither file nor general data: an error on the forgetting key', () => {
  const yaml = `${FULL}data:\n  train_file: a.jsonl\nevaluation:\n  forgetting:\n    threshold: 0.05\n`;
  const [hit] = findings(CODE, yaml);
  assert.equal(hit.severity, 'error');
  assert.equal(textAt(yaml, hit.range), 'forgetting');
  assert.match(hit.message, /no data to measure on/);
});

test('an empty forgetting mapping is reported too', () => {
  const yaml = `${FULL}evaluation:\n  forgetting: {}\n`;
  assert.equal(findings(CODE, yaml).length, 1);
});

test('near misses: its own file; the general data it defaults to; no forgetting section', () => {
  assert.deepEqual(
    findings(CODE, `${FULL}evaluation:\n  forgetting: { file: held-out.jsonl }\n`),
    [],
  );
  assert.deepEqual(
    findings(
      CODE,
      `${FULL}data:\n  train_file: a.jsonl\n  general_data: { file: g.jsonl }\nevaluation:\n  forgetting: { threshold: 0.1 }\n`,
    ),
    [],
  );
  assert.deepEqual(findings(CODE, `${FULL}evaluation:\n  when: end\n`), []);
});

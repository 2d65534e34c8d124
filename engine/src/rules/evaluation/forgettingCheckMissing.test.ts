import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyFix, findings, textAt } from '../testing';

const CODE = 'forgetting-check-missing';
const FULL = 'method: full\nmodel:\n  name_or_path: meta-llama/Llama-3.2-1B\n';

test('full with general data and no forgetting check: the fix adds evaluation.forgetting.file', () => {
  const yaml = `${FULL}data:\n  train_file: a.jsonl\n  general_data: { file: data/general.jsonl, ratio: 0.05 }\n`;
  const [hit] = findings(CODE, yaml);
  assert.equal(hit.severity, 'info');
  assert.equal(textAt(yaml, hit.range), 'full');
  assert.match(hit.message, /`data\/general\.jsonl`/);
  const fixed = applyFix(yaml, hit);
  assert.match(fixed, /\nevaluation:\n {2}forgetting:\n {4}file: data\/general\.jsonl\n?$/);
  assert.deepEqual(findings(CODE, fixed), []);
  // The fixed config is consistent: no new schema or evaluation finding.
  assert.deepEqual(
    findings('schema-unknown-key', fixed).concat(findings('forgetting-without-data', fixed)),
    [],
  );
});

test('an existing evaluation section: on its key, the fix adds forgetting inside it', () => {
  const yaml = `${FULL}data:\n  train_file: a.jsonl\n  general_data: { file: g.jsonl }\nevaluation:\n  when: end\n`;
  const [hit] = findings(CODE, yaml);
  assert.equal(textAt(yaml, hit.range), 'evaluation');
  const fixed = applyFix(yaml, hit);
  assert.match(fixed, /evaluation:\n {2}when: end\n {2}forgetting:\n {4}file: g\.jsonl/);
});

test('without general data: no fix, the message says what to add', () => {
  const yaml = `${FULL}data:\n  train_file: a.jsonl\n`;
  const [hit] = findings(CODE, yaml);
  assert.equal(hit.fixes, undefined);
  assert.match(hit.message, /evaluation: \{ forgetting: \{ file: data\/general\.jsonl \} \}/);
});

test('near misses: a forgetting check given; LoRA', () => {
  assert.deepEqual(
    findings(
      CODE,
      `${FULL}data:\n  train_file: a.jsonl\nevaluation:\n  forgetting: { file: g.jsonl }\n`,
    ),
    [],
  );
  assert.deepEqual(
    findings(
      CODE,
      'method: lora\nmodel:\n  name_or_path: x\nlora:\n  r: 8\ndata:\n  train_file: a.jsonl\n',
    ),
    [],
  );
});

// The estimate names where its token counts come from, and stands on them:
// the whole runs' tokenizer (a local model directory with tokenizer.json)
// counts the telecom chats as the runner did; a catalog model without a
// tokenizer on disk falls back to chars-per-token 3.6.

import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { analyze } from '../engine';
import {
  buildEstimateReport,
  estimateJson,
  estimateMarkdown,
  estimateText,
} from './estimateReport';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const TOKENIZER_DIR = path.join(ROOT, 'runner', 'bench', 'results', 'whole-runs-tokenizer');
const TEMPLATE_DIR = path.join(ROOT, 'templates', 'telecom-support');

const config = (model: string) => `method: lora
model:
  name_or_path: ${model}
data:
  train_file: data/train.jsonl
  format: messages
  chat_template: llama-3
  max_length: 2048
  packing: false
training:
  per_device_train_batch_size: 4
hardware:
  gpu: H100-80GB
`;

const reportOf = (model: string) => {
  const analysis = analyze(config(model), path.join(TEMPLATE_DIR, 'tokens.finetune.yaml'));
  const report = buildEstimateReport(analysis);
  assert.ok(report, analysis.findings.map((f) => f.code).join(', '));
  return report;
};

test('with the model’s tokenizer, the estimate says so and uses its counts', () => {
  const report = reportOf(TOKENIZER_DIR);
  const source = `tokenizer: ${path.join(TOKENIZER_DIR, 'tokenizer.json')}`;
  assert.equal(report.tokenSource, source);
  const json = estimateJson(report);
  assert.equal(json.token_source, source);
  // Unpacked: rows padded to the longest, 552 tokens as the runner counted it.
  assert.equal(json.tokens_per_micro_batch, 4 * 552);
  assert.equal(report.tokensPerEpoch, 424_045);
  assert.match(
    estimateText(report),
    new RegExp(`token counts: ${source.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`),
  );
  assert.match(estimateMarkdown(report, true), /Token counts: tokenizer: /);
});

test('without one, chars-per-token 3.6', () => {
  const report = reportOf('meta-llama/Llama-3.2-1B');
  assert.equal(report.tokenSource, 'chars-per-token 3.6');
  assert.equal(estimateJson(report).token_source, 'chars-per-token 3.6');
  assert.match(estimateText(report), /token counts: chars-per-token 3\.6/);
});

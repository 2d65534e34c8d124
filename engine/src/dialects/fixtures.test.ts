// The example configs of each tool (written after their documented examples)
// and every finding Tunelab reports on them, with the text under its range.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { analyze } from '../engine';
import { textAt } from '../rules/testing';

const FIXTURES = path.resolve(__dirname, '../../../test/fixtures/dialects');

const EXPECTED: Record<string, [string, number, string][]> = {
  'axolotl-qlora.yml': [
    ['deprecated-key', 29, 'flash_attention'],
    ['schema-unknown-key', 32, 'lora_rank'],
    ['lora-alpha-ratio', 8, '16'],
    ['effective-batch-size', 21, '4'],
    ['axolotl-eval-sample-packing', 19, 'true'],
  ],
  'llamafactory-lora.yaml': [
    ['schema-unknown-key', 35, 'max_seq_length'],
    ['lora-target-modules', 10, 'q_proj,v_proj,o_proj'],
    ['effective-batch-size', 28, '8'],
    ['chat-template-mismatch', 14, 'qwen'],
    ['eval-split-missing', 13, 'dataset'],
    ['llamafactory-lora-alpha-default', 9, '8'],
  ],
  'trl-sft.yaml': [
    ['removed-key', 12, 'max_seq_length'],
    ['lora-target-modules', 6, '[q_proj, v_proj]'],
    ['warmup', 7, 'learning_rate'],
    ['qlora-compute-dtype', 5, 'load_in_4bit'],
    ['qlora-optimizer', 7, 'learning_rate'],
    ['trl-max-length-default', 12, 'max_seq_length'],
  ],
};

for (const [name, expected] of Object.entries(EXPECTED)) {
  test(`${name}: the findings and their ranges`, () => {
    const file = path.join(FIXTURES, name);
    const text = fs.readFileSync(file, 'utf8');
    const analysis = analyze(text, file);
    const actual = analysis.findings.map((f) => [
      f.code,
      f.range.start.line + 1,
      textAt(text, f.range),
    ]);
    assert.deepEqual(actual, expected);
  });
}

test("messages speak the tool's keys", () => {
  const text = fs.readFileSync(path.join(FIXTURES, 'trl-sft.yaml'), 'utf8');
  const messages = analyze(text, '/x/trl-sft.yaml')
    .findings.map((f) => f.message)
    .join('\n');
  assert.match(messages, /`lora_target_modules` covers attention only/);
  assert.match(messages, /Set `dtype: bfloat16`/);
  assert.doesNotMatch(messages, /`target_modules|`bnb_4bit_compute_dtype/);
});

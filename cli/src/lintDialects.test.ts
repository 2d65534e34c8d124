// `tunelab lint` on configs of the other tools: the dialect in both outputs.

import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { formatJson, formatText, lintFile, type LintFileResult } from './lint';

const FIXTURES = path.resolve(__dirname, '../../test/fixtures');

function lint(name: string): LintFileResult {
  const result = lintFile(path.join(FIXTURES, name), {});
  assert.ok(!('error' in result));
  return result;
}

test("JSON output names each file's dialect", () => {
  const results = [
    lint('dialects/axolotl-qlora.yml'),
    lint('dialects/llamafactory-lora.yaml'),
    lint('dialects/trl-sft.yaml'),
    lint('spec-example.finetune.yaml'),
  ];
  const report = JSON.parse(formatJson(results)) as { files: { dialect: string }[] };
  assert.deepEqual(
    report.files.map((f) => f.dialect),
    ['axolotl', 'llamafactory', 'trl', 'native'],
  );
});

test("the text summary counts the other tools' configs; a native-only run keeps its line", () => {
  const text = formatText([lint('dialects/axolotl-qlora.yml'), lint('dialects/trl-sft.yaml')]);
  assert.match(
    text,
    /^2 configs checked \(1 Axolotl, 1 TRL\): \d+ errors?, \d+ warnings?, \d+ info$/m,
  );
  const lines = text.split('\n');
  assert.ok(
    lines.some((l) =>
      /axolotl-qlora\.yml:32:1 warning schema-unknown-key Unknown key `lora_rank`/.test(l),
    ),
  );
  assert.match(formatText([lint('spec-example.finetune.yaml')]), /^1 config checked: /m);
});

import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { textAt } from '../testing';
import { chatRow, rows, tempProject } from './testFiles';

const project = tempProject();
after(() => project.remove());

const config = (data: string) => `method: lora
model:
  name_or_path: meta-llama/Llama-3.1-8B-Instruct
lora:
  r: 16
  lora_alpha: 32
data:
${data}
  max_length: 2048
`;
const TRAIN = '  train_file: data/train.jsonl\n  format: messages';

test('a line that is not JSON: error on the path value naming the line and the count', () => {
  project.write('data/train.jsonl', rows(2) + '\n{"messages": [\n' + rows(3) + 'oops\n');
  const yaml = config(TRAIN);
  const [hit] = project.lint('data-format', yaml);
  assert.equal(hit.severity, 'error');
  assert.equal(textAt(yaml, hit.range), 'data/train.jsonl');
  assert.match(hit.message, /^`data\.train_file`: line 4 of `data\/train\.jsonl`: not valid JSON/);
  assert.match(hit.message, /2 of the 7 lines are bad\. The runner stops at such a line/);
});

test('a file that changes while open: each lint reads the current content', () => {
  project.write(
    'data/train.jsonl',
    rows(3) + '{"messages": [{"role": "user", "content": "hi"}]}\n',
  );
  const yaml = config(TRAIN);
  const [first] = project.lint('data-format', yaml);
  assert.match(first.message, /line 4 of .*: no `assistant` message/);
  project.write('data/train.jsonl', rows(4));
  assert.deepEqual(project.lint('data-format', yaml), []);
  project.write('data/train.jsonl', rows(1) + '{"messages": [{"role": "bot", "content": "x"}]}\n');
  const [second] = project.lint('data-format', yaml);
  assert.match(second.message, /line 2 of .*: message 1 has role "bot"/);
});

test('rows in another format than `data.format`', () => {
  project.write('data/train.jsonl', rows(5));
  const yaml = config('  train_file: data/train.jsonl\n  format: prompt_completion');
  const [hit] = project.lint('data-format', yaml);
  assert.match(
    hit.message,
    /line 1 of .*: no `prompt` field \(format: prompt_completion\)\. 5 of the 5 lines are bad\. Fix the data, or `data\.format` \(now `prompt_completion`\)/,
  );
});

test('eval and general data files: each reported on its own value; general data may mix formats', () => {
  project.write('data/train.jsonl', rows(3));
  project.write('data/eval.jsonl', rows(1) + '[]\n');
  project.write(
    'data/general.jsonl',
    '{"text": "plain"}\n' + chatRow() + '\n{"prompt": "p", "completion": "c"}\n',
  );
  const yaml = config(
    '  train_file: data/train.jsonl\n  eval_file: data/eval.jsonl\n  general_data:\n    file: data/general.jsonl\n    ratio: 0.05',
  );
  const hits = project.lint('data-format', yaml);
  assert.deepEqual(
    hits.map((h) => textAt(yaml, h.range)),
    ['data/eval.jsonl'],
  );
  assert.match(hits[0].message, /^`data\.eval_file`: line 2 .*: not a JSON object \(a list\)/);

  project.write('data/general.jsonl', '{"text": "plain"}\n{"body": "?"}\n');
  const [general] = project.lint('data-format', yaml).filter((h) => /general/.test(h.message));
  assert.equal(textAt(yaml, general.range), 'data/general.jsonl');
  assert.match(general.message, /line 2 .*: no `messages`, `prompt`\/`completion` or `text` field/);
});

test('an empty file is reported (the runner stops on it)', () => {
  project.write('data/train.jsonl', '\n\n');
  const [hit] = project.lint('data-format', config(TRAIN));
  assert.match(hit.message, /has no rows/);
});

test('near misses: valid rows (blank lines, CRLF, tool turns), a missing file', () => {
  const tool = JSON.stringify({
    messages: [
      { role: 'system', content: 'You are the support assistant.' },
      { role: 'user', content: 'Is my line down?' },
      { role: 'assistant', content: null, tool_calls: [{ function: { name: 'line_status' } }] },
      { role: 'tool', content: '{"status": "up"}' },
      { role: 'assistant', content: 'Your line is up.' },
    ],
  });
  project.write('data/train.jsonl', rows(2) + '\n\r\n' + tool + '\r\n' + chatRow());
  assert.deepEqual(project.lint('data-format', config(TRAIN)), []);
  assert.deepEqual(
    project.lint('data-format', config('  train_file: data/absent.jsonl')),
    [],
    'data-file-missing reports it',
  );
});

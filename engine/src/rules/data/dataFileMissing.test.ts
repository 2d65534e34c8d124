import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { summarizeData } from '../../data/inspect';
import { findings, textAt } from '../testing';
import { rows, tempProject } from './testFiles';

const project = tempProject();
after(() => project.remove());

const config = (data: string, extra = '') => `method: lora
model:
  name_or_path: meta-llama/Llama-3.1-8B-Instruct
lora:
  r: 16
  lora_alpha: 32
data:
${data}
  max_length: 2048
${extra}`;

test('a missing train file: error on the path value, naming where a relative path resolves', () => {
  const yaml = config('  train_file: data/missing.jsonl');
  const [hit] = project.lint('data-file-missing', yaml);
  assert.equal(hit.severity, 'error');
  assert.equal(textAt(yaml, hit.range), 'data/missing.jsonl');
  assert.match(hit.message, /^`data\.train_file`: `data\/missing\.jsonl` does not exist\./);
  assert.ok(hit.message.includes(path.join(project.dir, 'data', 'missing.jsonl')), hit.message);
});

test('eval and general data files are checked too, each on its own value', () => {
  project.write('data/train.jsonl', rows(3));
  const absent = path.join(project.dir, 'nowhere', 'general.jsonl');
  const yaml = config(
    `  train_file: data/train.jsonl\n  eval_file: data/eval.jsonl\n  general_data: { file: ${absent}, ratio: 0.05 }`,
  );
  const hits = project.lint('data-file-missing', yaml);
  assert.deepEqual(
    hits.map((h) => textAt(yaml, h.range)),
    ['data/eval.jsonl', absent],
  );
  assert.match(hits[0].message, /^`data\.eval_file`/);
  assert.match(
    hits[1].message,
    /^`data\.general_data\.file`: `.*general\.jsonl` does not exist\. The run/,
  );
});

test('a folder instead of a file is reported', () => {
  project.write('data/folder/part-0.jsonl', rows(3));
  const yaml = config('  train_file: data/folder');
  const [hit] = project.lint('data-file-missing', yaml);
  assert.equal(textAt(yaml, hit.range), 'data/folder');
  assert.match(hit.message, /is a folder/);
});

test('re-linted after the file is created: clean', () => {
  const yaml = config('  train_file: data/later.jsonl');
  assert.equal(project.lint('data-file-missing', yaml).length, 1);
  project.write('data/later.jsonl', rows(3));
  assert.deepEqual(project.lint('data-file-missing', yaml), []);
});

test('near misses: existing file, unsaved config, remote absolute path', () => {
  project.write('data/train.jsonl', rows(3));
  assert.deepEqual(project.lint('data-file-missing', config('  train_file: data/train.jsonl')), []);
  // An unsaved config has no folder: relative paths cannot be checked.
  assert.deepEqual(
    findings('data-file-missing', config('  train_file: data/missing.jsonl'), {
      fileName: 'Untitled-1.finetune.yaml',
      summarizeData,
    }),
    [],
  );
  // Launched over ssh, an absolute path may be on the remote machine; a relative one is still checked.
  const ssh = 'launch:\n  target: ssh\n  ssh: { host: gpu-box }\n';
  assert.deepEqual(
    project.lint('data-file-missing', config('  train_file: /scratch/train.jsonl', ssh)),
    [],
  );
  assert.equal(
    project.lint('data-file-missing', config('  train_file: data/missing.jsonl', ssh)).length,
    1,
  );
});

test('a named pipe or a device is reported, without reading it (no hang, no endless read)', () => {
  if (process.platform === 'win32') return;
  project.write('data/train.jsonl', rows(3));
  execFileSync('mkfifo', [path.join(project.dir, 'data', 'pipe.jsonl')]);
  const pipeYaml = config('  train_file: data/pipe.jsonl');
  const [pipe] = project.lint('data-file-missing', pipeYaml);
  assert.equal(pipe.severity, 'error');
  assert.equal(textAt(pipeYaml, pipe.range), 'data/pipe.jsonl');
  assert.match(
    pipe.message,
    /^`data\.train_file`: .*pipe\.jsonl is not a regular file \(a device, pipe or socket\)/,
  );

  const zeroYaml = config('  train_file: data/train.jsonl\n  eval_file: /dev/zero');
  const hits = project.lint('data-file-missing', zeroYaml);
  assert.deepEqual(
    hits.map((h) => textAt(zeroYaml, h.range)),
    ['/dev/zero'],
  );
  assert.match(hits[0].message, /^`data\.eval_file`: \/dev\/zero is not a regular file/);
});

test('evaluation files: a missing forgetting file and JSON Schema, each on its value, read after training', () => {
  project.write('data/train.jsonl', rows(3));
  const yaml = config(
    '  train_file: data/train.jsonl',
    'evaluation:\n  task:\n    metrics: [json_schema]\n    json_schema: schemas/reply.schema.json\n  forgetting:\n    file: data/held-out.jsonl\n',
  );
  const hits = project.lint('data-file-missing', yaml);
  assert.deepEqual(
    hits.map((h) => textAt(yaml, h.range)),
    ['data/held-out.jsonl', 'schemas/reply.schema.json'],
  );
  assert.match(
    hits[0].message,
    /^`evaluation\.forgetting\.file`: `data\/held-out\.jsonl` does not exist\./,
  );
  assert.ok(hits[0].message.includes(path.join(project.dir, 'data', 'held-out.jsonl')));
  assert.match(hits[1].message, /after training/);
  // Once both exist: clean; a folder in place of the schema is reported.
  project.write('data/held-out.jsonl', rows(3));
  project.write('schemas/reply.schema.json', '{"type": "object"}');
  assert.deepEqual(project.lint('data-file-missing', yaml), []);
  const folder = yaml.replace('schemas/reply.schema.json', 'schemas');
  const [hit] = project.lint('data-file-missing', folder);
  assert.match(hit.message, /^`evaluation\.task\.json_schema`: .* is a folder/);
});

// `tunelab lint` and `tunelab rules` as a user runs them: the built dist/cli.js.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';

const ROOT = path.resolve(__dirname, '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const FIXTURES = path.join(ROOT, 'test', 'fixtures');

function tunelab(args: string[], cwd = ROOT) {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    cwd,
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'tunelab-cli-'));
}

test('text output: path:line:col severity code message, then a summary; exit 1 on errors', () => {
  const file = path.relative(ROOT, path.join(FIXTURES, 'lora-typos.finetune.yaml'));
  const { code, stdout } = tunelab(['lint', file]);
  assert.equal(code, 1);
  assert.match(
    stdout,
    new RegExp(
      `^${file.replace(/[.\\]/g, '\\$&')}:9:3 warning schema-unknown-key Unknown key \`lora_rank\``,
      'm',
    ),
  );
  assert.match(stdout, /:21:22 error schema-enum /);
  assert.match(stdout, /^1 config checked: \d+ errors?, \d+ warnings?, \d+ info$/m);
});

test('JSON output has the stable shape with 0-based LSP ranges', () => {
  const file = path.join(FIXTURES, 'lora-typos.finetune.yaml');
  const other = path.join(FIXTURES, 'k8s-deployment.yaml');
  const { code, stdout } = tunelab(['lint', '--format', 'json', file, other]);
  assert.equal(code, 1);
  const report = JSON.parse(stdout);
  assert.equal(report.files.length, 2);
  assert.equal(report.files[0].dialect, 'native');
  const unknown = report.files[0].diagnostics.find(
    (d: { code: string }) => d.code === 'schema-unknown-key',
  );
  assert.deepEqual(Object.keys(unknown).sort(), ['code', 'message', 'range', 'severity']);
  assert.deepEqual(unknown.range, {
    start: { line: 8, character: 2 },
    end: { line: 8, character: 11 },
  });
  assert.deepEqual(report.files[1], { file: other, dialect: null, diagnostics: [] });
});

test('exit 0 when only warnings; --rule and .tunelab.json change severities', () => {
  const dir = tempDir();
  const file = path.join(dir, 'a.finetune.yaml');
  fs.writeFileSync(
    file,
    'method: full\nmodel:\n  name_or_path: x\ndata:\n  train_file: d.jsonl\nlora_rank: 3\n',
  );
  fs.writeFileSync(
    path.join(dir, 'd.jsonl'),
    JSON.stringify({
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: 'hello' },
      ],
    }) + '\n',
  );
  const plain = tunelab(['lint', '--format', 'json', file], dir);
  const codes = JSON.parse(plain.stdout).files[0].diagnostics.map((d: { code: string }) => d.code);
  assert.ok(codes.includes('schema-unknown-key'));
  assert.ok(
    !JSON.parse(plain.stdout).files[0].diagnostics.some(
      (d: { severity: string }) => d.severity === 'error',
    ),
  );
  assert.equal(plain.code, 0);

  const promoted = tunelab(['lint', '--rule', 'schema-unknown-key=error', file], dir);
  assert.equal(promoted.code, 1);
  assert.match(promoted.stdout, /error schema-unknown-key/);

  fs.writeFileSync(
    path.join(dir, '.tunelab.json'),
    JSON.stringify({ rules: { 'schema-unknown-key': 'off' } }),
  );
  const off = tunelab(['lint', '--format', 'json', file], dir);
  assert.ok(
    !JSON.parse(off.stdout).files[0].diagnostics.some(
      (d: { code: string }) => d.code === 'schema-unknown-key',
    ),
  );
});

test('usage errors and unreadable files exit 2 with a message on stderr', () => {
  assert.equal(tunelab(['lint']).code, 2);
  assert.equal(tunelab(['lint', '--format', 'xml', 'x.yaml']).code, 2);
  assert.equal(tunelab(['lint', '--num-gpus', '0', 'x.yaml']).code, 2);
  assert.equal(tunelab(['frobnicate']).code, 2);
  assert.equal(tunelab(['lint', '--rule', 'x=loud', 'a.yaml']).code, 2);
  const missing = tunelab(['lint', '/nonexistent/a.finetune.yaml']);
  assert.equal(missing.code, 2);
  assert.match(
    missing.stderr,
    /^tunelab: cannot read \/nonexistent\/a\.finetune\.yaml: no such file$/m,
  );
  assert.doesNotMatch(missing.stderr, /ENOENT/);
});

test('bad input: non-UTF-8, a 20 MB file, binary garbage, an alias bomb: clear finding, no crash', () => {
  const dir = tempDir();
  const latin1 = path.join(dir, 'latin1.finetune.yaml');
  fs.writeFileSync(
    latin1,
    Buffer.concat([Buffer.from('method: lora\n# caf'), Buffer.from([0xe9]), Buffer.from('\n')]),
  );
  const r1 = tunelab(['lint', latin1]);
  assert.equal(r1.code, 1);
  assert.match(
    r1.stdout,
    /latin1\.finetune\.yaml:2:6 error yaml-syntax The file is not valid UTF-8 \(byte 0xe9/,
  );

  const big = path.join(dir, 'big.finetune.yaml');
  fs.writeFileSync(big, 'method: lora\n' + '# padding padding padding padding\n'.repeat(620_000));
  const r2 = tunelab(['lint', big]);
  assert.equal(r2.code, 1);
  assert.match(r2.stdout, /Tunelab checks configs up to 2 MB/);

  const garbage = path.join(dir, 'garbage.finetune.yaml');
  fs.writeFileSync(
    garbage,
    Buffer.from(Array.from({ length: 50_000 }, (_, i) => (i * 7919) % 128)),
  );
  const r3 = tunelab(['lint', garbage]);
  assert.ok(r3.code === 1 || r3.code === 0, r3.stderr);

  const bomb = path.join(dir, 'bomb.finetune.yaml');
  const lines = ['method: lora', 'a: &a [x,x,x,x,x,x,x,x,x]'];
  for (let i = 1; i < 10; i++)
    lines.push(
      `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9)
        .fill(`*${String.fromCharCode(96 + i)}`)
        .join(',')}]`,
    );
  fs.writeFileSync(bomb, lines.join('\n'));
  const r4 = tunelab(['lint', bomb]);
  assert.equal(r4.code, 1);
  assert.match(r4.stdout, /alias bomb/);
});

test('`tunelab rules` lists every code with severity and title', () => {
  const text = tunelab(['rules']);
  assert.equal(text.code, 0);
  assert.match(text.stdout, /^schema-unknown-key\s+warning\s+A key Tunelab does not know$/m);
  assert.match(text.stdout, /^qlora-prepare-kbit\s+error\s+/m);
  const json = JSON.parse(tunelab(['rules', '--format', 'json']).stdout);
  assert.ok(
    json.rules.some(
      (r: { code: string; doc: { why: string } }) => r.code === 'lora-alpha-ratio' && r.doc.why,
    ),
  );
});

// `tunelab convert` and `--dialect` as users run them.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';

const ROOT = path.resolve(__dirname, '..', '..');
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'dialects');
const tunelab = (args: string[]) =>
  spawnSync(process.execPath, [path.join(ROOT, 'dist', 'cli.js'), ...args], {
    encoding: 'utf8',
    timeout: 60_000,
  });

test('convert refuses a lossy conversion and says what would be lost; --force writes it', () => {
  const refused = tunelab(['convert', path.join(FIXTURES, 'axolotl-qlora.yml')]);
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /does not convert losslessly/);
  const out = path.join(
    fs.mkdtempSync(path.join(os.tmpdir(), 'tunelab-convert-')),
    'a.finetune.yaml',
  );
  const forced = tunelab([
    'convert',
    '--force',
    '--out',
    out,
    path.join(FIXTURES, 'axolotl-qlora.yml'),
  ]);
  assert.equal(forced.status, 0, forced.stderr);
  const lint = tunelab(['lint', '--format', 'json', out]);
  assert.equal(JSON.parse(lint.stdout).files[0].dialect, 'native');
});

test('--dialect reads a file as the given tool; a bad value is a usage error', () => {
  const file = path.join(FIXTURES, 'trl-sft.yaml');
  const json = JSON.parse(tunelab(['lint', '--format', 'json', '--dialect', 'trl', file]).stdout);
  assert.equal(json.files[0].dialect, 'trl');
  assert.equal(tunelab(['lint', '--dialect', 'pytorch', file]).status, 2);
  assert.equal(
    tunelab(['convert', '--to', 'native', path.join(FIXTURES, 'trl-sft.native.finetune.yaml')])
      .status,
    2,
  );
});

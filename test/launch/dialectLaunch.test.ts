// Axolotl, LLaMA-Factory and TRL configs launch with their tool's own command,
// and its (HF Trainer) log streams through the same parser.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { trainArgv } from '../../launch/src/jobScript';
import { readLaunchSpec } from '../../launch/src/launchConfig';
import { makeProject, ROOT, tunelab } from './infra';

const DIALECTS = path.join(ROOT, 'test', 'fixtures', 'dialects');
const read = (name: string) => fs.readFileSync(path.join(DIALECTS, name), 'utf8');

test('each dialect trains with its own command; native configs with the runner', () => {
  const cases: [string, string[]][] = [
    ['axolotl-qlora.yml', ['axolotl', 'train', 'cfg.yml']],
    ['llamafactory-lora.yaml', ['llamafactory-cli', 'train', 'cfg.yml']],
    ['trl-sft.yaml', ['trl', 'sft', '--config', 'cfg.yml']],
  ];
  for (const [file, argv] of cases) {
    const spec = readLaunchSpec(path.join(DIALECTS, file), read(file));
    assert.deepEqual(trainArgv(spec, 'cfg.yml'), argv, file);
  }
  const native = readLaunchSpec(
    path.join(DIALECTS, 'trl-sft.native.finetune.yaml'),
    read('trl-sft.native.finetune.yaml'),
  );
  assert.deepEqual(trainArgv(native, 'cfg.yml'), [
    'python3',
    '-m',
    'tunelab_runner',
    'train',
    'cfg.yml',
  ]);
});

test('tunelab launch on an Axolotl config runs `axolotl train` and streams its Trainer log to the end', async () => {
  const { dir, config, workspace } = makeProject(read('axolotl-qlora.yml'), {
    name: 'axolotl.yml',
    withReplay: true,
  });
  // A stand-in `axolotl` on PATH: records its argv, then prints a real Trainer log.
  const bin = path.join(workspace, 'bin');
  fs.mkdirSync(bin);
  fs.writeFileSync(
    path.join(bin, 'axolotl'),
    `#!/bin/sh\necho "$@" > "${path.join(workspace, 'argv.txt')}"\nexec python3 replay_log.py --log trainer-log-sample.txt --delay 0\n`,
    { mode: 0o755 },
  );
  const run = await tunelab(['launch', config], dir, {
    PATH: `${bin}${path.delimiter}${process.env.PATH}`,
  });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(
    fs.readFileSync(path.join(workspace, 'argv.txt'), 'utf8').trim(),
    'train axolotl.yml',
  );
  assert.match(run.stdout, /\{'loss': /);
  assert.match(run.stderr, /run \S+ completed \(exit 0\)/);
});

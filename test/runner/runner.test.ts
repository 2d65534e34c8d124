// The Python runner's CPU tests (plan, config handling, data pipeline, doctor
// without torch) run in CI through unittest; GPU tests skip there with a reason.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { test } from 'node:test';

const ROOT = path.resolve(__dirname, '..', '..');
// scripts/test-all.sh picks an interpreter that has PyYAML.
const PYTHON = process.env.TUNELAB_PYTHON ?? 'python3';

test('runner unit tests pass under python3 -m unittest', () => {
  const result = spawnSync(PYTHON, ['-m', 'unittest', 'discover', '-s', 'runner/tests', '-t', 'runner'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 300_000,
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
  });
  const output = `${result.stdout}\n${result.stderr}`;
  assert.equal(result.status, 0, output.slice(-4000));
  const ran = /Ran (\d+) tests?/.exec(output);
  assert.ok(ran && Number(ran[1]) >= 40, `expected the runner's tests to run: ${output.slice(-2000)}`);
  console.log(output.trim().split('\n').slice(-3).join('\n'));
});

test('`python -m tunelab_runner plan` resolves every template without torch', () => {
  for (const method of ['full', 'lora', 'qlora']) {
    const config = path.join(ROOT, 'templates', 'telecom-support', `${method}.finetune.yaml`);
    const result = spawnSync(PYTHON, ['-m', 'tunelab_runner', 'plan', config], {
      cwd: path.join(ROOT, 'runner'),
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(result.status, 0, result.stderr);
    const plan = JSON.parse(result.stdout);
    assert.equal(typeof plan, 'object');
    assert.match(JSON.stringify(plan), new RegExp(method === 'full' ? 'Llama-3.2-1B' : 'Llama-3.1-8B'));
  }
});

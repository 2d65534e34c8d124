import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DIALECTS } from '../types';
import { dialectLaunchCommand } from './launchCommand';

test('each dialect trains with its own tool', () => {
  assert.deepEqual(dialectLaunchCommand('axolotl', 'cfg.yml'), ['axolotl', 'train', 'cfg.yml']);
  assert.deepEqual(dialectLaunchCommand('llamafactory', 'cfg.yaml'), [
    'llamafactory-cli',
    'train',
    'cfg.yaml',
  ]);
  assert.deepEqual(dialectLaunchCommand('trl', 'cfg.yaml'), ['trl', 'sft', '--config', 'cfg.yaml']);
  assert.deepEqual(dialectLaunchCommand('native', 'run.finetune.yaml'), [
    'python',
    '-m',
    'tunelab_runner',
    'train',
    'run.finetune.yaml',
  ]);
});

test('the path is one argv element, spaces and all, never split or quoted', () => {
  for (const dialect of DIALECTS) {
    const argv = dialectLaunchCommand(dialect, '/runs/my config; rm -rf ~.yml');
    assert.equal(argv[argv.length - 1], '/runs/my config; rm -rf ~.yml');
    assert.ok(argv.every((a) => a.length > 0));
  }
});

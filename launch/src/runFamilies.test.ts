import assert from 'node:assert/strict';
import { test } from 'node:test';
import { groupFamilies } from './runFamilies';

test('two or more runs of one base form a family where the first of them stood', () => {
  const runs = [
    { id: 'c', base: 'llama' },
    { id: 'b', base: 'qwen' },
    { id: 'eval', base: undefined },
    { id: 'a', base: 'llama' },
  ];
  const roots = groupFamilies(runs, (run) => run.base);
  assert.deepEqual(roots, [{ family: 'llama', runs: [runs[0], runs[3]] }, runs[1], runs[2]]);
});

test('no family without a shared base', () => {
  const runs = [{ base: 'x' }, { base: 'y' }];
  assert.deepEqual(
    groupFamilies(runs, (run) => run.base),
    runs,
  );
});

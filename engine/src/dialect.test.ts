import assert from 'node:assert/strict';
import { test } from 'node:test';
import { detectDialect, mightBeConfig } from './dialect';

test('a .finetune.yaml name marks a native config whatever its content', () => {
  assert.equal(detectDialect('/x/run.finetune.yaml', {}), 'native');
  assert.equal(detectDialect('C:\\x\\RUN.FINETUNE.YML', null), 'native');
});

test('content marks a native config: method full|lora|qlora and a model mapping', () => {
  assert.equal(
    detectDialect('a.yaml', { method: 'qlora', model: { name_or_path: 'x' } }),
    'native',
  );
  assert.equal(detectDialect('a.yaml', { method: 'lora', model: 'x' }), null);
  assert.equal(detectDialect('a.yaml', { method: 'GET', model: {} }), null);
  assert.equal(detectDialect('a.yaml', { on: { push: null }, jobs: {} }), null);
});

test('the cheap pre-check skips YAML without a top-level method line', () => {
  assert.equal(mightBeConfig('ci.yaml', 'on: push\njobs: {}\n'), false);
  assert.equal(mightBeConfig('x.yaml', 'model: {}\nmethod: lora\n'), true);
  assert.equal(mightBeConfig('x.finetune.yaml', ''), true);
});

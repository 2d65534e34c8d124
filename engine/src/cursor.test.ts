import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cursorContext, pathAtPosition } from './cursor';
import { parseYaml } from './parse';

test('key completion context inside a section lists its present keys', () => {
  const text =
    'method: lora\nlora:\n  r: 16\n  lo\n  lora_dropout: 0.05\ntraining:\n  bf16: true\n';
  const context = cursorContext(text, { line: 3, character: 4 });
  assert.deepEqual(context?.path, ['lora']);
  assert.equal(context?.mode, 'key');
  assert.equal(context?.prefix, 'lo');
  assert.deepEqual([...(context?.siblings ?? [])].sort(), ['lora_dropout', 'r']);
});

test('value completion context names the key path', () => {
  const text = 'method: lora\ntraining:\n  optim: pa\n';
  const context = cursorContext(text, { line: 2, character: 11 });
  assert.deepEqual(context?.path, ['training', 'optim']);
  assert.equal(context?.mode, 'value');
  assert.equal(context?.prefix, 'pa');
});

test('top-level key context on an empty line', () => {
  const context = cursorContext('method: lora\n\n', { line: 1, character: 0 });
  assert.deepEqual(context?.path, []);
  assert.ok(context?.siblings.has('method'));
});

test('pathAtPosition finds a key and a value', () => {
  const parsed = parseYaml('lora:\n  r: 16\n  target_modules: [q_proj]\n');
  assert.deepEqual(pathAtPosition(parsed.root, { line: 1, character: 2 }), {
    path: ['lora', 'r'],
    onKey: true,
  });
  assert.deepEqual(pathAtPosition(parsed.root, { line: 2, character: 20 }), {
    path: ['lora', 'target_modules', 0],
    onKey: false,
  });
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { exactSourceAt, parseYaml, valueAt } from './parse';

test('values and exact key/value ranges', () => {
  const parsed = parseYaml('method: lora\nlora:\n  r: 16\n  target_modules: [q_proj, v_proj]\n');
  assert.deepEqual(parsed.findings, []);
  assert.equal(valueAt(parsed.value, ['lora', 'r']), 16);
  const r = exactSourceAt(parsed.root, ['lora', 'r']);
  assert.deepEqual(r?.keyRange, {
    start: { line: 2, character: 2 },
    end: { line: 2, character: 3 },
  });
  assert.deepEqual(r?.valueRange, {
    start: { line: 2, character: 5 },
    end: { line: 2, character: 7 },
  });
  const item = exactSourceAt(parsed.root, ['lora', 'target_modules', 1]);
  assert.deepEqual(item?.valueRange.start, { line: 3, character: 27 });
});

test('syntax errors are findings with a range, not exceptions', () => {
  const parsed = parseYaml('method: lora\nlora:\n  r: [1, 2\n');
  assert.ok(parsed.findings.length > 0);
  assert.ok(parsed.findings.every((f) => f.code === 'yaml-syntax' && f.severity === 'error'));
});

test('tabs used as indentation are reported', () => {
  const parsed = parseYaml('lora:\n\tr: 16\n');
  assert.ok(parsed.findings.some((f) => f.code === 'yaml-syntax'));
});

test('duplicate keys are reported on the second key', () => {
  const parsed = parseYaml('lora:\n  r: 8\n  r: 16\n');
  const dup = parsed.findings.find((f) => /Duplicate key `r`/.test(f.message));
  assert.ok(dup);
  assert.equal(dup.range.start.line, 2);
  assert.match(dup.message, /line 2/);
});

test('an alias bomb is stopped with a finding, quickly and without huge memory', () => {
  const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < 10; i++) {
    const prev = String.fromCharCode(96 + i);
    const name = String.fromCharCode(97 + i);
    lines.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`);
  }
  const started = Date.now();
  const parsed = parseYaml(lines.join('\n'));
  assert.ok(Date.now() - started < 5000);
  assert.equal(parsed.complete, false);
  assert.ok(parsed.findings.some((f) => /alias bomb/.test(f.message)));
});

test('deep nesting is bounded', () => {
  const deep = '['.repeat(5000) + ']'.repeat(5000);
  const parsed = parseYaml(`x: ${deep}`);
  assert.equal(parsed.complete, false);
  assert.match(parsed.findings[0].message, /nested too deeply \(over 64 levels/);
  assert.deepEqual(parsed.findings[0].range.start, { line: 0, character: 67 });
  const blockDeep = Array.from({ length: 300 }, (_, i) => `${' '.repeat(i * 2)}k${i}:`).join('\n');
  assert.equal(parseYaml(blockDeep).complete, false);
});

test('binary garbage gives findings, never a throw', () => {
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const garbage = Array.from({ length: 20000 }, () =>
    String.fromCharCode(Math.floor(random() * 256)),
  ).join('');
  const parsed = parseYaml(garbage);
  assert.ok(parsed.findings.length <= 51);
});

test('__proto__ keys are plain data', () => {
  const parsed = parseYaml('__proto__:\n  polluted: true\n');
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.deepEqual(Object.keys(parsed.value as object), ['__proto__']);
});

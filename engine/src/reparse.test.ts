import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { parseYaml, type SourceNode } from './parse';
import { reparseAfterEdit } from './reparse';

const ROOT = path.resolve(__dirname, '..', '..');
const FIXTURES = [
  'test/fixtures/spec-example.finetune.yaml',
  'templates/telecom-support/qlora.finetune.yaml',
  'templates/telecom-support/full.finetune.yaml',
  'test/fixtures/lora-typos.finetune.yaml',
].map((f) => fs.readFileSync(path.join(ROOT, f), 'utf8'));

/** Every node's ranges, by path, for comparing two parses. */
function flatten(node: SourceNode | undefined, prefix = '', out: Record<string, unknown> = {}) {
  if (!node) return out;
  out[prefix] = {
    key: node.keyRange,
    value: node.valueRange,
    children: node.children ? [...node.children.keys()] : null,
  };
  for (const [segment, child] of node.children ?? []) flatten(child, `${prefix}/${segment}`, out);
  return out;
}

const VALUES = [
  '16',
  '17',
  '2.0e-4',
  '0.05',
  'true',
  'false',
  'null',
  '~',
  'cosine',
  'all-linear',
  'x',
  '-3',
  '1e3',
  'yes',
  '.inf',
  'a b c',
  'meta-llama/Llama-3.1-8B',
  '0o17',
  '12:30',
];

test('a one-value edit reparses to exactly what a full parse gives', () => {
  let seed = 7;
  const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
  let incremental = 0;
  for (const text of FIXTURES) {
    const lines = text.split('\n');
    const candidates = lines
      .map((l, i) => [l, i] as const)
      .filter(([l]) => /^ *[A-Za-z_][\w.-]*: +[^\s#]/.test(l));
    for (let round = 0; round < 60; round++) {
      const [line, index] = candidates[Math.floor(random() * candidates.length)];
      const value = VALUES[Math.floor(random() * VALUES.length)];
      const comment = line.includes(' #')
        ? line.slice(line.indexOf(' #'))
        : random() < 0.3
          ? '  # note'
          : '';
      const edited =
        line.replace(/^( *[A-Za-z_][\w.-]*: +)[^#]*?( +#.*)?$/, `$1${value}`) + comment;
      const newText = [...lines.slice(0, index), edited, ...lines.slice(index + 1)].join('\n');
      const previous = parseYaml(text);
      const fast = reparseAfterEdit(previous, newText);
      const full = parseYaml(newText);
      if (!fast) continue;
      incremental++;
      assert.deepEqual(
        fast.value,
        full.value,
        `value after editing line ${index + 1} to ${edited}`,
      );
      assert.deepEqual(
        flatten(fast.root),
        flatten(full.root),
        `ranges after editing line ${index + 1} to ${edited}`,
      );
      assert.deepEqual(fast.findings, full.findings);
    }
  }
  assert.ok(incremental > 100, `most edits take the fast path (${incremental})`);
});

test('structural edits, syntax errors and multi-line changes fall back to a full parse', () => {
  const text = 'method: lora\nlora:\n  r: 16\n  lora_alpha: 32\n';
  const previous = parseYaml(text);
  assert.equal(reparseAfterEdit(previous, text.replace('r: 16', 'r: [16')), undefined);
  assert.equal(reparseAfterEdit(previous, text.replace('r: 16', 'r: 16\n  x: 1')), undefined);
  assert.equal(reparseAfterEdit(previous, text.replace('r: 16', 'rank: 16')), undefined);
  assert.equal(reparseAfterEdit(previous, text.replace('lora:', 'lora: {}')), undefined);
  assert.equal(reparseAfterEdit(previous, text.replace('r: 16', 'r: &a 16')), undefined);
  assert.equal(reparseAfterEdit(previous, text.replace('r: 16', 'r: "16"')), undefined);
  assert.equal(reparseAfterEdit(parseYaml('a: [1\n'), 'a: [2\n'), undefined);
  assert.ok(reparseAfterEdit(previous, text.replace('r: 16', 'r: 17')));
});

// Hostile input through analyze(), one test per class of problem: nesting of
// every YAML form, capped findings, bounded messages, multiple documents, raw
// JS error text. The inputs are shared with bench/hostile.ts and the LSP tests.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HOSTILE_INPUTS } from '../../test/lsp/hostileInputs';
import { analyze, capFindings, MAX_FINDINGS } from './engine';
import { MAX_DEPTH, parseYaml } from './parse';
import { MAX_MESSAGE_LENGTH, MAX_QUOTED_LENGTH, shortText, yamlText } from './schema/messageText';
import { MAX_FINDINGS_PER_CODE, type Finding } from './types';

const HEADER = 'method: lora\nmodel: {name_or_path: x}\n';
const RAW_JS_ERROR =
  /Maximum call stack|YAML\.parse|parseAllDocuments|RangeError|Invalid string length|TypeError|undefined is not/;

/** Each nesting form of YAML, `levels` deep, under the key `x`. */
const NESTING_FORMS: Record<string, (levels: number) => string> = {
  'flow sequences': (n) => `x: ${'['.repeat(n)}${']'.repeat(n)}\n`,
  'flow mappings': (n) => `x: ${'{a: '.repeat(n)}1${'}'.repeat(n)}\n`,
  'block mappings': (n) =>
    'x:\n' + Array.from({ length: n }, (_, i) => `${' '.repeat(i + 1)}a:\n`).join(''),
  'block sequences on one line': (n) => `x:\n${'- '.repeat(n)}1\n`,
  'block sequences indented': (n) =>
    'x:\n' + Array.from({ length: n }, (_, i) => `${' '.repeat(i * 2)}-\n`).join('') + '  1\n',
  'explicit keys': (n) => `x:\n${'? '.repeat(n)}1\n`,
  'anchored flow': (n) =>
    `x: ${Array.from({ length: n }, (_, i) => `&a${i} [`).join('')}${']'.repeat(n)}\n`,
  'aliases of aliases': (n) =>
    'c0: &c0 [1]\n' +
    Array.from({ length: n }, (_, i) => `c${i + 1}: &c${i + 1} [*c${i}]\n`).join(''),
};

function findingsOf(text: string): Finding[] {
  return analyze(text, '/tmp/hostile.finetune.yaml').findings;
}

for (const [form, build] of Object.entries(NESTING_FORMS)) {
  test(`nesting: ${form} past ${MAX_DEPTH} levels give one clear finding; ${MAX_DEPTH - 8} levels are read`, () => {
    for (const levels of [MAX_DEPTH + 10, 1_000]) {
      const findings = findingsOf(HEADER + build(levels));
      assert.equal(
        findings.length,
        1,
        `${levels} levels: ${findings.map((f) => f.message).join(' | ')}`,
      );
      assert.equal(findings[0].code, 'yaml-syntax');
      assert.match(findings[0].message, /nested too deeply.*over 64 levels/);
    }
    const shallow = parseYaml(HEADER + build(MAX_DEPTH - 8));
    assert.equal(shallow.complete, true, `${form}: ${shallow.findings[0]?.message}`);
    assert.ok(!shallow.findings.some((f) => /nested too deeply/.test(f.message)));
  });
}

test('a key that is itself a mapping is one short finding, never the key printed as JSON', () => {
  // The 99-byte file that used to make a 134 MB diagnostic at 27 levels and crash at 28.
  const text = `${HEADER}x:\n${'? '.repeat(28)}1\n`;
  assert.equal(text.length, 99);
  const findings = findingsOf(text);
  const keyFinding = findings.find((f) => /This key is a mapping/.test(f.message));
  assert.ok(keyFinding);
  assert.ok(findings.every((f) => f.message.length < 400 && !f.message.includes('{"')));
});

test('duplicate keys: 40 shown and one summary with the exact count left out', () => {
  const parsed = parseYaml(HEADER + 'a: 1\n'.repeat(2500));
  const duplicates = parsed.findings.filter((f) => /^Duplicate key `a`/.test(f.message));
  assert.equal(duplicates.length, 40);
  const summary = parsed.findings.find((f) => /more duplicate keys/.test(f.message));
  assert.match(summary?.message ?? '', /… and 2,459 more duplicate keys/);
  assert.equal(summary?.range.start.line, 2 + 1 + 40);
});

test(`findings are capped at ${MAX_FINDINGS_PER_CODE} per code, with one summary per code`, () => {
  const keys = Array.from({ length: 2500 }, (_, i) => `key_${i}: ${i}`).join('\n');
  const findings = findingsOf(HEADER + keys + '\n');
  const unknown = findings.filter((f) => f.code === 'schema-unknown-key');
  assert.equal(unknown.length, MAX_FINDINGS_PER_CODE + 1);
  assert.match(unknown.at(-1)!.message, /^… and 2,400 more unknown keys, not shown/);
  // The summary sits on the first key left out.
  assert.equal(unknown.at(-1)!.range.start.line, 2 + MAX_FINDINGS_PER_CODE);
});

test('capFindings: per-code and overall caps, messages bounded, severities kept', () => {
  const finding = (code: string, i: number): Finding => ({
    code,
    severity: 'warning',
    message: i === 0 ? 'x'.repeat(5000) : `finding ${i}`,
    range: { start: { line: i, character: 0 }, end: { line: i, character: 1 } },
  });
  const many = [
    ...Array.from({ length: 250 }, (_, i) => finding('a', i)),
    ...Array.from({ length: 5 }, (_, i) => finding('b', i)),
    ...Array.from({ length: 400 }, (_, i) => finding(`c${i % 4}`, i)),
  ];
  const capped = capFindings(many);
  const summaries = capped.filter((f) => f.message.startsWith('…'));
  assert.ok(capped.length - summaries.length <= MAX_FINDINGS);
  assert.equal(capped.filter((f) => f.code === 'a').length, MAX_FINDINGS_PER_CODE + 1);
  assert.match(summaries.find((f) => f.code === 'a')!.message, /… and 150 more `a` findings/);
  assert.equal(summaries.find((f) => f.code === 'a')!.range.start.line, MAX_FINDINGS_PER_CODE);
  assert.equal(capped.filter((f) => f.code === 'b').length, 5);
  // Every finding is either shown or counted in its code's summary.
  const counted = summaries.reduce(
    (sum, f) => sum + Number(/and ([\d,]+) more/.exec(f.message)![1].replace(/,/g, '')),
    0,
  );
  assert.equal(capped.length - summaries.length + counted, many.length);
  assert.ok(capped.every((f) => f.message.length <= MAX_MESSAGE_LENGTH));
  assert.ok(capped.every((f) => f.severity === 'warning'));
});

test('every hostile input: a clear finding, few findings, short messages, no JS error text', () => {
  for (const input of HOSTILE_INPUTS) {
    const findings = analyze(input.build(), `/tmp/${input.fileName}`).findings;
    const label = `${input.name}: ${findings.map((f) => f.message.slice(0, 100)).join(' | ')}`;
    assert.ok(
      findings.some((f) => f.code === input.expectCode),
      label,
    );
    if (input.expectMessage)
      assert.ok(
        findings.some((f) => input.expectMessage!.test(f.message)),
        label,
      );
    assert.ok(findings.length <= MAX_FINDINGS_PER_CODE + 20, label);
    for (const finding of findings) {
      assert.ok(finding.message.length <= 400, `${input.name}: ${finding.message.length} chars`);
      assert.doesNotMatch(finding.message, RAW_JS_ERROR, input.name);
    }
  }
});

test('multiple documents: one finding naming the count and where the second starts', () => {
  const findings = findingsOf(`${HEADER}---\nmethod: full\n---\nmethod: qlora\n`);
  const multi = findings.filter((f) => /YAML document/.test(f.message));
  assert.equal(multi.length, 1);
  assert.match(
    multi[0].message,
    /^A config is one YAML document; this file has 3 \(the second starts on line 3\)/,
  );
  assert.equal(multi[0].range.start.line, 2);
  // The first document is still checked; a trailing `---` is no second document.
  assert.ok(findings.some((f) => f.code === 'method-sections'));
  assert.ok(!findingsOf(`${HEADER}---\n`).some((f) => /YAML document/.test(f.message)));
});

test('non-finite numbers are written as YAML writes them, never null or NaN', () => {
  const findings = findingsOf(
    `${HEADER}training:\n  learning_rate: .nan\n  num_train_epochs: -.inf\n`,
  );
  const range = findings.filter((f) => f.code === 'schema-range').map((f) => f.message);
  assert.ok(
    range.some((m) => m.includes('got `.nan`')),
    range.join(' | '),
  );
  assert.ok(
    range.some((m) => m.includes('got `-.inf`')),
    range.join(' | '),
  );
  assert.ok(findings.every((f) => !/`null`|`NaN`/.test(f.message)));
});

test('a file over the size cap is reported with its real size', () => {
  const text = HEADER + 'notes: |\n' + '  lorem ipsum dolor sit amet\n'.repeat(750_000);
  const [finding] = findingsOf(text);
  assert.match(
    finding.message,
    /^This file is 20\.7 MB; Tunelab checks configs up to 2 MB and skipped it/,
  );
  // Multi-byte text is measured in bytes: 0.8 M characters of 3 bytes each is 2.4 MB.
  const wide = HEADER + 'notes: "' + '€'.repeat(800_000) + '"\n';
  assert.match(findingsOf(wide)[0].message, /^This file is 2\.29 MB/);
});

test('aliases: resolved to the last anchor before them, unknown and self-referencing ones reported', () => {
  const parsed = parseYaml('a: &x 1\nb: *x\nc: &x 2\nd: *x\n');
  assert.deepEqual(parsed.value, { a: 1, b: 1, c: 2, d: 2 });
  const unknown = parseYaml('a: *nowhere\n');
  assert.match(unknown.findings[0].message, /`\*nowhere` refers to no anchor/);
  const loop = parseYaml('a: &loop [1, *loop]\n');
  assert.ok(loop.findings.some((f) => /would contain itself/.test(f.message)));
});

test('an internal failure is a hint without JavaScript error text', () => {
  const findings = analyze(HEADER, '/tmp/x.finetune.yaml', {
    summarizeData: () => {
      throw new RangeError('Maximum call stack size exceeded');
    },
  }).findings;
  assert.equal(findings.length, 1);
  assert.equal(findings[0].code, 'internal-error');
  assert.doesNotMatch(findings[0].message, RAW_JS_ERROR);
});

test('quoted text is shortened with an ellipsis and never splits a surrogate pair', () => {
  assert.equal(shortText('short'), 'short');
  const long = shortText('k'.repeat(1_000_000));
  assert.equal(long.length, MAX_QUOTED_LENGTH);
  assert.ok(long.endsWith('…'));
  const emoji = shortText('a' + '😀'.repeat(100), 10);
  assert.ok(!/[\uD800-\uDBFF]…$/.test(emoji), emoji);
  assert.equal(shortText('two\nlines'), 'two⏎lines');
  assert.equal(yamlText(NaN), '.nan');
  assert.equal(yamlText(-Infinity), '-.inf');
  assert.equal(yamlText({ a: 1, b: 2 }), 'a mapping of 2 keys');
});

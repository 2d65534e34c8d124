import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { buildNativePlan } from '../nativePlan';
import {
  CHARS_PER_TOKEN,
  DATA_READ_BOUND,
  MESSAGE_OVERHEAD_TOKENS,
  SEQUENCE_OVERHEAD_TOKENS,
  checkLine,
  clearDataCache,
  estimateTokens,
  resolveDataPath,
  summarizeData,
  summarizeDataFile,
} from './inspect';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tunelab-inspect-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

const chat = (user: string, assistant: string) =>
  JSON.stringify({
    messages: [
      { role: 'user', content: user },
      { role: 'assistant', content: assistant },
    ],
  });

test('counts rows, skips blank lines, estimates token lengths', () => {
  const file = write(
    'ok.jsonl',
    [chat('a'.repeat(36), 'b'.repeat(72)), '', '   ', chat('hi', 'hello')].join('\n') + '\n',
  );
  const s = summarizeDataFile(file, 'messages');
  assert.equal(s.exists, true);
  assert.equal(s.rows, 2);
  assert.equal(s.partial, false);
  assert.equal(s.badLines, 0);
  assert.equal(s.firstBadLine, undefined);
  assert.equal(s.sizeBytes, fs.statSync(file).size);
  assert.equal(s.bytesRead, s.sizeBytes);
  // 36 / 3.6 = 10 and 72 / 3.6 = 20 tokens, plus 4 per message and 2 per record.
  assert.equal(CHARS_PER_TOKEN, 3.6);
  assert.deepEqual(s.tokenLengths, [
    10 + 20 + 2 * MESSAGE_OVERHEAD_TOKENS + SEQUENCE_OVERHEAD_TOKENS,
    1 + 2 + 2 * MESSAGE_OVERHEAD_TOKENS + SEQUENCE_OVERHEAD_TOKENS,
  ]);
});

test('a last line without newline is a record; CRLF and a BOM are accepted', () => {
  const file = write('crlf.jsonl', '\uFEFF' + chat('q', 'a') + '\r\n' + chat('q2', 'a2'));
  const s = summarizeDataFile(file, 'messages');
  assert.equal(s.rows, 2);
  assert.equal(s.badLines, 0, s.firstBadLine?.reason);
});

test('the first bad line is named with its 1-based number (blank lines counted) and bad lines are counted', () => {
  const file = write(
    'bad.jsonl',
    [chat('q', 'a'), '', '{"messages": [', chat('q', 'a'), '[1, 2]'].join('\n') + '\n',
  );
  const s = summarizeDataFile(file, 'messages');
  assert.equal(s.rows, 4);
  assert.equal(s.badLines, 2);
  assert.equal(s.firstBadLine?.line, 3);
  assert.match(s.firstBadLine!.reason, /^not valid JSON/);
  assert.equal(s.tokenLengths.length, 2);
});

test('shape checks per format give a reason', () => {
  const cases: [string, Parameters<typeof checkLine>[1], RegExp][] = [
    ['"just a string"', 'messages', /not a JSON object \(a string\)/],
    ['{"text": "x"}', 'messages', /no `messages` field/],
    ['{"messages": {}}', 'messages', /`messages` is not a list/],
    ['{"messages": []}', 'messages', /`messages` is empty/],
    ['{"messages": ["hi"]}', 'messages', /message 1 is not an object/],
    ['{"messages": [{"content": "x"}]}', 'messages', /message 1 has no `role`/],
    [
      '{"messages": [{"role": "human", "content": "x"}]}',
      'messages',
      /message 1 has role "human"; expected system, user, assistant, tool/,
    ],
    [
      '{"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": 5}]}',
      'messages',
      /message 2 \(assistant\) has no `content` string/,
    ],
    ['{"messages": [{"role": "user", "content": "x"}]}', 'messages', /no `assistant` message/],
    ['{"prompt": "x"}', 'prompt_completion', /no `completion` field/],
    ['{"prompt": 1, "completion": "x"}', 'prompt_completion', /`prompt` is not a string/],
    ['{"messages": []}', 'text', /no `text` field/],
    ['{"text": ["x"]}', 'text', /`text` is not a string/],
    ['{"foo": 1}', 'auto', /no `messages`, `prompt`\/`completion` or `text` field/],
  ];
  for (const [line, format, reason] of cases) {
    const result = checkLine(line, format);
    assert.equal(typeof result, 'string', line);
    assert.match(result as string, reason, line);
  }
});

test('valid shapes: tool turns, content parts, tool_calls with null content, other formats', () => {
  const valid: [string, Parameters<typeof checkLine>[1]][] = [
    [
      JSON.stringify({
        messages: [
          { role: 'system', content: 's' },
          { role: 'user', content: [{ type: 'text', text: 'hi' }] },
          { role: 'assistant', content: null, tool_calls: [{ function: { name: 'f' } }] },
          { role: 'tool', content: '42' },
          { role: 'assistant', content: 'done' },
        ],
      }),
      'messages',
    ],
    ['{"prompt": "a", "completion": "b"}', 'prompt_completion'],
    ['{"text": "a"}', 'text'],
    ['{"text": "a"}', 'auto'],
    ['{"prompt": "a", "completion": "b"}', 'auto'],
    [chat('a', 'b'), 'auto'],
  ];
  for (const [line, format] of valid) assert.equal(typeof checkLine(line, format), 'number', line);
  assert.equal(checkLine('{"text": "' + 'x'.repeat(360) + '"}', 'text'), 100 + 2);
});

test('token estimate: Latin script at 3.6 characters per token, CJK one token per character', () => {
  assert.equal(estimateTokens(''), 0);
  assert.equal(estimateTokens('x'.repeat(36)), 10);
  assert.equal(estimateTokens('x'.repeat(37)), 11);
  assert.equal(estimateTokens('日本語のテキスト'), 8);
});

test('a missing file, a directory and an unreadable file', () => {
  const missing = summarizeDataFile(path.join(dir, 'nope.jsonl'), 'messages');
  assert.equal(missing.exists, false);
  assert.equal(missing.error, undefined);
  assert.equal(missing.rows, 0);
  assert.equal(summarizeDataFile(path.join(dir, 'ok.jsonl', 'x'), 'messages').exists, false);

  const sub = path.join(dir, 'folder.jsonl');
  fs.mkdirSync(sub);
  const folder = summarizeDataFile(sub, 'messages');
  assert.equal(folder.exists, true);
  assert.match(folder.error ?? '', /directory/);

  if (process.platform !== 'win32') {
    const fifo = path.join(dir, 'fifo.jsonl');
    execFileSync('mkfifo', [fifo]);
    const pipe = summarizeDataFile(fifo, 'messages');
    assert.equal(pipe.exists, true);
    assert.match(pipe.error ?? '', /not a regular file/);
    // A device that never ends is not read either (this returns at once).
    const zero = summarizeDataFile('/dev/zero', 'messages');
    assert.equal(zero.exists, true);
    assert.match(zero.error ?? '', /not a regular file/);
    assert.equal(zero.bytesRead, undefined);
  }

  const locked = write('locked.jsonl', chat('q', 'a') + '\n');
  fs.chmodSync(locked, 0o000);
  let readable = true;
  try {
    fs.accessSync(locked, fs.constants.R_OK);
  } catch {
    readable = false;
  }
  const s = summarizeDataFile(locked, 'messages');
  if (!readable) {
    // (root reads anything: this half only runs as a normal user.)
    assert.equal(s.exists, true);
    assert.match(s.error ?? '', /permission denied/);
  }
  fs.chmodSync(locked, 0o644);
});

test('cached while unchanged; re-read after the file changes; per format', () => {
  clearDataCache();
  const file = write('changing.jsonl', chat('q', 'a') + '\n');
  const first = summarizeDataFile(file, 'messages');
  assert.equal(summarizeDataFile(file, 'messages'), first, 'same object from the cache');
  assert.equal(first.rows, 1);

  fs.writeFileSync(file, chat('q', 'a') + '\n' + chat('q2', 'a2') + '\nnot json\n');
  const second = summarizeDataFile(file, 'messages');
  assert.notEqual(second, first);
  assert.equal(second.rows, 3);
  assert.equal(second.firstBadLine?.line, 3);

  const asText = summarizeDataFile(file, 'text');
  assert.equal(asText.badLines, 3);
  assert.equal(summarizeDataFile(file, 'messages'), second);

  fs.rmSync(file);
  assert.equal(summarizeDataFile(file, 'messages').exists, false);
});

test('summarizeData resolves paths against the config directory; general data accepts any format', () => {
  const cfgDir = fs.mkdtempSync(path.join(dir, 'cfg-'));
  fs.mkdirSync(path.join(cfgDir, 'data'));
  fs.writeFileSync(path.join(cfgDir, 'data', 'train.jsonl'), chat('q', 'a') + '\n');
  const general = write('general.jsonl', '{"text": "t"}\n' + chat('q', 'a') + '\n');
  const plan = buildNativePlan({
    method: 'lora',
    model: { name_or_path: 'x' },
    data: {
      train_file: 'data/train.jsonl',
      eval_file: './data/eval.jsonl',
      general_data: { file: general, ratio: 0.05 },
      format: 'messages',
    },
  });
  const s = summarizeData(plan, cfgDir);
  assert.equal(s.train?.path, path.join(cfgDir, 'data', 'train.jsonl'));
  assert.equal(s.train?.rows, 1);
  assert.equal(s.eval?.exists, false);
  assert.equal(s.eval?.path, path.join(cfgDir, 'data', 'eval.jsonl'));
  assert.equal(s.general?.rows, 2);
  assert.equal(s.general?.badLines, 0);

  // Unsaved config: relative paths cannot be resolved, absolute ones still are.
  const unsaved = summarizeData(plan, undefined);
  assert.equal(unsaved.train, undefined);
  assert.equal(unsaved.general?.rows, 2);
  assert.deepEqual(
    summarizeData(buildNativePlan({ method: 'lora', data: {} }), cfgDir),
    {},
    'no files named',
  );
  assert.equal(resolveDataPath('~/d.jsonl', undefined), path.join(os.homedir(), 'd.jsonl'));
});

test('summarizeData reads evaluation.forgetting.file, once when it is the general file', () => {
  const cfgDir = fs.mkdtempSync(path.join(dir, 'cfg-'));
  fs.mkdirSync(path.join(cfgDir, 'data'));
  fs.writeFileSync(path.join(cfgDir, 'data', 'general.jsonl'), chat('q', 'a') + '\n');
  fs.writeFileSync(path.join(cfgDir, 'data', 'held-out.jsonl'), '{"text": "t"}\n'.repeat(3));
  const planFor = (forgetting: Record<string, unknown> | undefined) =>
    buildNativePlan({
      method: 'lora',
      data: { general_data: { file: 'data/general.jsonl' } },
      evaluation: forgetting ? { forgetting } : {},
    });

  const own = summarizeData(planFor({ file: 'data/held-out.jsonl' }), cfgDir);
  assert.equal(own.forgetting?.path, path.join(cfgDir, 'data', 'held-out.jsonl'));
  assert.equal(own.forgetting?.rows, 3, 'any of the three formats, like the general file');
  assert.equal(own.general?.rows, 1);

  // Its default, or the same file written another way: the general file's summary.
  for (const forgetting of [{}, { file: './data/general.jsonl' }]) {
    const same = summarizeData(planFor(forgetting), cfgDir);
    assert.ok(same.general);
    assert.equal(same.forgetting, same.general);
  }
  assert.equal(summarizeData(planFor(undefined), cfgDir).forgetting, undefined, 'not written');
  const missing = summarizeData(planFor({ file: 'data/none.jsonl' }), cfgDir);
  assert.equal(missing.forgetting?.exists, false);
  assert.equal(
    summarizeData(planFor({ file: 'data/held-out.jsonl' }), undefined).forgetting,
    undefined,
  );
});

test('a 100 MB file: only the first 20 MB are read, fast and with bounded memory', (t) => {
  const bigDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tunelab-big-'));
  try {
    const line = chat('How do I reset my router? '.repeat(4), 'Hold the reset button. '.repeat(12));
    const lineBytes = Buffer.byteLength(line) + 1;
    const block = (line + '\n').repeat(Math.floor((1024 * 1024) / lineBytes));
    const file = path.join(bigDir, 'big.jsonl');
    const fd = fs.openSync(file, 'w');
    let written = 0;
    while (written < 100 * 1024 * 1024) written += fs.writeSync(fd, block);
    fs.closeSync(fd);

    clearDataCache();
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    const start = performance.now();
    const s = summarizeDataFile(file, 'messages');
    const ms = performance.now() - start;
    gc();
    const retained = process.memoryUsage().heapUsed - heapBefore;

    assert.equal(s.partial, true);
    assert.equal(s.sizeBytes, written);
    assert.equal(s.bytesRead, DATA_READ_BOUND);
    // Whole lines inside the bound; the line cut at 20 MB is ignored.
    assert.equal(s.rows, Math.floor(DATA_READ_BOUND / lineBytes));
    assert.equal(s.badLines, 0);
    assert.equal(s.tokenLengths.length, s.rows);
    // What stays is the summary: one number per row (a few MB at most).
    assert.ok(retained < 16 * 1024 * 1024, `retained ${retained} bytes`);
    // The bound is on bytes read (asserted above); the time is a figure, not an assertion: machines differ.
    t.diagnostic(`20 MB of a 100 MB file (${s.rows} rows) read in ${ms.toFixed(0)} ms`);
  } finally {
    fs.rmSync(bigDir, { recursive: true, force: true });
  }
});

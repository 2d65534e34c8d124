// Token counts with a real tokenizer: the 8,000-token BPE tokenizer of the H100
// whole runs (runner/bench/results/whole-runs-tokenizer) over the telecom train
// chats must give what the runner measured with it and the llama-3 template
// (template-runs-h100.json: mean 353.4, median 353, max 552, total 424,045).

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { Tokenizer } from '@huggingface/tokenizers';
import { buildNativePlan } from '../nativePlan';
import { clearDataCache, summarizeData, summarizeDataFile } from './inspect';
import { CHARS_PER_TOKEN, tokenSourceText, TOKENIZE_CHAR_BUDGET } from './tokenCount';
import { clearTokenizerCache, findTokenizerFile, loadTokenizer } from './tokenizer';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const TOKENIZER_DIR = path.join(ROOT, 'runner', 'bench', 'results', 'whole-runs-tokenizer');
const TRAIN = path.join(ROOT, 'templates', 'telecom-support', 'data', 'train.jsonl');

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tunelab-tokens-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const planFor = (model: string, chatTemplate = 'llama-3') =>
  buildNativePlan({
    method: 'lora',
    model: { name_or_path: model },
    data: { train_file: TRAIN, format: 'messages', chat_template: chatTemplate, max_length: 2048 },
  });

function stats(lengths: readonly number[]) {
  const sorted = [...lengths].sort((a, b) => a - b);
  const total = sorted.reduce((a, b) => a + b, 0);
  return {
    total,
    mean: total / sorted.length,
    median: sorted[sorted.length >> 1],
    max: sorted.at(-1)!,
  };
}

test('the whole runs’ tokenizer counts the telecom chats as the runner did', () => {
  clearDataCache();
  clearTokenizerCache();
  const started = performance.now();
  const cpu = process.cpuUsage();
  const data = summarizeData(planFor(TOKENIZER_DIR), undefined);
  const ms = performance.now() - started;
  const cpuMs = process.cpuUsage(cpu).user / 1000;
  const train = data.train!;
  assert.equal(train.rows, 1200);
  assert.deepEqual(train.tokenSource, {
    kind: 'tokenizer',
    path: path.join(TOKENIZER_DIR, 'tokenizer.json'),
    template: 'llama-3',
  });
  const s = stats(train.tokenLengths);
  // The runner: mean 353.4, median 353, max 552, total 424,045 (within 1%).
  assert.ok(Math.abs(s.total / 424_045 - 1) < 0.01, `total ${s.total}`);
  assert.ok(Math.abs(s.mean / 353.4 - 1) < 0.01, `mean ${s.mean}`);
  assert.ok(Math.abs(s.median - 353) <= 3, `median ${s.median}`);
  assert.ok(Math.abs(s.max - 552) <= 5, `max ${s.max}`);
  // Figure, not a timed assertion (machines differ): load + count on a cache miss.
  console.log(
    `tokenizer load + 1,200 chats: ${ms.toFixed(0)} ms wall, ${cpuMs.toFixed(0)} ms CPU; total ${s.total}, max ${s.max}`,
  );
  assert.equal(
    tokenSourceText(train.tokenSource),
    `tokenizer: ${train.tokenSource!.kind === 'tokenizer' && train.tokenSource!.path}`,
  );

  // Unchanged files: the same summary object, nothing re-tokenized.
  assert.equal(summarizeData(planFor(TOKENIZER_DIR), undefined).train, train);
});

test('the model’s own template (chat_template.jinja beside the tokenizer) is read when the config says `model`', () => {
  const train = summarizeData(planFor(TOKENIZER_DIR, 'model'), undefined).train!;
  assert.equal(train.tokenSource?.kind === 'tokenizer' && train.tokenSource.template, 'llama-3');
  assert.equal(stats(train.tokenLengths).total, 424_045);
});

test('without a tokenizer, the chars-per-token estimate counts and says so', () => {
  const train = summarizeData(planFor('meta-llama/Llama-3.2-1B'), undefined).train!;
  assert.deepEqual(train.tokenSource, { kind: 'chars-per-token', charsPerToken: CHARS_PER_TOKEN });
  assert.equal(tokenSourceText(train.tokenSource), 'chars-per-token 3.6');
  assert.equal(tokenSourceText(undefined), 'chars-per-token 3.6');
  assert.equal(train.rows, 1200);
  // The estimate stays what it was: ~20% above the tokenizer's count here.
  assert.ok(stats(train.tokenLengths).total > 424_045);
});

test('a Hub id finds tokenizer.json in the Hub cache; a broken one falls back with the reason', () => {
  const hub = path.join(tmp, 'hub');
  const dir = path.join(hub, 'acme--tiny', 'main');
  fs.mkdirSync(dir, { recursive: true });
  for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json'])
    fs.copyFileSync(path.join(TOKENIZER_DIR, f), path.join(dir, f));
  assert.equal(
    findTokenizerFile('acme/tiny', undefined, hub, undefined),
    path.join(dir, 'tokenizer.json'),
  );
  assert.equal(findTokenizerFile('acme/tiny', undefined, undefined, undefined), undefined);
  const plan = planFor('acme/tiny');
  const viaHub = summarizeData(plan, undefined, { hubCacheDir: hub }).train!;
  assert.equal(viaHub.tokenSource?.kind, 'tokenizer');
  assert.equal(stats(viaHub.tokenLengths).total, 424_045);

  fs.writeFileSync(path.join(dir, 'tokenizer.json'), '{"model": ');
  const broken = summarizeData(plan, undefined, { hubCacheDir: hub }).train!;
  assert.equal(broken.tokenSource?.kind, 'chars-per-token');
  assert.match(
    (broken.tokenSource?.kind === 'chars-per-token' && broken.tokenSource.reason) || '',
    /tokenizer\.json is not a JSON object/,
  );
});

test('a relative model directory resolves against the config directory', () => {
  const rel = path.relative(tmp, TOKENIZER_DIR);
  assert.equal(
    findTokenizerFile(rel, tmp, undefined, undefined),
    path.join(TOKENIZER_DIR, 'tokenizer.json'),
  );
  assert.equal(findTokenizerFile(rel, undefined, undefined, undefined), undefined);
});

test('the piece-wise count equals the library’s whole-text encode', () => {
  const file = path.join(TOKENIZER_DIR, 'tokenizer.json');
  const { tokenizer } = loadTokenizer(file);
  assert.ok(tokenizer);
  const library = new Tokenizer(
    JSON.parse(fs.readFileSync(file, 'utf8')),
    JSON.parse(fs.readFileSync(path.join(TOKENIZER_DIR, 'tokenizer_config.json'), 'utf8')),
  );
  const texts = [
    'Hello   world!\n\n  Roaming costs 12.50 EUR/day, don’t worry.',
    'résumé 日本語 1234567 \t\ttabs  ',
    'typed marker <|eot_id|> inside',
    ' leading space, trailing newline\n',
    '',
  ];
  // Every distinct message of the telecom chats too.
  for (const line of fs.readFileSync(TRAIN, 'utf8').split('\n').slice(0, 200)) {
    if (line) for (const m of JSON.parse(line).messages) texts.push(m.content);
  }
  for (const text of texts) {
    const expected = library.encode(text, { add_special_tokens: false }).ids.length;
    assert.equal(tokenizer.count(text), expected, JSON.stringify(text.slice(0, 80)));
  }
  assert.ok(tokenizer.isToken('<|eot_id|>'));
  assert.ok(!tokenizer.isToken('<|im_start|>'));
  assert.equal(tokenizer.specialTokensAdded(), 0);
});

test('rows past the tokenizing budget are scaled from the counted ones and said', () => {
  // Long distinct chats: the budget runs out part way through.
  const rows: string[] = [];
  const words = 'bill plan roaming sim esim transfer coverage outage unlock refund'.split(' ');
  const perRow = 40_000;
  for (let i = 0; rows.length * perRow < TOKENIZE_CHAR_BUDGET * 1.5; i++) {
    let text = '';
    for (let j = 0; text.length < perRow; j++)
      text += `${words[(i * 7 + j * 3) % words.length]}${(i * 31 + j) % 997} `;
    rows.push(
      JSON.stringify({
        messages: [
          { role: 'user', content: 'q' },
          { role: 'assistant', content: text },
        ],
      }),
    );
  }
  const file = path.join(tmp, 'long.jsonl');
  fs.writeFileSync(file, rows.join('\n') + '\n');
  const plan = buildNativePlan({
    method: 'lora',
    model: { name_or_path: TOKENIZER_DIR },
    data: { train_file: file, format: 'messages', chat_template: 'llama-3' },
  });
  const s = summarizeData(plan, undefined).train!;
  const source = s.tokenSource;
  assert.ok(source?.kind === 'tokenizer');
  assert.ok(source.estimatedRows! > 0 && source.countedRows! > 0, JSON.stringify(source));
  assert.equal(source.estimatedRows! + source.countedRows!, rows.length);
  // Scaled rows stay near the counted ones (same text distribution).
  const counted = s.tokenLengths.slice(0, source.countedRows);
  const scaled = s.tokenLengths.slice(source.countedRows);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  assert.ok(Math.abs(mean(scaled) / mean(counted) - 1) < 0.05);
  assert.equal(summarizeDataFile(file, 'messages').tokenSource?.kind, 'chars-per-token');
});

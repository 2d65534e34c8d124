// Printing a run's log with its position kept: pieces of whole lines, the
// "in flight" mark around each write, a printer killed with -9 twenty times
// at random moments on a growing log (every line once, except lines it said
// may repeat; no temp file left), and no abort listener piling up.

import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { readRunLog, sleep } from '../../launch/src/follow';
import { launchRun } from '../../launch/src/launcher';
import { countLines, linePieces, printRun } from '../../launch/src/printRun';
import { RunStore, type RunRecord } from '../../launch/src/runRecord';
import type { LogReader, PollResult, TargetAdapter } from '../../launch/src/target';
import { BASE_CONFIG, makeProject, waitFor } from './infra';
import { checkAttaches, runDriver, type Attach } from './printCheck';

/** A target whose log is `log`, delivered in `chunkBytes` pieces every `everyMs`. */
function fakeAdapter(log: Buffer, options: { chunkBytes: number; everyMs: number }): TargetAdapter {
  return {
    start: () => Promise.reject(new Error('not here')),
    stop: () => Promise.resolve(),
    poll: (): Promise<PollResult> =>
      Promise.resolve({ state: 'completed', exitCode: 0, logSize: log.length }),
    readLog(_record: RunRecord, fromOffset: number, onData: (chunk: Buffer) => void): LogReader {
      let at = fromOffset;
      let timer: NodeJS.Timeout | undefined;
      let finish: (how: 'ended' | 'dropped') => void = () => undefined;
      const done = new Promise<'ended' | 'dropped'>((resolve) => (finish = resolve));
      const tick = () => {
        if (at >= log.length) return finish('ended');
        onData(log.subarray(at, at + options.chunkBytes));
        at += options.chunkBytes;
        timer = setTimeout(tick, options.everyMs);
      };
      timer = setTimeout(tick, options.everyMs);
      return {
        done,
        cancel: () => {
          clearTimeout(timer);
          finish('dropped');
        },
      };
    },
  };
}

function fakeRun(): { store: RunStore; record: RunRecord } {
  const store = new RunStore(fs.mkdtempSync(path.join(os.tmpdir(), 'tunelab-print-')));
  const now = new Date().toISOString();
  const record: RunRecord = {
    ...{ version: 1, id: 'fake-run', config: '/x.yaml', target: 'local', runDir: '/x' },
    ...{ logPath: '/x/log', logOffset: 0, state: 'running', command: [], secretNames: [] },
    ...{ createdAt: now, updatedAt: now },
  };
  store.save(record);
  return { store, record };
}

const numbered = (count: number, from = 0) =>
  Array.from(
    { length: count },
    (_, i) => `${String(from + i).padStart(6, '0')} ${'é'.repeat((from + i) % 37)}`,
  );

test('pieces of whole lines within PIPE_BUF; a longer line goes alone', () => {
  const text = Buffer.from(numbered(500).join('\n') + '\n');
  const pieces = linePieces(text, 4096);
  assert.equal(Buffer.concat(pieces).toString(), text.toString());
  for (const piece of pieces) {
    assert.ok(piece.length <= 4096);
    assert.equal(piece[piece.length - 1], 0x0a);
  }
  const long = Buffer.from(`a\n${'x'.repeat(5000)}\nb\nc`);
  assert.deepEqual(
    linePieces(long, 4096).map((p) => p.length),
    [2, 5001, 3],
  );
  assert.equal(countLines(long), 4);
  assert.equal(countLines(Buffer.from('a\nb\n')), 2);
});

test('printRun: bytes as in the log, position recorded, in-flight announced to the next attach', async () => {
  const { store, record } = fakeRun();
  const log = Buffer.from(numbered(3000).join('\n') + '\nlast line without newline');
  const adapter = fakeAdapter(log, { chunkBytes: 7001, everyMs: 1 });
  const printed: Buffer[] = [];
  const positions: string[] = [];
  const result = await printRun(store, record, adapter, {
    follow: true,
    write: (bytes) => {
      assert.ok(bytes.length <= 4096);
      // Before each write the position says which bytes are in flight.
      positions.push(fs.readFileSync(store.positionPath(record.id), 'utf8'));
      printed.push(Buffer.from(bytes));
    },
  });
  assert.equal(result.state, 'completed');
  assert.ok(Buffer.concat(printed).equals(log));
  for (const text of positions) assert.match(text, /"inFlight":\{"to":\d+,"lines":\d+\}/);
  assert.equal(store.load(record.id)!.logOffset, log.length);
  assert.equal(store.load(record.id)!.logInFlight, undefined);

  // A printer killed between its two marks: the next one resumes before the piece and says so.
  store.openLogPosition(record.id).begin(100, 200, 3);
  assert.deepEqual(store.load(record.id)!.logInFlight, { to: 200, lines: 3 });
  const again: Buffer[] = [];
  const announced: number[] = [];
  await printRun(store, record, adapter, {
    follow: true,
    write: (bytes) => again.push(Buffer.from(bytes)),
    onMayRepeat: (lines) => announced.push(lines),
  });
  assert.deepEqual(announced, [3]);
  assert.ok(Buffer.concat(again).equals(log.subarray(100)));
});

test('printRun: a failing write stops the stream and leaves the position before it', async () => {
  const { store, record } = fakeRun();
  const log = Buffer.from(numbered(2000).join('\n') + '\n');
  let writes = 0;
  await assert.rejects(
    printRun(store, record, fakeAdapter(log, { chunkBytes: 5000, everyMs: 1 }), {
      follow: true,
      write: () => {
        if (++writes === 3) throw Object.assign(new Error('EPIPE'), { code: 'EPIPE' });
      },
    }),
    /EPIPE/,
  );
  const saved = store.load(record.id)!;
  assert.ok(saved.logOffset > 0 && saved.logInFlight !== undefined, JSON.stringify(saved));
});

test('stale temp records of killed writers are removed on load; a live writer keeps its own', () => {
  const { store, record } = fakeRun();
  const stale = `${store.recordPath(record.id)}.999999999.tmp`;
  const live = `${store.recordPath(record.id)}.${process.pid}.tmp`;
  fs.writeFileSync(stale, '{');
  fs.writeFileSync(live, '{');
  assert.equal(store.load(record.id)!.id, record.id);
  assert.equal(fs.existsSync(stale), false);
  assert.equal(fs.existsSync(live), true);
});

test('sleep and a long read leave no abort listener behind (no MaxListenersExceededWarning)', async () => {
  const warnings: Error[] = [];
  const onWarning = (warning: Error) => warnings.push(warning);
  process.on('warning', onWarning);
  try {
    const controller = new AbortController();
    for (let i = 0; i < 30; i++) await sleep(1, controller.signal);
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
    const log = Buffer.from(numbered(400).join('\n') + '\n');
    const lines: string[] = [];
    // ~60 turns of the read loop's 20 ms wait.
    const result = await readRunLog(
      { logPath: '/x' } as RunRecord,
      fakeAdapter(log, { chunkBytes: 100, everyMs: 5 }),
      { fromOffset: 0, onLine: (text) => lines.push(text), signal: controller.signal },
    );
    assert.equal(result.offset, log.length);
    assert.equal(lines.length, 400);
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(
      warnings.map((w) => w.message),
      [],
    );
  } finally {
    process.off('warning', onWarning);
  }
});

/** A job writing `count` numbered lines, paced until `fast` exists, staying alive until `end` exists. */
const WRITER = `
const fs = require('node:fs');
const [count, fast, end] = [Number(process.argv[1]), process.argv[2], process.argv[3]];
const line = (i) => String(i).padStart(6, '0') + ' ' + 'ü'.repeat(i % 23) + 'x'.repeat(i % 61) + '\\n';
const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
for (let i = 0; i < count; i++) {
  fs.writeSync(1, line(i));
  if (i % 10 === 9 && !fs.existsSync(fast)) sleep(20);
}
while (!fs.existsSync(end)) sleep(50);
`;

for (const printer of ['driver', 'cli'] as const)
  test(
    `${printer === 'cli' ? '`tunelab logs --follow`' : 'a printer'} killed with -9 twenty times on a growing log: every line once, except announced repeats`,
    { timeout: 240_000 },
    async () => {
      const count = 20_000;
      const { dir, config, workspace } = makeProject(BASE_CONFIG);
      const fast = path.join(dir, 'fast');
      const end = path.join(dir, 'end');
      const record = await launchRun(config, {
        workspaceDir: workspace,
        jobArgv: [process.execPath, '-e', WRITER, String(count), fast, end],
      });
      const attaches: Attach[] = [];
      for (let kill = 0; kill < 20; kill++)
        attaches.push(
          await runDriver(workspace, record.id, Math.floor(Math.random() * 300), {}, printer),
        );
      fs.writeFileSync(fast, '');
      await waitFor(
        () => countLines(fs.readFileSync(record.logPath)) >= count || undefined,
        60_000,
        'the whole log',
      );
      fs.writeFileSync(end, '');
      const last = await runDriver(workspace, record.id, undefined, {}, printer);
      attaches.push(last);
      assert.match(
        last.stderr,
        printer === 'cli' ? /run \S+ completed/ : /end completed/,
        last.stderr,
      );

      const log = fs.readFileSync(record.logPath, 'utf8');
      const { announcements, repeated } = checkAttaches(attaches, log, count);
      const runs = new RunStore(workspace);
      assert.deepEqual(
        fs.readdirSync(runs.dir).filter((name) => name.endsWith('.tmp')),
        [],
        'no temp file left',
      );
      assert.equal(runs.load(record.id)!.logOffset, Buffer.byteLength(log));
      const killedWhilePrinting = attaches.slice(0, 20).filter((a) => a.stdout.length > 0).length;
      console.log(
        `# ${killedWhilePrinting}/20 kills after printing began; ${announcements} announced possible repeats, ${repeated} lines repeated`,
      );
    },
  );

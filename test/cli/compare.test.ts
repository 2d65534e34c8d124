// `tunelab compare` as users run it (dist/cli.js): on the eval.json fixtures
// (test/fixtures/eval, read here for every number checked, since recorded
// files replace the placeholders) and on recorded runs of a workspace, by id
// and prefix, in every format; unknown, ambiguous and unevaluated runs refused.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { parseYaml } from '../../engine/src/parse';
import { RunStore, type RunRecord } from '../../launch/src/runRecord';
import { CLI, ensureBuilt, ROOT } from '../launch/infra';
import { completedRecord } from '../support/runRecords';

const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'eval');
const LORA = path.join(FIXTURES, 'lora.eval.json');
const FULL = path.join(FIXTURES, 'full.eval.json');

interface Fixture {
  task: { loss: number; generation: { metrics: Record<string, number | null> } };
  forgetting: { change: number; verdict: string };
}
const read = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8')) as Fixture;

function tunelab(args: string[], cwd = ROOT) {
  ensureBuilt();
  const result = spawnSync(process.execPath, [CLI, ...args], {
    cwd,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The exit code compare must give: 1 when a forgetting verdict is fail. */
const expectedCode = (...files: string[]) =>
  files.some((file) => read(file).forgetting.verdict === 'fail') ? 1 : 0;

/** Minimal RFC 4180 reader: quoted fields may hold commas, quotes and newlines. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted && ch === '"' && text[i + 1] === '"') {
      field += '"';
      i++;
    } else if (ch === '"') quoted = !quoted;
    else if (quoted || (ch !== ',' && ch !== '\n')) field += ch;
    else {
      row.push(field);
      field = '';
      if (ch === '\n') {
        rows.push(row);
        row = [];
      }
    }
  }
  return rows;
}

test('compare two eval.json files: metrics with deltas, verdicts, config diff, generations', () => {
  const run = tunelab(['compare', LORA, FULL]);
  assert.equal(run.code, expectedCode(LORA, FULL), run.stderr);
  const lora = read(LORA);
  const full = read(FULL);
  for (const name of Object.keys(lora.task.generation.metrics))
    assert.match(run.stdout, new RegExp(`^generation: ${name}\\s`, 'm'));
  assert.match(run.stdout, new RegExp(`^lora .*${lora.forgetting.verdict}$`, 'm'));
  assert.match(run.stdout, new RegExp(`^full .*${full.forgetting.verdict}$`, 'm'));
  assert.match(run.stdout, /^config keys that differ:$/m);
  assert.match(run.stdout, /^method\s+lora\s+full$/m);
  assert.match(run.stdout, /^prompt: /m);
});

test('compare --format json: deltas against the first run, only differing config keys', () => {
  const run = tunelab(['compare', '--format', 'json', LORA, FULL]);
  assert.equal(run.code, expectedCode(LORA, FULL), run.stderr);
  const out = JSON.parse(run.stdout) as {
    runs: { label: string }[];
    metrics: { section: string; name: string; values: number[]; deltas: (number | null)[] }[];
    forgetting: { label: string; verdict: string; change: number }[];
    configDiff: { key: string; values: (string | null)[] }[];
  };
  assert.deepEqual(
    out.runs.map((r) => r.label),
    ['lora', 'full'],
  );
  const loss = out.metrics.find((m) => m.section === 'task' && m.name === 'loss')!;
  assert.deepEqual(loss.values, [read(LORA).task.loss, read(FULL).task.loss]);
  assert.equal(loss.deltas[0], null);
  assert.ok(Math.abs(loss.deltas[1]! - (read(FULL).task.loss - read(LORA).task.loss)) < 1e-9);
  assert.deepEqual(
    out.forgetting.map((f) => [f.verdict, f.change]),
    [LORA, FULL].map((file) => [read(file).forgetting.verdict, read(file).forgetting.change]),
  );
  // Every key of both configs that differs, and nothing else.
  const flat = (file: string) => {
    const keys = new Map<string, string>();
    const walk = (value: unknown, prefix: string) => {
      if (value && typeof value === 'object' && !Array.isArray(value))
        for (const [k, v] of Object.entries(value)) walk(v, prefix ? `${prefix}.${k}` : k);
      else keys.set(prefix, JSON.stringify(value));
    };
    walk(parseYaml(fs.readFileSync(file, 'utf8')).value, '');
    return keys;
  };
  const a = flat(path.join(FIXTURES, 'lora.finetune.yaml'));
  const b = flat(path.join(FIXTURES, 'full.finetune.yaml'));
  const differing = [...new Set([...a.keys(), ...b.keys()])].filter((k) => a.get(k) !== b.get(k));
  assert.deepEqual(out.configDiff.map((d) => d.key).sort(), differing.sort());
});

test('compare --format csv and markdown', () => {
  const csv = tunelab(['compare', '--format', 'csv', LORA, FULL]);
  assert.equal(csv.code, expectedCode(LORA, FULL), csv.stderr);
  const rows = parseCsv(csv.stdout);
  assert.deepEqual(rows[0], ['section', 'name', 'lora', 'full', 'delta full']);
  const chrf = rows.find((r) => r[0] === 'generation' && r[1] === 'chrf');
  const metrics = [LORA, FULL].map((f) => read(f).task.generation.metrics.chrf);
  if (metrics.every((m) => typeof m === 'number'))
    assert.deepEqual(chrf?.slice(2, 4), metrics.map(String));
  assert.ok(rows.some((r) => r[0] === 'config' && r[1] === 'method'));
  const md = tunelab(['compare', '--format', 'markdown', LORA, FULL]);
  assert.match(md.stdout, /^\| metric \| lora \| full \|$/m);
  assert.match(md.stdout, /^### Forgetting$/m);
});

/** A finished local run's record; `createdAt` orders the runs (newest first). */
function record(
  id: string,
  workspace: string,
  extra: Partial<RunRecord> & { createdAt: string },
): RunRecord {
  return completedRecord({
    id,
    config: path.join(workspace, `${id}.finetune.yaml`),
    runDir: path.join(workspace, 'nowhere'),
    ...extra,
  });
}

/** A workspace with a lora run evaluated in its own log, and a full run with an eval run. */
function workspaceWithRuns(): string {
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'tunelab-compare-'));
  const store = new RunStore(workspace);
  fs.copyFileSync(
    path.join(FIXTURES, 'lora.finetune.yaml'),
    path.join(workspace, 'lora-a.finetune.yaml'),
  );
  fs.copyFileSync(
    path.join(FIXTURES, 'full.finetune.yaml'),
    path.join(workspace, 'full-b.finetune.yaml'),
  );
  // The lora run trained and evaluated in-process (`evaluation.when: end`): all in its log.
  const log = path.join(workspace, 'lora-a.log');
  const step = (n: number, loss: number) =>
    `@tunelab ${JSON.stringify({ event: 'step', time: 1, v: 1, step: n, max_steps: 20, loss })}`;
  const evalResult = { event: 'eval_result', time: 2, v: 1, ...read(LORA) };
  fs.writeFileSync(
    log,
    [step(10, 1.9), step(20, 1.4), 'plain line', `@tunelab ${JSON.stringify(evalResult)}`].join(
      '\n',
    ) + '\n',
  );
  store.save(record('lora-a', workspace, { logPath: log, createdAt: '2026-12-06T10:00:00.000Z' }));
  store.save(record('full-b', workspace, { createdAt: '2026-12-06T11:00:00.000Z' }));
  // The full run's evaluation: an eval run whose result was kept while it streamed.
  store.save({
    ...record('full-b-eval', workspace, {
      kind: 'eval',
      evalOf: 'full-b',
      createdAt: '2026-12-06T12:00:00.000Z',
    }),
    config: path.join(workspace, 'full-b.finetune.yaml'),
  });
  fs.copyFileSync(FULL, path.join(store.dir, 'full-b-eval.eval.json'));
  store.save(record('lora-c', workspace, { createdAt: '2026-12-06T13:00:00.000Z' }));
  return workspace;
}

test('compare recorded runs by id and prefix: the result in the log, or of its eval run', () => {
  const workspace = workspaceWithRuns();
  const run = tunelab(['compare', '--format', 'json', 'lora-a', 'full-b'], workspace);
  assert.equal(run.code, expectedCode(LORA, FULL), run.stderr);
  const out = JSON.parse(run.stdout) as {
    runs: { label: string }[];
    metrics: { name: string; values: (number | null)[] }[];
    configDiff: { key: string }[];
  };
  assert.deepEqual(
    out.runs.map((r) => r.label),
    ['lora-a', 'full-b'],
  );
  // The lora run's training curve came from its log; the full run has none here.
  assert.deepEqual(out.metrics.find((m) => m.name === 'last train loss')?.values, [1.4, null]);
  assert.ok(out.configDiff.some((d) => d.key === 'method'));
  // Read from the log once, then kept beside the record.
  assert.ok(fs.existsSync(path.join(workspace, '.tunelab', 'runs', 'lora-a.eval.json')));

  const ambiguous = tunelab(['compare', 'lora', 'full-b'], workspace);
  assert.equal(ambiguous.code, 2);
  assert.match(ambiguous.stderr, /^tunelab: lora matches 2 runs; give more of the id$/m);
  const unevaluated = tunelab(['compare', 'lora-c', 'full-b'], workspace);
  assert.equal(unevaluated.code, 2);
  assert.match(
    unevaluated.stderr,
    /run lora-c has no evaluation yet; start one with `tunelab eval lora-c`/,
  );
  const unknown = tunelab(['compare', 'nope', 'full-b'], workspace);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /no run nope in .* and no eval\.json file of that name/);
});

test('compare misuse: one RUN, an unknown format, a file that is not an eval.json', () => {
  const one = tunelab(['compare', LORA]);
  assert.equal(one.code, 2);
  assert.match(one.stderr, /^tunelab: compare needs at least 2 RUNs$/m);
  const format = tunelab(['compare', '--format', 'xml', LORA, FULL]);
  assert.equal(format.code, 2);
  assert.match(format.stderr, /^tunelab: --format must be text, json, markdown or csv, got xml$/m);
  const notEval = tunelab(['compare', path.join(ROOT, 'package.json'), FULL]);
  assert.equal(notEval.code, 2);
  assert.match(notEval.stderr, /package\.json is not an eval\.json of format 1/);
});

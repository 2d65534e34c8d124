// `tunelab serve RUN…` on recorded runs with hostile config names and paths:
// the printed vLLM command lines are run by a real POSIX shell with a `vllm`
// on PATH that prints its argv, so each value must arrive as one argument,
// unchanged, and nothing in a name or path may run (the canary stays absent).
// The Python snippet is compiled by python3. serveCommand is called through
// a small driver until main.ts registers `serve` (the lead's change).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { RunStore, type RunRecord } from '../../launch/src/runRecord';
import type { ServeRecipe } from '../../launch/src/serveRecipe';
import { CANARY, ROOT } from '../launch/infra';

// A usage error is exit 2 with its message, as main.ts reports it.
const DRIVER = `import('./cli/src/exportServeCommands.ts').then((m) => {
  const serve = m.serveCommand ?? m.default.serveCommand;
  try { process.exitCode = serve(process.argv.slice(1), process.env.SERVE_CWD); }
  catch (err) { process.stderr.write(err.message + '\\n'); process.exitCode = 2; }
})`;

function serve(args: string[], cwd: string) {
  return spawnSync(process.execPath, ['--import', 'tsx', '-e', DRIVER, '--', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, SERVE_CWD: cwd },
  });
}

const HOSTILE_DIR = `it's $(touch ${CANARY}) \`x\` "q"`;

function workspace(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'tunelab-serve-'));
}

function addRun(
  ws: string,
  id: string,
  file: string,
  config: string,
  extra: Partial<RunRecord> = {},
): RunRecord {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, config);
  const now = new Date().toISOString();
  return new RunStore(ws).save({
    version: 1,
    id,
    config: file,
    target: 'local',
    runDir: '',
    logPath: '',
    logOffset: 0,
    state: 'completed',
    command: [],
    secretNames: [],
    createdAt: now,
    updatedAt: now,
    ...extra,
  });
}

const lora = (base: string, r: number, output: string) =>
  `method: lora\nmodel:\n  name_or_path: ${JSON.stringify(base)}\nlora:\n  r: ${r}\n` +
  `data:\n  train_file: data/train.jsonl\ntraining:\n  output_dir: ${JSON.stringify(output)}\n`;

/** Runs `line` in sh with a fake vllm; returns the argv vllm received. */
function argvOf(line: string): string[] {
  const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'tunelab-vllm-'));
  fs.writeFileSync(
    path.join(bin, 'vllm'),
    '#!/usr/bin/env python3\nimport json, sys\nprint(json.dumps(sys.argv[1:]))\n',
    { mode: 0o755 },
  );
  const run = spawnSync('sh', ['-c', line], {
    encoding: 'utf8',
    env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` },
  });
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout) as string[];
}

test('serve: one vLLM line for the adapters of one base, every hostile value one argument', () => {
  const ws = workspace();
  const dir = path.join(ws, HOSTILE_DIR);
  const base = `/models/base; touch ${CANARY}`;
  const a = addRun(ws, 'run-a', path.join(dir, "sup'port.finetune.yaml"), lora(base, 16, 'out a'));
  const b = addRun(ws, 'run-b', path.join(dir, 'billing.finetune.yaml'), lora(base, 64, 'out=b'));
  const other = addRun(ws, 'run-c', path.join(ws, 'c.finetune.yaml'), lora('org/model-x', 8, 'o'));

  const text = serve([a.id, b.id, other.id], ws);
  assert.equal(text.status, 0, text.stderr);
  const lines = text.stdout.split('\n').filter((l) => l.startsWith('vllm serve'));
  assert.equal(lines.length, 2 + 3, text.stdout); // two bases, three merged variants
  assert.deepEqual(argvOf(lines[0]), [
    'serve',
    base,
    '--enable-lora',
    '--lora-modules',
    `sup-port=${path.join(dir, 'out a', 'adapter')}`,
    // a path with `=` goes in vLLM's JSON form, which it does not split
    JSON.stringify({ name: 'billing', path: path.join(dir, 'out=b', 'adapter') }),
    '--max-lora-rank',
    '64',
  ]);
  assert.deepEqual(argvOf(lines[1]).slice(0, 5), [
    'serve',
    'org/model-x',
    '--enable-lora',
    '--lora-modules',
    `c=${path.join(ws, 'o', 'adapter')}`,
  ]);
  assert.deepEqual(argvOf(lines[2]), ['serve', path.join(dir, 'out a', 'merged')]);
  assert.equal(fs.existsSync(CANARY), false, 'a value ran as a command');
  assert.match(text.stdout, /# note: 2 base models/);

  const json = serve(['--format', 'json', a.id, b.id], ws);
  const recipe = JSON.parse(json.stdout) as ServeRecipe;
  assert.equal(recipe.groups.length, 1);
  assert.equal(recipe.groups[0].maxLoraRank, 64);
  assert.deepEqual(
    recipe.groups[0].runs.map((r) => r.name),
    ['sup-port', 'billing'],
  );
  // the snippet is Python that compiles, with the hostile values as string literals
  const compiled = spawnSync(
    'python3',
    ['-c', 'import sys; compile(sys.stdin.read(), "s", "exec")'],
    {
      input: recipe.python,
      encoding: 'utf8',
    },
  );
  assert.equal(compiled.status, 0, compiled.stderr);
  assert.ok(recipe.python.includes(JSON.stringify(base)));
});

test('serve: remote paths, name clashes, derived runs and refusals', () => {
  const ws = workspace();
  const cfg = lora('meta-llama/Llama-3.2-1B', 8, 'runs/out');
  const ssh = addRun(ws, 'run-s', path.join(ws, 'p', 'x.finetune.yaml'), cfg, {
    target: 'ssh',
    workdir: '~/tl work',
    ssh: { host: 'gpu1', destination: 'gpu1' },
  });
  const twin = addRun(ws, 'run-t', path.join(ws, 'q', 'x.finetune.yaml'), cfg);
  // a record derived from run-s (its evaluation): serve finds the training run
  addRun(ws, 'run-e', ssh.config, cfg, { kind: 'eval', evalOf: ssh.id });
  const out = serve(['--format', 'json', 'run-e', twin.id], ws);
  assert.equal(out.status, 0, out.stderr);
  const recipe = JSON.parse(out.stdout) as ServeRecipe;
  assert.deepEqual(
    recipe.groups[0].runs.map((r) => [r.name, r.adapterPath]),
    [
      ['x-run-s', '~/tl work/runs/out/adapter'],
      ['x-run-t', path.join(ws, 'q', 'runs', 'out', 'adapter')],
    ],
  );
  assert.match(recipe.notes.join('\n'), /gpu1, this machine/);

  addRun(
    ws,
    'run-f',
    path.join(ws, 'f.finetune.yaml'),
    'method: full\nmodel:\n  name_or_path: m\n',
  );
  const full = serve(['run-f'], ws);
  assert.notEqual(full.status, 0);
  assert.match(full.stderr, /only LoRA\/QLoRA runs have adapters to serve/);
  const missing = serve(['no-such-run'], ws);
  assert.notEqual(missing.status, 0);
  assert.match(missing.stderr, /no run no-such-run/);
});

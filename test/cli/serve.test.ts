// `tunelab serve RUN…` on recorded runs with hostile config names and paths:
// the printed vLLM command lines are run by a real POSIX shell with a `vllm`
// on PATH that prints its argv, so each value must arrive as one argument,
// unchanged, and nothing in a name or path may run (the canary stays absent).
// A full fine-tune is served as a model of its own (its newest completed
// export, else what training saved). The Python snippets are compiled by python3. serveCommand is called through
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
import { completedRecord } from '../support/runRecords';

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
  return new RunStore(ws).save(completedRecord({ id, config: file, ...extra }));
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

  addRun(ws, 'run-d', path.join(ws, 'd.finetune.yaml'), 'method: dpo\nmodel:\n  name_or_path: m\n');
  const unknown = serve(['run-d'], ws);
  assert.notEqual(unknown.status, 0);
  assert.match(unknown.stderr, /run-d is method dpo: serve knows lora, qlora and full runs/);
  const missing = serve(['no-such-run'], ws);
  assert.notEqual(missing.status, 0);
  assert.match(missing.stderr, /no run no-such-run/);
});

const full = (output: string, more = '') =>
  `method: full\nmodel:\n  name_or_path: org/base-1b\n` +
  `data:\n  train_file: data/train.jsonl\ntraining:\n  output_dir: ${JSON.stringify(output)}\n${more}`;

function compiles(python: string): void {
  const compiled = spawnSync(
    'python3',
    ['-c', 'import sys; compile(sys.stdin.read(), "s", "exec")'],
    {
      input: python,
      encoding: 'utf8',
    },
  );
  assert.equal(compiled.status, 0, compiled.stderr);
}

/** A recorded `tunelab export` of `training` with the job's command line. */
function addExport(
  ws: string,
  id: string,
  training: RunRecord,
  args: string[],
  extra: Partial<RunRecord> = {},
) {
  const command = ['python', '-m', 'tunelab_runner', 'export', 'x.finetune.yaml', ...args];
  return new RunStore(ws).save({
    ...training,
    id,
    kind: 'export',
    exportOf: training.id,
    command,
    ...extra,
  });
}

test('serve: a full fine-tune alone is its own model server, from its newest completed export', () => {
  const ws = workspace();
  const f = addRun(ws, 'run-f', path.join(ws, 'p', 'full.finetune.yaml'), full('runs/full'));

  const text = serve([f.id], ws);
  assert.equal(text.status, 0, text.stderr);
  assert.doesNotMatch(text.stdout, /--enable-lora|peft/);
  const lines = text.stdout.split('\n').filter((l) => l.startsWith('vllm serve'));
  assert.equal(lines.length, 1, text.stdout);
  // no export recorded: the model training saved in export.output_dir's default
  assert.deepEqual(argvOf(lines[0]), [
    'serve',
    path.join(ws, 'p', 'runs', 'full', 'merged'),
    '--served-model-name',
    'full',
  ]);
  assert.match(text.stdout, /# full fine-tune "run-f" \(as training saved it, on this machine\)/);
  assert.match(text.stdout, /AutoModelForCausalLM\.from_pretrained\(path/);

  // exports: an older float16 one, a newer one of checkpoint 20, a newest that failed
  const at = (minute: number) => `2030-01-01T00:0${minute}:00.000Z`;
  addExport(ws, 'run-x1', f, ['--dtype', 'float16'], { createdAt: at(1) });
  addExport(ws, 'run-x2', f, ['--dtype=float32', '--checkpoint', '20'], { createdAt: at(2) });
  addExport(ws, 'run-x3', f, ['--dtype', 'bfloat16'], { createdAt: at(3), state: 'failed' });
  const json = serve(['--format', 'json', f.id], ws);
  assert.equal(json.status, 0, json.stderr);
  const recipe = JSON.parse(json.stdout) as ServeRecipe;
  assert.deepEqual([recipe.groups, recipe.merged, recipe.python], [[], [], '']);
  assert.equal(recipe.models.length, 1);
  const [model] = recipe.models;
  assert.equal(model.modelPath, path.join(ws, 'p', 'runs', 'full', 'export-float32-checkpoint-20'));
  assert.deepEqual(model.source, {
    kind: 'export',
    exportId: 'run-x2',
    dtype: 'float32',
    checkpoint: 20,
  });
  assert.equal(model.base, 'org/base-1b');
  compiles(model.python);
  assert.ok(model.python.includes(`path = ${JSON.stringify(model.modelPath)}`));
  assert.match(model.python, /AutoTokenizer\.from_pretrained\(path\)/);

  // the export named on the command line is the one served; no dtype given: the config's
  const named = serve(['--format', 'json', 'run-x1'], ws);
  const pick = (JSON.parse(named.stdout) as ServeRecipe).models[0];
  assert.equal(pick.modelPath, path.join(ws, 'p', 'runs', 'full', 'export-float16'));
  addExport(ws, 'run-x4', f, [], { createdAt: at(4) });
  fs.appendFileSync(f.config, 'export:\n  dtype: float16\n');
  const plain = (JSON.parse(serve(['--format', 'json', f.id], ws).stdout) as ServeRecipe).models[0];
  assert.deepEqual(plain.source, { kind: 'export', exportId: 'run-x4', dtype: 'float16' });
});

test('serve: a LoRA and a full run together print both kinds of recipe', () => {
  const ws = workspace();
  const a = addRun(ws, 'run-a', path.join(ws, 'a.finetune.yaml'), lora('org/base-1b', 16, 'out-a'));
  const f = addRun(
    ws,
    'run-f',
    path.join(ws, 'f.finetune.yaml'),
    full('out-f', 'export:\n  merge: false\n'),
  );
  const text = serve([a.id, f.id], ws);
  assert.equal(text.status, 0, text.stderr);
  const lines = text.stdout.split('\n').filter((l) => l.startsWith('vllm serve'));
  assert.equal(lines.length, 3, text.stdout); // the adapters' server, a's merged variant, f's model
  assert.deepEqual(argvOf(lines[0]).slice(0, 5), [
    'serve',
    'org/base-1b',
    '--enable-lora',
    '--lora-modules',
    `a=${path.join(ws, 'out-a', 'adapter')}`,
  ]);
  assert.deepEqual(argvOf(lines[1]), ['serve', path.join(ws, 'out-a', 'merged')]);
  assert.deepEqual(argvOf(lines[2]), [
    'serve',
    path.join(ws, 'out-f', 'merged'),
    '--served-model-name',
    'f',
  ]);
  assert.match(text.stdout, /# transformers \+ peft:\n[^]*PeftModel[^]*# full fine-tune "run-f"/);
  // a full run that told training to save no model: export it first
  assert.match(text.stdout, /# note: run run-f has export\.merge: false[^\n]*tunelab export run-f/);

  const recipe = JSON.parse(serve(['--format', 'json', a.id, f.id], ws).stdout) as ServeRecipe;
  assert.deepEqual(
    recipe.groups.map((g) => g.runs.map((r) => r.id)),
    [['run-a']],
  );
  assert.deepEqual(
    recipe.merged.map((m) => m.id),
    ['run-a'],
  );
  assert.deepEqual(
    recipe.models.map((m) => [m.id, m.kind, m.source.kind]),
    [['run-f', 'model', 'training']],
  );
  compiles(recipe.python);
});

test('serve: a full run with a hostile output_dir, locally and under a remote ~ workdir', () => {
  const ws = workspace();
  const hostile = `${HOSTILE_DIR}; touch ${CANARY}\n$(touch ${CANARY})`;
  const configDir = path.join(ws, HOSTILE_DIR);
  const f = addRun(ws, 'run-h', path.join(configDir, "f'ull $(x).finetune.yaml"), full(hostile));
  const text = serve([f.id], ws);
  assert.equal(text.status, 0, text.stderr);
  const recipe = JSON.parse(serve(['--format', 'json', f.id], ws).stdout) as ServeRecipe;
  const [model] = recipe.models;
  // the quoted newline makes the command two lines of text: printed whole, run whole
  assert.ok(text.stdout.includes(`\n${model.vllm}\n`), text.stdout);
  const modelPath = path.join(configDir, hostile, 'merged');
  assert.deepEqual(argvOf(model.vllm), ['serve', modelPath, '--served-model-name', 'f-ull-x']);
  compiles(model.python);
  assert.ok(model.python.includes(JSON.stringify(modelPath)));
  assert.equal(fs.existsSync(CANARY), false, 'a value ran as a command');

  // on an ssh target under `~`: the target's shell expands the home, nothing else
  const remote = addRun(ws, 'run-r', path.join(ws, 'r.finetune.yaml'), full(`o'ut $x`), {
    target: 'ssh',
    workdir: '~/tl work',
    ssh: { host: 'gpu1', destination: 'gpu1' },
  });
  const ssh = serve([remote.id], ws);
  assert.equal(ssh.status, 0, ssh.stderr);
  const remoteLine = ssh.stdout.split('\n').find((l) => l.startsWith('vllm serve')) ?? '';
  assert.deepEqual(argvOf(remoteLine).slice(0, 2), [
    'serve',
    `${os.homedir()}/tl work/o'ut $x/merged`,
  ]);
  assert.match(ssh.stdout, /on gpu1\)/);
  const remoteRecipe = JSON.parse(serve(['--format', 'json', remote.id], ws).stdout) as ServeRecipe;
  compiles(remoteRecipe.models[0].python);
  assert.match(
    remoteRecipe.models[0].python,
    /os\.path\.expanduser\("~\/tl work\/o'ut \$x\/merged"\)/,
  );
  assert.equal(fs.existsSync(CANARY), false, 'a value ran as a command');
});

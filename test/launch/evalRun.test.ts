// `tunelab eval RUN` end to end on the local target and on the ssh target
// against the loopback sshd (scripts/setup-ssh-slurm.sh): the real CLI, the
// real launch path and targets, and a runner package whose `__main__` is
// test/fixtures/eval/fake_runner/fake_evaluate.py. The fake stands in for the
// GPU only: it prints the events `python -m tunelab_runner evaluate` prints,
// its eval_result read from a fixture. The evaluation must be recorded as a
// run of kind eval linked to its training run, its result kept beside the
// record (no second trip for compare), attached or detached.

import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { adapterFor } from '../../launch/src/launcher';
import { RunStore, type RunRecord } from '../../launch/src/runRecord';
import {
  BASE_CONFIG,
  loadInfra,
  makeProject,
  ROOT,
  trainedRun,
  tunelab,
  waitFor,
  type Infra,
} from './infra';

const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'eval');
const LORA_RESULT = path.join(FIXTURES, 'lora.eval.json');
const FULL_RESULT = path.join(FIXTURES, 'full.eval.json');

const { infra, skip } = loadInfra();
const I = infra as Infra;

/** A runner package that answers `evaluate` with the fixture's result. */
function fakeRunner(resultFile: string): string {
  const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'tunelab-fake-runner-'));
  const pkg = path.join(parent, 'tunelab_runner');
  fs.mkdirSync(pkg);
  fs.writeFileSync(path.join(pkg, '__init__.py'), '');
  fs.copyFileSync(
    path.join(FIXTURES, 'fake_runner', 'fake_evaluate.py'),
    path.join(pkg, '__main__.py'),
  );
  fs.copyFileSync(resultFile, path.join(pkg, 'eval_result.json'));
  return parent;
}

/** The fixture as the eval_result event carries it (samples cut to 5, checkpoint as asked). */
function expectedResult(file: string, checkpoint: number | null): unknown {
  const result = JSON.parse(fs.readFileSync(file, 'utf8')) as {
    model?: Record<string, unknown>;
    samples?: unknown[];
  };
  result.model = { ...result.model, checkpoint };
  result.samples = (result.samples ?? []).slice(0, 5);
  return result;
}

function evalRecords(workspace: string, trainingId: string): RunRecord[] {
  return new RunStore(workspace).list().filter((r) => r.evalOf === trainingId);
}

function keptResult(workspace: string, id: string): unknown {
  return JSON.parse(
    fs.readFileSync(path.join(workspace, '.tunelab', 'runs', `${id}.eval.json`), 'utf8'),
  );
}

test('local: tunelab eval streams the evaluation and keeps its result with a linked eval run', async () => {
  const { config, workspace } = makeProject(BASE_CONFIG + 'launch:\n  target: local\n');
  const training = await trainedRun(config, workspace, 'python3');
  const env = { TUNELAB_RUNNER_DIR: fakeRunner(LORA_RESULT) };

  const run = await tunelab(
    ['eval', training.id.slice(0, -2), '--checkpoint', '40'],
    workspace,
    env,
  );
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^@tunelab \{"event":"eval_result",/m);
  assert.match(
    run.stderr,
    new RegExp(`evaluation of ${training.id}: \\w+ [\\d.]+ · forgetting [-+][\\d.]+%`),
  );
  const [evaluation] = evalRecords(workspace, training.id);
  assert.equal(evaluation.kind, 'eval');
  assert.equal(evaluation.state, 'completed');
  assert.equal(evaluation.target, 'local');
  assert.deepEqual(evaluation.command.slice(1), [
    '-m',
    'tunelab_runner',
    'evaluate',
    'run.finetune.yaml',
    '--checkpoint',
    '40',
  ]);
  assert.deepEqual(keptResult(workspace, evaluation.id), expectedResult(LORA_RESULT, 40));
  // The training run itself stays a training run.
  assert.equal(new RunStore(workspace).load(training.id)?.kind, undefined);

  // An evaluation is not evaluated again; a training run that is not there is a usage error.
  const again = await tunelab(['eval', evaluation.id], workspace, env);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /is an evaluation; evaluate its training run/);
  const missing = await tunelab(['eval', 'no-such-run'], workspace, env);
  assert.equal(missing.code, 2);

  // compare finds the training run's evaluation through its eval run.
  const compared = await tunelab(
    ['compare', '--format', 'json', training.id, FULL_RESULT],
    workspace,
  );
  const out = JSON.parse(compared.stdout) as { runs: { label: string; checkpoint: number }[] };
  assert.deepEqual(
    out.runs.map((r) => r.label),
    [training.id, 'full'],
  );
  assert.equal(out.runs[0].checkpoint, 40);
});

test('local: a detached evaluation is found in its log by compare afterwards', async () => {
  const { config, workspace } = makeProject(BASE_CONFIG + 'launch:\n  target: local\n');
  const training = await trainedRun(config, workspace, 'python3');
  const run = await tunelab(['eval', training.id, '--detach'], workspace, {
    TUNELAB_RUNNER_DIR: fakeRunner(FULL_RESULT),
  });
  assert.equal(run.code, 0, run.stderr);
  const id = run.stdout.trim();
  assert.equal(evalRecords(workspace, training.id)[0]?.id, id);
  const store = new RunStore(workspace);
  await waitFor(
    () => fs.readFileSync(store.load(id)!.logPath, 'utf8').includes('"event":"end"') || undefined,
  );
  const compared = await tunelab(['compare', '--format', 'json', id, LORA_RESULT], workspace);
  assert.ok([0, 1].includes(compared.code!), compared.stderr);
  assert.deepEqual(keptResult(workspace, id), expectedResult(FULL_RESULT, null));
});

function sshConfig(): string {
  const workdir = `~/tl-eval-${crypto.randomBytes(3).toString('hex')}`;
  return (
    BASE_CONFIG +
    `launch:\n  target: ssh\n  python: ${I.remotePython}\n` +
    `  ssh: { host: ${I.sshAlias}, workdir: ${JSON.stringify(workdir)} }\n`
  );
}

test(
  "ssh: tunelab eval runs on the training run's host and keeps the streamed result",
  { skip },
  async () => {
    const { config, workspace } = makeProject(sshConfig());
    const training = await trainedRun(config, workspace, I.remotePython, I.sshConfig);
    const env = { TUNELAB_RUNNER_DIR: fakeRunner(LORA_RESULT), TUNELAB_SSH_CONFIG: I.sshConfig };
    const run = await tunelab(['eval', training.id], workspace, env);
    assert.equal(run.code, 0, run.stderr);
    const [evaluation] = evalRecords(workspace, training.id);
    assert.equal(evaluation.target, 'ssh');
    assert.equal(evaluation.ssh?.host, training.ssh?.host);
    assert.equal(evaluation.workdir, training.workdir);
    assert.deepEqual(keptResult(workspace, evaluation.id), expectedResult(LORA_RESULT, null));
  },
);

test(
  "ssh: a detached evaluation's result is fetched once by compare, then kept",
  { skip },
  async () => {
    const { config, workspace } = makeProject(sshConfig());
    const training = await trainedRun(config, workspace, I.remotePython, I.sshConfig);
    const env = { TUNELAB_RUNNER_DIR: fakeRunner(FULL_RESULT), TUNELAB_SSH_CONFIG: I.sshConfig };
    const run = await tunelab(['eval', training.id, '--detach'], workspace, env);
    assert.equal(run.code, 0, run.stderr);
    const id = run.stdout.trim();
    const store = new RunStore(workspace);
    const record = store.load(id)!;
    await waitFor(async () => {
      const polled = await adapterFor('ssh', I.sshConfig).poll(record);
      return polled.state === 'completed' || undefined;
    });
    const compared = await tunelab(['compare', id, LORA_RESULT], workspace, env);
    assert.ok([0, 1].includes(compared.code!), compared.stderr);
    assert.deepEqual(keptResult(workspace, id), expectedResult(FULL_RESULT, null));
  },
);

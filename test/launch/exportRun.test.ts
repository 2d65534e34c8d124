// `tunelab export RUN` end to end on the local target and on the ssh target
// against the loopback sshd (scripts/setup-ssh-slurm.sh): the real launch path
// and targets, and a runner package whose `__main__` is FAKE_RUNNER below. The
// fake stands in for the GPU only: it prints the events `python -m
// tunelab_runner export` prints (runner/EVENTS.md) and checks the argv and
// working directory it was given. The export must be recorded as a run linked
// to its training run, streamed, and its check reported; hostile config names
// must reach the runner as one argument each. exportCommand is called through
// a small driver until main.ts registers `export` (the lead's change).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as crypto from 'node:crypto';
import { test } from 'node:test';
import { RunStore } from '../../launch/src/runRecord';
import { exportOf } from '../../launch/src/runnerCommand';
import {
  BASE_CONFIG,
  fakeRunner,
  fakeRunnerPrelude,
  loadInfra,
  makeProject,
  ROOT,
  trainedRun,
  type Infra,
} from './infra';

const { infra, skip } = loadInfra();
const I = infra as Infra;

const FAKE_RUNNER =
  fakeRunnerPrelude('export') +
  String.raw`
merge = "--merge" in argv
dtype = argv[argv.index("--dtype") + 1] if "--dtype" in argv else "bfloat16"
passed = os.environ.get("FAKE_CHECK", "pass") == "pass"
emit("start", command="export", config=os.path.abspath(argv[1]), argv=argv)
emit("status", stage="merging")
check = {"prompts": 4, "positions": 300, "max_abs_diff": 0.03 if passed else 3.0, "tolerance": 0.0625,
         "dtype": dtype, "top1_agreement": 1.0, "adapter_max_abs": 2.5, "passed": passed}
emit("export", kind="merged" if merge else "adapter", path=os.path.abspath("out/merged"),
     files=["model.safetensors"], bytes=1000, **({"check": check} if merge else {}))
if merge and not passed:
    emit("error", type="export_check", message="merged logits differ", exit_code=1)
    emit("end", status="failed", exit_code=1)
    sys.exit(1)
emit("end", status="completed", exit_code=0)
`;

const fakeExportRunner = () => fakeRunner('tunelab-fake-export-', FAKE_RUNNER);

const DRIVER = `import('./cli/src/exportServeCommands.ts').then(async (m) => {
  const command = m.exportCommand ?? m.default.exportCommand;
  try { process.exitCode = await command(process.argv.slice(1), process.env.EXPORT_CWD); }
  catch (err) { process.stderr.write(err.message + '\\n'); process.exitCode = 2; }
})`;

function tunelabExport(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', DRIVER, '--', ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env, EXPORT_CWD: cwd },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function exportsOf(workspace: string, trainingId: string) {
  return new RunStore(workspace).list().filter((r) => exportOf(r) === trainingId);
}

test('local: tunelab export --merge streams the export, records it and reports the check', async () => {
  // no `/` in a file name: the fake runner's isfile(CONFIG) fails if the shell touched it
  const name = "it's $(id) `id` ; x.finetune.yaml";
  const { config, workspace } = makeProject(BASE_CONFIG + 'launch:\n  target: local\n', { name });
  const training = await trainedRun(config, workspace, 'python3');
  const env = { TUNELAB_RUNNER_DIR: fakeExportRunner() };
  const run = await tunelabExport(
    [training.id, '--merge', '--dtype', 'float16', '--checkpoint', '40'],
    workspace,
    env,
  );
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^@tunelab \{"event":"export",/m);
  assert.match(run.stderr, /export check: max \|Δlogit\| 0\.03 within 0\.0625 \(float16\): pass/);
  const [exported] = exportsOf(workspace, training.id);
  assert.equal(exported.state, 'completed');
  assert.deepEqual(exported.command.slice(1), [
    '-m',
    'tunelab_runner',
    'export',
    name,
    '--merge',
    '--dtype',
    'float16',
    '--checkpoint',
    '40',
  ]);

  // a failed check fails the command; an export is not exported again
  const failed = await tunelabExport([training.id, '--merge'], workspace, {
    ...env,
    FAKE_CHECK: 'fail',
  });
  assert.equal(failed.code, 1);
  assert.match(failed.stderr, /: FAIL/);
  const again = await tunelabExport([exported.id], workspace, env);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /is an export; export its training run/);
  const bad = await tunelabExport([training.id, '--dtype', 'int4'], workspace, env);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--dtype must be bfloat16, float16, float32/);
});

test('local: the adapter alone, detached', async () => {
  const { config, workspace } = makeProject(BASE_CONFIG + 'launch:\n  target: local\n');
  const training = await trainedRun(config, workspace, 'python3');
  const run = await tunelabExport([training.id, '--detach'], workspace, {
    TUNELAB_RUNNER_DIR: fakeExportRunner(),
  });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(exportsOf(workspace, training.id)[0]?.id, run.stdout.trim());
  assert.deepEqual(exportsOf(workspace, training.id)[0].command.slice(3), [
    'export',
    'run.finetune.yaml',
  ]);
});

test("ssh: tunelab export runs on the training run's host", { skip }, async () => {
  const workdir = `~/tl-export-${crypto.randomBytes(3).toString('hex')}`;
  const { config, workspace } = makeProject(
    BASE_CONFIG +
      `launch:\n  target: ssh\n  python: ${I.remotePython}\n` +
      `  ssh: { host: ${I.sshAlias}, workdir: ${JSON.stringify(workdir)} }\n`,
  );
  const training = await trainedRun(config, workspace, I.remotePython, I.sshConfig);
  const run = await tunelabExport([training.id, '--merge'], workspace, {
    TUNELAB_RUNNER_DIR: fakeExportRunner(),
    TUNELAB_SSH_CONFIG: I.sshConfig,
  });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, /: pass/);
  const [exported] = exportsOf(workspace, training.id);
  assert.equal(exported.target, 'ssh');
  assert.equal(exported.workdir, training.workdir);
});

// A host's pace learnt from a completed run, end to end through the built CLI:
// `tunelab launch` records the time estimate's step parts with the run, the
// runner's `end` event reports its steady step, the pace is kept for the
// launch target, and the next `tunelab estimate` for that target takes it. On
// the local target and on the ssh target against the loopback sshd. The runner
// is a package whose `__main__` prints the events `python -m tunelab_runner
// train` prints (runner/EVENTS.md), with a steady step 0.6× the estimate's:
// the GPU is the only part it stands in for. A pace probe (`tunelab launch
// --probe`) teaches the same way before any real run, and keeps no model; a run
// that fails later has taught from its first steps while it ran.

import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { stepAtPace } from '../../engine/src/estimate/hostPace';
import { launchEstimateOf } from '../../launch/src/hostPaces';
import { loadLaunchSpec } from '../../launch/src/launchConfig';
import { refreshRun } from '../../launch/src/launcher';
import { RunStore } from '../../launch/src/runRecord';
import {
  fakeRunner,
  fakeRunnerPrelude,
  loadInfra,
  loraConfig,
  makeProject,
  tunelab,
  waitFor,
  type Infra,
} from './infra';

const { infra, skip } = loadInfra();
const I = infra as Infra;

/** Short padded chats of a 1B model: the host paces its steps. */
const HOST_PACED = loraConfig(
  'meta-llama/Llama-3.2-1B',
  '  per_device_train_batch_size: 2\n  gradient_accumulation_steps: 2\n  max_steps: 24\nhardware:\n  gpu: H100-80GB\n',
);

function trainRunner(steadyStepSeconds: number): string {
  return fakeRunner(
    'tunelab-fake-train-',
    fakeRunnerPrelude('train') +
      String.raw`
emit("start", method="lora", estimated_steps=24, global_step=0)
for step in range(1, 25):
    emit("step", step=step, max_steps=24, loss=2.0 - step / 100, learning_rate=2e-4)
emit("end", status="completed", exit_code=0, step=24,
     metrics={"steady_step_seconds": ${steadyStepSeconds}, "steady_step_intervals": 22})
`,
  );
}

/** A runner that only answers `train CONFIG --probe N`, as pace_probe.py does: N steps, no outputs. */
function probeRunner(steadyStepSeconds: number): string {
  return fakeRunner(
    'tunelab-fake-probe-',
    fakeRunnerPrelude('train') +
      String.raw`
if argv[2:3] != ["--probe"] or len(argv) != 4:
    print(f"fake runner: expected train CONFIG --probe N, got {argv}", file=sys.stderr)
    sys.exit(2)
steps = int(argv[3])
emit("start", method="lora", estimated_steps=steps, global_step=0)
for step in range(1, steps + 1):
    emit("step", step=step, max_steps=steps, loss=2.0, learning_rate=2e-4)
emit("end", status="completed", exit_code=0, step=steps, outputs={}, probe={"steps": steps},
     metrics={"steady_step_seconds": ${steadyStepSeconds}, "steady_step_intervals": steps - 1})
`,
  );
}

/**
 * A first run that runs out of memory at its first evaluation, after 20 steps whose
 * events carry the steady step so far (as the runner's do): it waits, as long as a
 * step would take, for the workspace's paces file, to tell whether the pace was kept
 * while it still ran.
 */
function failingRunner(steadyStepSeconds: number): string {
  return fakeRunner(
    'tunelab-fake-oom-',
    fakeRunnerPrelude('train') +
      String.raw`
emit("start", method="lora", estimated_steps=40, global_step=0)
for step in range(1, 21):
    so_far = {"steady_step_seconds": ${steadyStepSeconds}, "steady_step_intervals": step - 1} if step >= 4 else {}
    emit("step", step=step, max_steps=40, loss=2.0, learning_rate=2e-4, **so_far)
kept = False
for _ in range(200):
    if any(os.path.isfile(os.path.join(d, ".tunelab", "host-paces.json")) for d in (".", "..")):
        kept = True
        break
    time.sleep(0.05)
emit("warning", message="host pace kept while the run went on" if kept else "no host pace while the run went on")
emit("error", type="oom", message="CUDA out of memory at the first evaluation", hint="lower per_device_eval_batch_size")
emit("end", status="failed", exit_code=4, step=20)
sys.exit(4)
`,
  );
}

async function estimateJson(config: string, cwd: string, env: NodeJS.ProcessEnv = {}) {
  const run = await tunelab(['estimate', config, '--format', 'json'], cwd, env);
  assert.equal(run.code, 0, run.stderr);
  return (JSON.parse(run.stdout) as { train_time: Record<string, unknown> }).train_time;
}

async function learnsThePace(launchSection: string, target: string, env: NodeJS.ProcessEnv = {}) {
  const { config, workspace } = makeProject(HOST_PACED + launchSection);
  const before = await estimateJson(config, workspace, env);
  assert.equal(before.host_pace, null);
  assert.equal(before.uncertainty, 0.45, 'host-paced, no pace learnt yet: the wide band');

  const parts = launchEstimateOf(loadLaunchSpec(config))!.stepParts;
  const steady = Number(stepAtPace(parts, 0.6).seconds.toFixed(4));
  const run = await tunelab(['launch', config], workspace, {
    ...env,
    TUNELAB_RUNNER_DIR: trainRunner(steady),
  });
  assert.equal(run.code, 0, run.stderr);
  assert.match(
    run.stderr,
    new RegExp(
      `steady step ${steady.toFixed(2)} s \\(estimated \\d+\\.\\d\\d s\\): host pace ×0\\.60 kept for the next estimates on ${target}`,
    ),
  );
  const [record] = new RunStore(workspace).list();
  assert.equal(record.state, 'completed');
  assert.equal(record.steadyStepSeconds, steady);
  assert.equal(record.estimate?.target, target);

  const after = await estimateJson(config, workspace, env);
  const pace = after.host_pace as { pace: number; runs: number; target: string };
  assert.ok(Math.abs(pace.pace - 0.6) < 0.002, JSON.stringify(pace));
  assert.equal(pace.runs, 1);
  assert.equal(pace.target, target);
  assert.equal(after.uncertainty, 0.35);
  assert.ok(
    (after.seconds_estimate as number) < 0.75 * (before.seconds_estimate as number),
    `${after.seconds_estimate} vs ${before.seconds_estimate}`,
  );
  const text = await tunelab(['estimate', config], workspace, env);
  assert.match(
    text.stdout,
    new RegExp(`host pace ×0\\.60: learnt on ${target} from this config's own 1 timed run`),
  );
  return { config, workspace };
}

test('local: a completed run teaches the next estimate its host pace', async () => {
  await learnsThePace('launch:\n  target: local\n', 'local');
});

test('local: a first run that fails at its first evaluation has taught its pace while it ran', async () => {
  const { config, workspace } = makeProject(HOST_PACED + 'launch:\n  target: local\n');
  const parts = launchEstimateOf(loadLaunchSpec(config))!.stepParts;
  const steady = Number(stepAtPace(parts, 0.6).seconds.toFixed(4));
  const run = await tunelab(['launch', config], workspace, {
    TUNELAB_RUNNER_DIR: failingRunner(steady),
  });
  assert.equal(run.code, 1, run.stderr);
  assert.match(run.stdout, /host pace kept while the run went on/);
  const told = new RegExp(
    `pace of the steps so far \\(15 timed\\): steady step ${steady.toFixed(2)} s \\(estimated \\d+\\.\\d\\d s\\): host pace ×0\\.60 kept for the next estimates on local`,
  );
  assert.match(run.stderr, told);
  assert.ok(
    run.stderr.search(told) < run.stderr.search(/run \S+ failed/),
    'told before the run ended',
  );
  assert.equal(run.stderr.match(/host pace ×/g)?.length, 1, 'told once: ' + run.stderr);
  const [record] = new RunStore(workspace).list();
  assert.equal(record.state, 'failed');
  assert.equal(record.steadyStepSeconds, steady);
  assert.equal(record.steadyStepSoFar, undefined, 'its end kept the last figure');

  const after = await estimateJson(config, workspace);
  assert.ok(Math.abs((after.host_pace as { pace: number }).pace - 0.6) < 0.002);
  assert.equal(after.uncertainty, 0.35);
  const text = await tunelab(['estimate', config], workspace);
  assert.match(text.stdout, /host pace ×0\.60: learnt on local from this config's own 1 timed run/);
});

/** `launch --detach`, then only polled as the Runs view and `tunelab stop` poll it: the end teaches. */
async function polledRunTeaches(
  launchSection: string,
  target: string,
  pace: number,
  sshConfigFile?: string,
): Promise<void> {
  const { config, workspace } = makeProject(HOST_PACED + launchSection);
  const parts = launchEstimateOf(loadLaunchSpec(config))!.stepParts;
  const steady = Number(stepAtPace(parts, pace).seconds.toFixed(4));
  const env = sshConfigFile ? { TUNELAB_SSH_CONFIG: sshConfigFile } : {};
  const run = await tunelab(['launch', config, '--detach'], workspace, {
    ...env,
    TUNELAB_RUNNER_DIR: trainRunner(steady),
  });
  assert.equal(run.code, 0, run.stderr);
  const store = new RunStore(workspace);
  const id = run.stdout.trim();
  await waitFor(
    async () =>
      (await refreshRun(store, store.load(id)!, sshConfigFile)).state === 'completed'
        ? true
        : undefined,
    30_000,
    'the detached run to end',
  );
  assert.equal(store.load(id)!.steadyStepSeconds, steady);
  const after = await estimateJson(config, workspace, env);
  const learnt = after.host_pace as { pace: number; target: string };
  assert.ok(Math.abs(learnt.pace - pace) < 0.002, JSON.stringify(learnt));
  assert.equal(learnt.target, target);
}

test('local: a detached run no stream followed teaches its pace once polled at its end', async () => {
  await polledRunTeaches('launch:\n  target: local\n', 'local', 0.7);
});

test('ssh: a detached run only polled teaches its pace from the remote log', { skip }, async () => {
  const workdir = `~/tl-pace-poll-${crypto.randomBytes(3).toString('hex')}`;
  await polledRunTeaches(
    `launch:\n  target: ssh\n  python: ${I.remotePython}\n` +
      `  ssh: { host: ${I.sshAlias}, workdir: ${JSON.stringify(workdir)} }\n`,
    `ssh ${I.sshAlias}`,
    0.65,
    I.sshConfig,
  );
});

test('ssh: the pace is learnt for that host, not for the local one', { skip }, async () => {
  const workdir = `~/tl-pace-${crypto.randomBytes(3).toString('hex')}`;
  const { config, workspace } = await learnsThePace(
    `launch:\n  target: ssh\n  python: ${I.remotePython}\n` +
      `  ssh: { host: ${I.sshAlias}, workdir: ${JSON.stringify(workdir)} }\n`,
    `ssh ${I.sshAlias}`,
    { TUNELAB_SSH_CONFIG: I.sshConfig },
  );
  // the same run for the local target, beside it in the workspace: nothing learnt there
  const local = path.join(path.dirname(config), 'local.finetune.yaml');
  fs.writeFileSync(local, HOST_PACED + 'launch:\n  target: local\n');
  const json = await estimateJson(local, workspace);
  assert.equal(json.host_pace, null);
  assert.equal(json.uncertainty, 0.45);
});

async function probesThePace(
  launchSection: string,
  target: string,
  probeArgs: string[],
  steps: number,
  env: NodeJS.ProcessEnv = {},
) {
  const { config, workspace } = makeProject(HOST_PACED + launchSection);
  const parts = launchEstimateOf(loadLaunchSpec(config))!.stepParts;
  const steady = Number(stepAtPace(parts, 1.2).seconds.toFixed(4));
  const run = await tunelab(['launch', config, ...probeArgs], workspace, {
    ...env,
    TUNELAB_RUNNER_DIR: probeRunner(steady),
  });
  assert.equal(run.code, 0, run.stderr);
  assert.match(
    run.stderr,
    new RegExp(
      `pace probe \\S+ started on ${target.split(' ')[0]}.*: ${steps} training steps, nothing kept`,
    ),
  );
  assert.match(
    run.stderr,
    new RegExp(
      `pace probe: steady step ${steady.toFixed(2)} s \\(estimated \\d+\\.\\d\\d s\\): host pace ×1\\.20 kept for the next estimates on ${target}`,
    ),
  );
  const [record] = new RunStore(workspace).list();
  assert.equal(record.probe, steps);
  assert.equal(record.state, 'completed');
  assert.equal(record.outputDir, 'runs/out-pace-probe');
  const after = await estimateJson(config, workspace, env);
  assert.ok(Math.abs((after.host_pace as { pace: number }).pace - 1.2) < 0.002);
  assert.equal(after.uncertainty, 0.35);
  // a probe kept no model: evaluating it is refused before anything starts
  const evaluated = await tunelab(['eval', record.id], workspace, env);
  assert.notEqual(evaluated.code, 0);
  assert.match(
    evaluated.stderr,
    new RegExp(`run ${record.id} is a pace probe: it trained ${steps} steps`),
  );
  assert.equal(new RunStore(workspace).list().length, 1);
}

test('local: a pace probe teaches the first estimate its host pace, and keeps no model', async () => {
  await probesThePace('launch:\n  target: local\n', 'local', ['--probe'], 16);
});

test('launch --probe-steps: checked, and only with --probe', async () => {
  const { config, workspace } = makeProject(HOST_PACED + 'launch:\n  target: local\n');
  for (const args of [
    ['--probe', '--probe-steps', '4'],
    ['--probe-steps', '8'],
    ['--probe', '--probe-steps', 'x'],
  ]) {
    const run = await tunelab(['launch', config, ...args], workspace);
    assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
    assert.match(run.stderr, /--probe-steps/);
  }
  assert.deepEqual(new RunStore(workspace).list(), [], 'nothing was launched');
});

test(
  'ssh: a probe of 8 steps reaches the remote runner and teaches that host',
  { skip },
  async () => {
    const workdir = `~/tl-probe-${crypto.randomBytes(3).toString('hex')}`;
    await probesThePace(
      `launch:\n  target: ssh\n  python: ${I.remotePython}\n` +
        `  ssh: { host: ${I.sshAlias}, workdir: ${JSON.stringify(workdir)} }\n`,
      `ssh ${I.sshAlias}`,
      ['--probe', '--probe-steps', '8'],
      8,
      { TUNELAB_SSH_CONFIG: I.sshConfig },
    );
  },
);

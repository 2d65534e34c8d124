// target: local, end to end: the real runner (which fails here for want of
// torch, and must say so on the right config line), the replayed Trainer log
// streamed and charted, stop, secrets, detach and re-attach through the CLI.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { followRun } from '../../launch/src/follow';
import { adapterFor, launchRun, stopRun } from '../../launch/src/launcher';
import { ProgressModel } from '../../launch/src/progressModel';
import { RunStore } from '../../launch/src/runRecord';
import {
  allCommandLines,
  BASE_CONFIG,
  filesContaining,
  makeProject,
  replayJob,
  RUNNER_PARENT,
  tunelab,
  waitFor,
} from './infra';

const PYTHON = 'python3';

async function follow(workspace: string, id: string) {
  const store = new RunStore(workspace);
  const record = store.load(id)!;
  const lines: string[] = [];
  const model = new ProgressModel();
  const result = await followRun(record, adapterFor(record.target), {
    fromOffset: 0,
    onLine: (text) => {
      lines.push(text);
      model.applyLine(text);
    },
    onRedraw: (segment) => model.applyRedraw(segment),
  });
  return { lines, model, result, record };
}

test('local: the real runner fails for want of torch, and the finding points at the config line', async () => {
  const { config, workspace } = makeProject(BASE_CONFIG + 'launch:\n  target: local\n');
  const run = await tunelab(['launch', config], workspace);
  assert.equal(run.code, 1, run.stderr);
  assert.match(run.stdout, /"event":"error".*"type":"missing_package"/, run.stderr);
  assert.match(
    run.stderr,
    /run\.finetune\.yaml:18:3 error run-missing-package torch, .* not installed for python3 here\. Run `pip install torch/,
  );
  const [record] = new RunStore(workspace).list();
  assert.equal(record.state, 'failed');
  assert.equal(record.exitCode, 3);
  assert.equal(fs.readFileSync(path.join(workspace, '.tunelab', '.gitignore'), 'utf8'), '*\n');
});

test('local: a missing interpreter is reported on launch.python', async () => {
  const { config, workspace } = makeProject(
    BASE_CONFIG + 'launch:\n  target: local\n  python: .venv/bin/python\n',
  );
  const run = await tunelab(['launch', config], workspace);
  assert.equal(run.code, 1);
  assert.match(run.stdout, /cannot start .*\.venv\/bin\/python: ENOENT/);
  assert.match(run.stderr, /:19:3 error run-python-not-found The interpreter \.venv\/bin\/python/);
});

test('local: the replayed Trainer log streams line by line into the progress model', async () => {
  const { dir, config, workspace } = makeProject(BASE_CONFIG, { withReplay: true });
  const record = await launchRun(config, {
    workspaceDir: workspace,
    runnerParent: RUNNER_PARENT,
    ...replayJob(dir, PYTHON, ['--events', '--repeat', '3']),
  });
  const { lines, model, result } = await follow(workspace, record.id);
  assert.equal(result.state, 'completed');
  assert.equal(result.exitCode, 0);
  const log = fs.readFileSync(record.logPath);
  assert.equal(lines.join('\n') + '\n', log.toString('utf8'));
  assert.equal(result.offset, log.length);
  assert.equal(model.points.length, 60);
  assert.equal(model.progress.totalSteps, 60);
  assert.equal(model.progress.tokensPerSecond, 1234.5);
  assert.deepEqual(model.progress.end, { status: 'completed', exitCode: 0 });
});

test('local: stop sends SIGTERM; the job checkpoints and ends cancelled', async () => {
  const { dir, config, workspace } = makeProject(BASE_CONFIG, { withReplay: true });
  const record = await launchRun(config, {
    workspaceDir: workspace,
    ...replayJob(dir, PYTHON, ['--events', '--repeat', '50', '--delay', '0.01']),
  });
  const following = follow(workspace, record.id);
  const store = new RunStore(workspace);
  await waitFor(() => fs.statSync(record.logPath).size > 2000 || undefined, 20_000, 'log output');
  await stopRun(store, store.load(record.id)!);
  assert.equal(store.load(record.id)!.state, 'stopping');
  const { result, lines, model } = await following;
  assert.equal(result.state, 'cancelled');
  assert.equal(result.exitCode, 143);
  assert.ok(lines.includes('received SIGTERM: saving checkpoint-interrupted'));
  assert.equal(model.progress.end?.status, 'interrupted');
});

test('local: secrets reach the job environment only (no command line, file or log)', async () => {
  const secret = `s3cr3t-${process.pid}-${Date.now()}-'"$(id)`;
  const { dir, config, workspace } = makeProject(BASE_CONFIG + 'launch:\n  secrets: [HF_TOKEN]\n', {
    withReplay: true,
  });
  const record = await launchRun(config, {
    workspaceDir: workspace,
    secrets: { HF_TOKEN: secret },
    ...replayJob(dir, PYTHON, ['--secret', 'HF_TOKEN', '--repeat', '6', '--delay', '0.005']),
  });
  const following = follow(workspace, record.id);
  await waitFor(() => fs.statSync(record.logPath).size > 0 || undefined);
  for (const line of allCommandLines()) assert.ok(!line.includes(secret), `secret in: ${line}`);
  const { lines } = await following;
  const digest = (await import('node:crypto')).createHash('sha256').update(secret).digest('hex');
  assert.ok(lines.includes(`secret HF_TOKEN sha256=${digest}`), 'the job got the secret');
  assert.deepEqual(filesContaining(workspace, secret), []);
  assert.deepEqual(new RunStore(workspace).load(record.id)!.secretNames, ['HF_TOKEN']);
});

test('local CLI: --detach, then logs --follow interrupted and resumed: every line once', async () => {
  const { config, workspace } = makeProject(BASE_CONFIG + 'launch:\n  target: local\n');
  const started = await tunelab(['launch', config, '--detach'], workspace);
  assert.equal(started.code, 0, started.stderr);
  const id = started.stdout.trim();
  assert.match(id, /^run-\d{8}-\d{6}-[0-9a-f]{4}$/);
  const followed = await tunelab(['logs', id, '--follow'], workspace);
  const record = new RunStore(workspace).load(id)!;
  const log = fs.readFileSync(record.logPath, 'utf8');
  assert.equal(followed.stdout, log);
  assert.equal(record.logOffset, Buffer.byteLength(log));
  // Everything was shown: a second follow prints nothing more.
  const again = await tunelab(['logs', id, '--follow'], workspace);
  assert.equal(again.stdout, '');
  assert.equal((await tunelab(['logs', id], workspace)).stdout, log);
  assert.equal(
    (await tunelab(['logs', 'last', '--follow', '--from-start'], workspace)).stdout,
    log,
  );
  const stop = await tunelab(['stop', id], workspace);
  assert.match(stop.stderr, /already failed/);
});

test('local CLI: tunelab stop on a running job; a bad launch value is a config error on its line', async () => {
  const { dir, config, workspace } = makeProject(BASE_CONFIG, { withReplay: true });
  const record = await launchRun(config, {
    workspaceDir: workspace,
    ...replayJob(dir, PYTHON, ['--repeat', '100', '--delay', '0.01']),
  });
  await waitFor(() => fs.statSync(record.logPath).size > 1000 || undefined, 20_000, 'output');
  const stop = await tunelab(['stop', record.id.slice(0, -2)], workspace);
  assert.equal(stop.code, 0, stop.stderr);
  assert.match(stop.stderr, /cancelled \(exit 143\)/);
  assert.match(fs.readFileSync(record.logPath, 'utf8'), /received SIGTERM/);

  const bad = makeProject(
    BASE_CONFIG + 'launch:\n  target: ssh\n  ssh: { host: "-oProxyCommand=sh" }\n',
  );
  const run = await tunelab(['launch', bad.config], bad.workspace);
  assert.equal(run.code, 2);
  assert.match(
    run.stderr,
    /run\.finetune\.yaml:19:10 error launch-config launch\.ssh\.host: a host may not start with "-"/,
  );
  assert.deepEqual(new RunStore(bad.workspace).list(), [], 'nothing recorded, nothing started');
});

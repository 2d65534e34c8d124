// target: slurm against a real one-node SLURM on loopback: sbatch on this
// machine and through `via_ssh`, the real runner's failure, a streamed job,
// scancel, secrets, and the doctor through srun.

import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import { test } from 'node:test';
import { runDoctor } from '../../launch/src/doctor';
import { followRun } from '../../launch/src/follow';
import { loadLaunchSpec } from '../../launch/src/launchConfig';
import { adapterFor, launchRun } from '../../launch/src/launcher';
import { RunStore } from '../../launch/src/runRecord';
import {
  allCommandLines,
  BASE_CONFIG,
  CANARY,
  filesContaining,
  loadInfra,
  makeProject,
  replayJob,
  RUNNER_PARENT,
  slurmSkip,
  tunelab,
  waitFor,
  type Infra,
} from './infra';

const loaded = loadInfra();
const skip = slurmSkip(loaded.infra, loaded.skip);
const I = loaded.infra as Infra;
if (!skip) process.env.SLURM_CONF = I.slurmConf;

const workdir = () => `~/tl-slurm-${crypto.randomBytes(3).toString('hex')}`;
const remoteHome = `/home/${I?.sshUser}`;
const localPath = (remote: string) => remote.replace(/^~/, remoteHome);

function slurmLaunch(options: { via?: string; python?: string; extra?: string } = {}): string {
  const via = options.via ? `, via_ssh: ${options.via}` : '';
  let text =
    `launch:\n  target: slurm\n  python: ${options.python ?? 'python3'}\n` +
    `  slurm: { partition: ${I?.slurmPartition}, time: "00:10:00"${via} }\n`;
  // The login node's working directory comes from launch.ssh (whose schema requires a host).
  if (options.via)
    text += `  ssh: { host: ${options.via}, workdir: ${JSON.stringify(workdir())} }\n`;
  return text + (options.extra ?? '');
}

test(
  'slurm: sbatch here runs the real runner; its missing torch is reported on the config',
  { skip },
  async () => {
    const { config, workspace } = makeProject(BASE_CONFIG + slurmLaunch());
    const run = await tunelab(['launch', config], workspace);
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /started on slurm \(job \d+\)/);
    assert.match(run.stdout, /"type":"missing_package"/);
    assert.match(run.stderr, /run\.finetune\.yaml:19:3 error run-missing-package torch/);
    const [record] = new RunStore(workspace).list();
    assert.equal(record.state, 'failed');
    assert.equal(record.exitCode, 3);
    assert.match(
      fs.readFileSync(`${record.runDir}/job.sh`, 'utf8'),
      /'python3' '-m' 'tunelab_runner' 'train'/,
    );
  },
);

test(
  'slurm: a pace probe reaches the real runner as train CONFIG --probe N',
  { skip },
  async () => {
    // the runner here has no torch: it gets as far as its package check, past argparse,
    // which would exit 2 on an option it does not know
    const { config, workspace } = makeProject(BASE_CONFIG + slurmLaunch());
    const run = await tunelab(['launch', config, '--probe', '--probe-steps', '8'], workspace);
    assert.equal(run.code, 1, run.stderr);
    assert.match(
      run.stderr,
      /pace probe \S+ started on slurm \(job \d+\): 8 training steps, nothing kept/,
    );
    assert.match(run.stdout, /"type":"missing_package"/);
    const [record] = new RunStore(workspace).list();
    assert.equal(record.probe, 8);
    assert.equal(record.exitCode, 3);
    assert.match(
      fs.readFileSync(`${record.runDir}/job.sh`, 'utf8'),
      /'python3' '-m' 'tunelab_runner' 'train' 'run\.finetune\.yaml' '--probe' '8'\n/,
    );
  },
);

test('slurm: sbatch through via_ssh on a login node, files synced there', { skip }, async () => {
  const { config, workspace } = makeProject(
    BASE_CONFIG + slurmLaunch({ via: I.sshAlias, python: I.remotePython }),
  );
  const run = await tunelab(['launch', config], workspace, { TUNELAB_SSH_CONFIG: I.sshConfig });
  assert.equal(run.code, 1, run.stderr);
  assert.match(run.stderr, /started on slurm on tunelab-test \(job \d+\)/);
  assert.match(run.stderr, /run-missing-package torch, .* for \/usr\/bin\/python3 on tunelab-test/);
  const [record] = new RunStore(workspace).list();
  assert.equal(record.exitCode, 3);
  assert.ok(fs.existsSync(localPath(`${record.workdir}/run.finetune.yaml`)));
});

test('slurm: a streamed job completes with every line of its output file', { skip }, async () => {
  const project = makeProject(BASE_CONFIG + slurmLaunch(), { withReplay: true });
  const record = await launchRun(project.config, {
    workspaceDir: project.workspace,
    runnerParent: RUNNER_PARENT,
    ...replayJob(project.dir, 'python3', ['--events', '--repeat', '4', '--delay', '0.002']),
  });
  assert.equal(record.state, 'pending');
  const lines: string[] = [];
  const result = await followRun(record, adapterFor('slurm'), {
    fromOffset: 0,
    onLine: (text) => lines.push(text),
  });
  assert.equal(result.state, 'completed');
  assert.equal(result.exitCode, 0);
  assert.equal(lines.join('\n') + '\n', fs.readFileSync(record.logPath, 'utf8'));
  assert.equal(lines.filter((l) => l.includes('"event":"step"')).length, 80);
});

test(
  'slurm: tunelab stop cancels the job (scancel); the runner gets SIGTERM once',
  { skip },
  async () => {
    const project = makeProject(
      BASE_CONFIG + slurmLaunch({ via: I.sshAlias, python: I.remotePython }),
      {
        withReplay: true,
      },
    );
    const record = await launchRun(project.config, {
      workspaceDir: project.workspace,
      runnerParent: RUNNER_PARENT,
      sshConfigFile: I.sshConfig,
      ...replayJob(project.dir, I.remotePython, ['--repeat', '100', '--delay', '0.01']),
    });
    const log = localPath(record.logPath);
    await waitFor(
      () => (fs.existsSync(log) && fs.statSync(log).size > 2000) || undefined,
      60_000,
      'output',
    );
    const stop = await tunelab(['stop', record.id], project.workspace, {
      TUNELAB_SSH_CONFIG: I.sshConfig,
    });
    assert.equal(stop.code, 0, stop.stderr);
    assert.match(stop.stderr, /run .* cancelled/);
    await waitFor(
      () => /received SIGTERM/.test(fs.readFileSync(log, 'utf8')) || undefined,
      10_000,
      'checkpoint',
    );
    assert.equal(fs.readFileSync(log, 'utf8').match(/received SIGTERM/g)?.length, 1);
    assert.equal(new RunStore(project.workspace).load(record.id)!.state, 'cancelled');
  },
);

test('slurm: secrets reach the job by sbatch environment only', { skip }, async () => {
  const secret = `slurm-${crypto.randomBytes(8).toString('hex')}'"$(id)`;
  for (const via of [undefined, I.sshAlias]) {
    const project = makeProject(
      BASE_CONFIG +
        slurmLaunch({
          via,
          python: via ? I.remotePython : 'python3',
          extra: '  secrets: [HF_TOKEN]\n',
        }),
      { withReplay: true },
    );
    const record = await launchRun(project.config, {
      workspaceDir: project.workspace,
      runnerParent: RUNNER_PARENT,
      sshConfigFile: I.sshConfig,
      secrets: { HF_TOKEN: secret },
      ...replayJob(project.dir, via ? I.remotePython : 'python3', [
        '--secret',
        'HF_TOKEN',
        '--repeat',
        '4',
        '--delay',
        '0.003',
      ]),
    });
    const lines: string[] = [];
    const following = followRun(record, adapterFor('slurm', I.sshConfig), {
      fromOffset: 0,
      onLine: (text) => lines.push(text),
    });
    await waitFor(() => lines.length > 5 || undefined, 60_000, 'the job running');
    for (const cmd of allCommandLines())
      assert.ok(!cmd.includes(secret), `in a command line: ${cmd}`);
    const result = await following;
    assert.equal(result.state, 'completed', lines.join('\n'));
    const digest = crypto.createHash('sha256').update(secret).digest('hex');
    assert.ok(
      lines.includes(`secret HF_TOKEN sha256=${digest}`),
      `the job had the secret (${via ?? 'local'})`,
    );
    assert.deepEqual(filesContaining(project.workspace, secret), []);
    if (record.workdir) assert.deepEqual(filesContaining(localPath(record.workdir), secret), []);
  }
});

test('slurm: the doctor runs on a compute node through srun', { skip }, async () => {
  const { config } = makeProject(BASE_CONFIG + slurmLaunch());
  const report = await runDoctor(loadLaunchSpec(config), { runnerParent: RUNNER_PARENT });
  assert.match(String(report.python?.version), /^3\./);
  assert.deepEqual(report.gpus, []);
});

test(
  'slurm: injections in sbatch options run nothing, here and through via_ssh',
  { skip },
  async () => {
    for (const via of [undefined, I.sshAlias]) {
      const launch = slurmLaunch({ via, python: via ? I.remotePython : 'python3' }).replace(
        `partition: ${I.slurmPartition}`,
        `partition: ${JSON.stringify(`debug $(touch ${CANARY}); touch ${CANARY}`)}`,
      );
      const { config, workspace } = makeProject(BASE_CONFIG + launch);
      const run = await tunelab(['launch', config], workspace, { TUNELAB_SSH_CONFIG: I.sshConfig });
      assert.equal(run.code, 1, run.stderr);
      assert.match(
        run.stderr,
        /launch failed: sbatch.* failed: .*(invalid partition|Invalid partition)/i,
      );
      assert.equal(fs.existsSync(CANARY), false, `an injected command ran (${via ?? 'here'})`);
    }
  },
);

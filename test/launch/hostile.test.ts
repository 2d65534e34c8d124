// Hostile values in every launch key that reaches a remote command and had no
// test of its own: ssh.identity_file, slurm.account, slurm.time, the
// multi-node srun line, `stop` on a hostile run directory and the doctor.
// Each must arrive literally or be refused at its key, and run nothing.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { parseYaml } from '../../engine/src/parse';
import { runDoctor } from '../../launch/src/doctor';
import { slurmJobScript } from '../../launch/src/jobScript';
import { keyRange, LaunchConfigError, readLaunchSpec } from '../../launch/src/launchConfig';
import { adapterFor, launchRun } from '../../launch/src/launcher';
import { RunStore } from '../../launch/src/runRecord';
import { shQuote } from '../../launch/src/shell';
import { sshArgv } from '../../launch/src/sshClient';
import {
  BASE_CONFIG,
  CANARY,
  loadInfra,
  makeProject,
  NASTY_VALUES,
  replayJob,
  RUNNER_PARENT,
  slurmSkip,
  waitFor,
  type Infra,
} from './infra';

const { infra, skip } = loadInfra();
const I = infra as Infra;
const slurmSkipped = slurmSkip(infra, skip);
if (!slurmSkipped) process.env.SLURM_CONF = I.slurmConf;

/** One value with every trick at once: substitutions, separators, quotes, a newline. */
const HOSTILE = `x $(touch ${CANARY}) \`touch ${CANARY}\` ;touch ${CANARY}; 'q' "d" && touch ${CANARY}\ntouch ${CANARY}`;

const remoteHome = () =>
  fs
    .readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((line) => line.startsWith(`${I.sshUser}:`))!
    .split(':')[5];
const localPath = (remote: string) => remote.replace(/^~/, remoteHome());
const unique = () => crypto.randomBytes(3).toString('hex');

function sshSection(workdir: string, extra = ''): string {
  return (
    `launch:\n  target: ssh\n  python: ${I.remotePython}\n` +
    `  ssh: { host: ${I.sshAlias}, workdir: ${JSON.stringify(workdir)}${extra} }\n`
  );
}

function assertNothingRan(): void {
  assert.equal(fs.existsSync(CANARY), false, 'an injected command ran');
}

test('bad launch values are refused at their key, and the key has a line', () => {
  const cases: Array<[string, string]> = [
    ['  target: ssh\n  ssh: { host: gpu, workdir: ~root/x }\n', 'launch.ssh.workdir'],
    ['  target: ssh\n  ssh: { host: gpu, workdir: "/a\\0b" }\n', 'launch.ssh.workdir'],
    ['  target: ssh\n  ssh: { host: gpu, identity_file: "k\\0" }\n', 'launch.ssh.identity_file'],
    ['  env: { A: ok, B: "x\\0y" }\n', 'launch.env.B'],
    ['  python: "py\\0thon"\n', 'launch.python'],
    ['  target: slurm\n  slurm: { account: "a\\0" }\n', 'launch.slurm.account'],
    ['  target: slurm\n  slurm: { partition: "p\\0" }\n', 'launch.slurm.partition'],
    [`  target: slurm\n  slurm: { time: ${JSON.stringify(HOSTILE)} }\n`, 'launch.slurm.time'],
    ['  target: slurm\n  slurm: { time: "1:00;id" }\n', 'launch.slurm.time'],
    ['  target: slurm\n  slurm: { time: "1:00\\n#SBATCH --x" }\n', 'launch.slurm.time'],
    ['  target: slurm\n  slurm: { time: "`id`" }\n', 'launch.slurm.time'],
  ];
  for (const [launch, key] of cases) {
    const text = `${BASE_CONFIG}launch:\n${launch}`;
    let caught: unknown;
    try {
      readLaunchSpec('/tmp/x/run.finetune.yaml', text);
    } catch (err) {
      caught = err;
    }
    assert.ok(caught instanceof LaunchConfigError, `${key}: ${String(caught)}`);
    assert.equal(caught.path.join('.'), key);
    assert.ok(caught.message.includes(key), caught.message);
    // The line the CLI and the editor point at holds the key.
    const range = keyRange(parseYaml(text), caught.path);
    const lastKey = key.split('.').pop()!;
    assert.ok(text.split('\n')[range.start.line].includes(lastKey), `${key} line`);
  }
  // Literal values that merely look odd are kept as written.
  const fine = readLaunchSpec(
    '/tmp/x/run.finetune.yaml',
    `${BASE_CONFIG}launch:\n  target: slurm\n  slurm: { account: ${JSON.stringify(HOSTILE)}, time: "1-00:00:00" }\n`,
  );
  assert.equal(fine.slurm?.account, HOSTILE);
});

test('ssh.identity_file is one argv entry after -i, whatever it holds', () => {
  for (const value of [HOSTILE, '-oProxyCommand=touch /tmp/x', ...NASTY_VALUES.filter(Boolean)]) {
    const argv = sshArgv({ destination: 'gpu', identityFile: value }, 'true');
    const at = argv.indexOf('-i');
    assert.equal(
      argv[at + 1],
      value.startsWith('~/') ? path.join(os.homedir(), value.slice(1)) : value,
    );
    assert.deepEqual(argv.slice(-3), ['--', 'gpu', 'true']);
  }
});

test('multi-node job.sh: the srun line passes hostile python, config and env literally', () => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'tunelab-srun-'));
  const bin = path.join(base, 'bin');
  fs.mkdirSync(bin);
  // Stand-ins for SLURM: srun prints each argument NUL-terminated; scontrol names one host.
  fs.writeFileSync(
    path.join(bin, 'srun'),
    '#!/bin/sh\nfor a in "$@"; do printf "%s\\0" "$a"; done\nprintf "%s\\0" "$E1" "$MASTER_ADDR"\n',
    { mode: 0o755 },
  );
  fs.writeFileSync(path.join(bin, 'scontrol'), '#!/bin/sh\necho node-a\necho node-b\n', {
    mode: 0o755,
  });
  const python = `/opt/py thon/${HOSTILE}`;
  const configArg = `cfg ${HOSTILE}.yaml`;
  const script = slurmJobScript(
    {
      runId: 'r1',
      configDirWord: shQuote(base),
      exitCodeWord: shQuote(path.join(base, 'ec')),
      env: { E1: HOSTILE },
      argv: [],
    },
    { nodes: 2, gpusPerNode: 4 },
    { python, distributed: { backend: 'ddp', numProcesses: 8 } },
    configArg,
  );
  const result = spawnSync('sh', ['-c', script], {
    env: {
      ...process.env,
      PATH: `${bin}:${process.env.PATH}`,
      SLURM_JOB_NODELIST: 'node-[a-b]',
      SLURM_NNODES: '2',
      SLURM_JOB_ID: '7',
    },
  });
  assert.equal(result.status, 0, result.stderr.toString());
  const args = result.stdout.toString().split('\0').slice(0, -1);
  assert.deepEqual(args.slice(0, 6), [
    '--ntasks-per-node=1',
    '--kill-on-bad-exit=1',
    python,
    '-m',
    'torch.distributed.run',
    '--nproc_per_node',
  ]);
  assert.deepEqual(args.slice(-5), ['tunelab_runner', 'train', configArg, HOSTILE, 'node-a']);
  assert.ok(args.includes('node-a:29500'));
  assertNothingRan();
});

test(
  'ssh: a hostile identity_file reaches ssh as a file name and runs nothing',
  { skip },
  async () => {
    const workdir = `~/tl-idf-${unique()}`;
    const project = makeProject(
      BASE_CONFIG + sshSection(workdir, `, identity_file: ${JSON.stringify(HOSTILE)}`),
      { withReplay: true },
    );
    const record = await launchRun(project.config, {
      workspaceDir: project.workspace,
      runnerParent: RUNNER_PARENT,
      sshConfigFile: I.sshConfig,
      ...replayJob(project.dir, I.remotePython, ['--repeat', '1']),
    });
    assert.equal(record.ssh?.identityFile, HOSTILE);
    const polled = await waitFor(
      async () => {
        const state = await adapterFor('ssh', I.sshConfig).poll(record);
        return state.state === 'running' ? undefined : state;
      },
      60_000,
      'the run to end',
    );
    assert.equal(polled.state, 'completed');
    assertNothingRan();
  },
);

test(
  'ssh: stop on a hostile run directory signals the run and runs nothing',
  { skip },
  async () => {
    const workdir = `~/tl stop 'q' $(touch ${CANARY}) ;x \`touch ${CANARY}\` ${unique()}`;
    const project = makeProject(BASE_CONFIG + sshSection(workdir), { withReplay: true });
    const store = new RunStore(project.workspace);
    const record = await launchRun(project.config, {
      workspaceDir: project.workspace,
      runnerParent: RUNNER_PARENT,
      sshConfigFile: I.sshConfig,
      ...replayJob(project.dir, I.remotePython, ['--events', '--repeat', '100', '--delay', '0.01']),
    });
    const log = localPath(record.logPath);
    await waitFor(
      () => (fs.existsSync(log) && fs.statSync(log).size > 2000) || undefined,
      30_000,
      'output',
    );
    const adapter = adapterFor('ssh', I.sshConfig);
    // A record edited by hand: the directory does not exist, the value must stay a name.
    await adapter.stop({ ...record, runDir: `/tmp/${HOSTILE}` }, true);
    await adapter.stop({ ...record, runDir: `~/${HOSTILE}` }, false);
    assertNothingRan();
    await adapter.stop(store.load(record.id)!, false);
    const polled = await waitFor(
      async () => {
        const state = await adapter.poll(record);
        return state.state === 'running' ? undefined : state;
      },
      30_000,
      'the run to stop',
    );
    assert.equal(polled.state, 'cancelled');
    assert.equal(fs.readFileSync(log, 'utf8').match(/received SIGTERM/g)?.length, 1);
    assertNothingRan();
  },
);

test(
  'ssh: the doctor on a hostile working directory and config name runs nothing',
  { skip },
  async () => {
    const workdir = `~/tl doc 'q' $(touch ${CANARY}) ;x \`touch ${CANARY}\` ${unique()}`;
    const project = makeProject(BASE_CONFIG + sshSection(workdir), {
      name: `c $(touch ${path.basename(CANARY)}) 'q'.finetune.yaml`,
    });
    const report = await runDoctor(
      readLaunchSpec(project.config, fs.readFileSync(project.config, 'utf8')),
      {
        runnerParent: RUNNER_PARENT,
        sshConfigFile: I.sshConfig,
      },
    );
    assert.match(String(report.python?.version), /^3\./);
    assert.ok(fs.existsSync(path.join(localPath(workdir), path.basename(project.config))));
    assertNothingRan();
  },
);

test(
  'slurm: a hostile account reaches sbatch and srun as written, here and through via_ssh, and runs nothing',
  { skip: slurmSkipped },
  async () => {
    for (const via of [undefined, I.sshAlias]) {
      const python = via ? I.remotePython : 'python3';
      let launch = `launch:\n  target: slurm\n  python: ${python}\n  slurm: { partition: ${I.slurmPartition}, time: "00:10:00", account: ${JSON.stringify(HOSTILE)}${via ? `, via_ssh: ${via}` : ''} }\n`;
      if (via)
        launch += `  ssh: { host: ${via}, workdir: ${JSON.stringify(`~/tl-acct-${unique()}`)} }\n`;
      const project = makeProject(BASE_CONFIG + launch, { withReplay: true });
      // This SLURM keeps no accounting, so any account is taken: it must arrive as written.
      const record = await launchRun(project.config, {
        workspaceDir: project.workspace,
        runnerParent: RUNNER_PARENT,
        sshConfigFile: I.sshConfig,
        ...replayJob(project.dir, python, ['--repeat', '1']),
      });
      const job = spawnSync('scontrol', ['show', 'job', '-o', record.jobId!], { encoding: 'utf8' });
      assert.equal(/ Account=([^]*) QOS=/.exec(job.stdout)?.[1], HOSTILE, job.stdout);
      const report = await runDoctor(
        readLaunchSpec(project.config, fs.readFileSync(project.config, 'utf8')),
        { runnerParent: RUNNER_PARENT, sshConfigFile: I.sshConfig },
      );
      assert.match(
        String(report.python?.version),
        /^3\./,
        `doctor through srun (${via ?? 'here'})`,
      );
      assertNothingRan();
    }
  },
);

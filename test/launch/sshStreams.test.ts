// A printer following an ssh run, killed with -9 while the log grows and
// while it is idle: its ssh follower (here and on the host) is gone at once,
// and the attaches together print every line once, except announced repeats.

import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import { test } from 'node:test';
import { adapterFor, launchRun } from '../../launch/src/launcher';
import type { RunRecord } from '../../launch/src/runRecord';
import {
  BASE_CONFIG,
  loadInfra,
  makeProject,
  replayJob,
  RUNNER_PARENT,
  tunelab,
  waitFor,
  type Infra,
} from './infra';
import { checkAttaches, runDriver, type Attach } from './printCheck';

const { infra, skip } = loadInfra();
const I = infra as Infra;

const remoteHome = () =>
  fs
    .readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((line) => line.startsWith(`${I.sshUser}:`))!
    .split(':')[5];

/** Writes `count` numbered lines, paced until `fast` exists; stays alive until `end` exists. */
const WRITER = `
import os, sys, time
count, fast, end = int(sys.argv[1]), sys.argv[2], sys.argv[3]
for i in range(count):
    sys.stdout.write('%06d %s%s\\n' % (i, '\\u00fc' * (i % 23), 'x' * (i % 61)))
    if i % 10 == 9:
        sys.stdout.flush()
        if not os.path.exists(fast):
            time.sleep(0.02)
sys.stdout.flush()
while not os.path.exists(end):
    time.sleep(0.05)
`;

/** Processes following this run: the ssh client here, the shell, tail and cat on the host. */
function followers(record: RunRecord, runDir: string): string[] {
  const found: string[] = [];
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      const following = cmd.includes(record.id) && cmd.includes('tail -c +');
      if (following || fs.readlinkSync(`/proc/${pid}/cwd`) === runDir) found.push(`${pid} ${cmd}`);
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

test(
  'ssh: a printer killed with -9 leaves no follower behind; every line once over all attaches',
  { skip, timeout: 240_000 },
  async () => {
    const count = 6000;
    const workdir = `~/tl-kill-${crypto.randomBytes(3).toString('hex')}`;
    const home = workdir.replace(/^~/, remoteHome());
    const project = makeProject(
      BASE_CONFIG +
        `launch:\n  target: ssh\n  python: ${I.remotePython}\n` +
        `  ssh: { host: ${I.sshAlias}, workdir: ${JSON.stringify(workdir)} }\n`,
    );
    const [fast, end] = [`${home}/fast`, `${home}/end`];
    const record = await launchRun(project.config, {
      workspaceDir: project.workspace,
      runnerParent: RUNNER_PARENT,
      sshConfigFile: I.sshConfig,
      jobArgv: [I.remotePython, '-c', WRITER, String(count), fast, end],
    });
    const runDir = record.runDir.replace(/^~/, remoteHome());
    const env = { TUNELAB_SSH_CONFIG: I.sshConfig };
    const attaches: Attach[] = [];
    const lingered: number[] = [];
    const killAndCheck = async () => {
      const attach = await runDriver(project.workspace, record.id, Math.random() * 300, env);
      attaches.push(attach);
      await waitFor(
        () => followers(record, runDir).length === 0 || undefined,
        10_000,
        'no follower',
      );
      lingered.push(Date.now() - attach.closedAt);
    };
    for (let kill = 0; kill < 6; kill++) await killAndCheck();
    fs.writeFileSync(fast, '');
    await waitFor(
      () => fs.readFileSync(`${runDir}/log`, 'utf8').split('\n').length > count || undefined,
      60_000,
      'the whole log',
    );
    // Killed while the log stands still: nothing to write, so no SIGPIPE would end the follower.
    for (let kill = 0; kill < 2; kill++) await killAndCheck();
    fs.writeFileSync(end, '');
    const last = await runDriver(project.workspace, record.id, undefined, env);
    attaches.push(last);
    assert.match(last.stderr, /end completed/, last.stderr);
    const { announcements, repeated } = checkAttaches(
      attaches,
      fs.readFileSync(`${runDir}/log`, 'utf8'),
      count,
    );
    console.log(
      `# followers gone ${lingered.join(', ')} ms after the kills; ${announcements} announced, ${repeated} repeated`,
    );
    for (const ms of lingered) assert.ok(ms < 1500, `a follower lived ${ms} ms after its printer`);
  },
);

test(
  'ssh CLI: `tunelab logs RUN` over a slow connection prints the log and no listener warning',
  { skip },
  async () => {
    const workdir = `~/tl-logs-${crypto.randomBytes(3).toString('hex')}`;
    const project = makeProject(
      BASE_CONFIG +
        `launch:\n  target: ssh\n  python: ${I.remotePython}\n` +
        `  ssh: { host: ${I.sshAlias}, workdir: ${JSON.stringify(workdir)} }\n`,
      { withReplay: true },
    );
    const record = await launchRun(project.config, {
      workspaceDir: project.workspace,
      runnerParent: RUNNER_PARENT,
      sshConfigFile: I.sshConfig,
      ...replayJob(project.dir, I.remotePython, ['--events', '--repeat', '20']),
    });
    await waitFor(
      async () => {
        const polled = await adapterFor('ssh', I.sshConfig).poll(record);
        return polled.state === 'running' ? undefined : polled;
      },
      60_000,
      'the run to end',
    );
    const log = fs.readFileSync(`${record.logPath.replace(/^~/, remoteHome())}`, 'utf8');
    const env = { TUNELAB_SSH_CONFIG: I.sshConfig };
    // ssh's start-up alone outlasts ten turns of the read loop's 20 ms wait.
    const plain = await tunelab(['logs', record.id], project.workspace, env);
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal(plain.stdout, log);
    assert.doesNotMatch(plain.stderr, /MaxListenersExceededWarning|Warning/);
    const followed = await tunelab(['logs', record.id, '--follow'], project.workspace, env);
    assert.equal(followed.stdout, log);
    assert.doesNotMatch(followed.stderr, /MaxListenersExceededWarning|Warning/);
  },
);

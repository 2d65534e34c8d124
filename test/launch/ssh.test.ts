// target: ssh against a real sshd on loopback (scripts/setup-ssh-slurm.sh):
// the real runner's failure surfacing, incremental sync, a dropped connection
// and a detached CLI re-attaching with no line lost or doubled, stop,
// injection attempts in every value that reaches a command, and secrets.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { runDoctor, suggestHardware } from '../../launch/src/doctor';
import { followRun } from '../../launch/src/follow';
import { loadLaunchSpec } from '../../launch/src/launchConfig';
import { adapterFor, launchRun } from '../../launch/src/launcher';
import { RunStore, type RunRecord } from '../../launch/src/runRecord';
import {
  allCommandLines,
  BASE_CONFIG,
  CANARY,
  CLI,
  filesContaining,
  loadInfra,
  makeProject,
  NASTY_VALUES,
  replayJob,
  ROOT,
  RUNNER_PARENT,
  tunelab,
  waitFor,
  type Infra,
} from './infra';

const { infra, skip } = loadInfra();
const I = infra as Infra;

function sshLaunch(workdir: string, extra = ''): string {
  return (
    `launch:\n  target: ssh\n  python: ${I.remotePython}\n` +
    `  ssh: { host: ${I.sshAlias}, workdir: ${JSON.stringify(workdir)} }\n${extra}`
  );
}

const uniqueWorkdir = (label: string) => `~/tl-${label}-${crypto.randomBytes(3).toString('hex')}`;
// The test host is this machine: the ssh user's home from the password file.
const remoteHome = () =>
  fs
    .readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((line) => line.startsWith(`${I.sshUser}:`))!
    .split(':')[5];
const localPath = (remote: string) => remote.replace(/^~/, remoteHome());
const cliEnv = () => ({ TUNELAB_SSH_CONFIG: I.sshConfig });

function remoteLog(record: RunRecord): string {
  return fs.readFileSync(localPath(record.logPath), 'utf8');
}

async function launchReplay(
  label: string,
  args: string[],
  extraConfig = '',
  secrets: Record<string, string> = {},
) {
  const workdir = uniqueWorkdir(label);
  const project = makeProject(BASE_CONFIG + sshLaunch(workdir, extraConfig), { withReplay: true });
  const statuses: string[] = [];
  const record = await launchRun(project.config, {
    workspaceDir: project.workspace,
    runnerParent: RUNNER_PARENT,
    sshConfigFile: I.sshConfig,
    onStatus: (message) => statuses.push(message),
    secrets,
    ...replayJob(project.dir, I.remotePython, args),
  });
  return { ...project, record, statuses, workdir };
}

test(
  'ssh: the real runner fails for want of torch; files synced; finding on launch.python',
  { skip },
  async () => {
    const workdir = uniqueWorkdir('runner');
    const { config, workspace } = makeProject(BASE_CONFIG + sshLaunch(workdir));
    const run = await tunelab(['launch', config], workspace, cliEnv());
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stdout, /"type":"missing_package"/);
    assert.match(
      run.stderr,
      /run\.finetune\.yaml:19:3 error run-missing-package torch, .* not installed for \/usr\/bin\/python3 on tunelab-test/,
    );
    const home = localPath(workdir);
    for (const file of [
      'run.finetune.yaml',
      'data/train.jsonl',
      '.tunelab/runner/tunelab_runner/cli.py',
    ])
      assert.ok(fs.existsSync(path.join(home, file)), file);
  },
);

test('ssh: a second launch sends only what changed', { skip }, async () => {
  const workdir = uniqueWorkdir('sync');
  const { config, workspace, dir } = makeProject(BASE_CONFIG + sshLaunch(workdir), {
    withReplay: true,
  });
  const launch = async () => {
    const statuses: string[] = [];
    await launchRun(config, {
      workspaceDir: workspace,
      runnerParent: RUNNER_PARENT,
      sshConfigFile: I.sshConfig,
      onStatus: (m) => statuses.push(m),
      ...replayJob(dir, I.remotePython),
    });
    return statuses.find((s) => s.startsWith('sent '));
  };
  const first = await launch();
  assert.match(first!, /^sent (\d+) files, 0 unchanged$/);
  assert.match((await launch())!, /^sent 1 files, \d+ unchanged$/, 'only the new run.sh');
  fs.appendFileSync(path.join(dir, 'data', 'eval.jsonl'), '\n');
  assert.match(
    (await launch())!,
    /^sent 2 files, \d+ unchanged$/,
    'run.sh and the changed data file',
  );
});

test(
  'ssh: killing the ssh client mid-run reconnects; no line lost or doubled',
  { skip },
  async () => {
    const { record, workspace } = await launchReplay('drop', [
      '--events',
      '--repeat',
      '12',
      '--delay',
      '0.004',
    ]);
    const lines: string[] = [];
    let reconnects = 0;
    const following = followRun(record, adapterFor('ssh', I.sshConfig), {
      fromOffset: 0,
      onLine: (text) => lines.push(text),
      onReconnect: () => reconnects++,
    });
    const killFollower = () => {
      const followers = fs
        .readdirSync('/proc')
        .filter((pid) => /^\d+$/.test(pid))
        .filter((pid) => {
          try {
            const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
            return (
              cmd.startsWith('/usr/bin/ssh\0') &&
              cmd.includes(record.id) &&
              cmd.includes('tail -c +')
            );
          } catch {
            return false;
          }
        });
      for (const pid of followers) process.kill(Number(pid), 'SIGKILL');
      return followers.length;
    };
    await waitFor(() => lines.length > 50 || undefined, 30_000, 'first lines');
    assert.ok((await waitFor(() => killFollower() || undefined)) >= 1);
    const before = lines.length;
    await waitFor(() => lines.length > before + 50 || undefined, 30_000, 'lines after a reconnect');
    assert.ok((await waitFor(() => killFollower() || undefined)) >= 1);
    const result = await following;
    assert.equal(result.state, 'completed');
    assert.ok(reconnects >= 2, `reconnected ${reconnects} times`);
    assert.equal(lines.join('\n') + '\n', remoteLog(record));
    assert.equal(
      new RunStore(workspace).load(record.id)!.state,
      'running',
      'the API leaves the record to the caller',
    );
  },
);

test(
  'ssh CLI: detached run, logs --follow interrupted by Ctrl-C and resumed: every line once',
  { skip },
  async () => {
    const { record, workspace } = await launchReplay('reattach', [
      '--events',
      '--repeat',
      '10',
      '--delay',
      '0.004',
    ]);
    const first = spawn(process.execPath, [CLI, 'logs', record.id, '--follow'], {
      cwd: workspace,
      env: { ...process.env, ...cliEnv() },
    });
    const firstOut: Buffer[] = [];
    first.stdout.on('data', (chunk: Buffer) => firstOut.push(chunk));
    let firstErr = '';
    first.stderr.on('data', (chunk: Buffer) => (firstErr += chunk.toString()));
    await waitFor(() => Buffer.concat(firstOut).length > 4000 || undefined, 30_000, 'output');
    first.kill('SIGINT');
    const code = await new Promise((resolve) => first.on('close', resolve));
    assert.equal(code, 130);
    assert.match(firstErr, /detached from run .*; it goes on\. Re-attach: tunelab logs/);
    const rest = await tunelab(['logs', record.id, '--follow'], workspace, cliEnv());
    assert.equal(rest.code, 0, rest.stderr);
    const log = remoteLog(record);
    assert.ok(Buffer.concat(firstOut).length < Buffer.byteLength(log), 'interrupted mid-run');
    assert.equal(Buffer.concat(firstOut).toString('utf8') + rest.stdout, log);
    const saved = new RunStore(workspace).load(record.id)!;
    assert.equal(saved.state, 'completed');
    assert.equal(saved.logOffset, Buffer.byteLength(log));
  },
);

test('ssh CLI: stop sends SIGTERM through run.sh once; the job checkpoints', { skip }, async () => {
  const { record, workspace } = await launchReplay('stop', [
    '--events',
    '--repeat',
    '100',
    '--delay',
    '0.01',
  ]);
  await waitFor(() => remoteLog(record).length > 2000 || undefined, 30_000, 'output');
  const stop = await tunelab(['stop', record.id], workspace, cliEnv());
  assert.equal(stop.code, 0, stop.stderr);
  assert.match(stop.stderr, /run .* cancelled \(exit 143\)/);
  const log = remoteLog(record);
  assert.equal(log.match(/received SIGTERM/g)?.length, 1);
  assert.match(log, /"event":"end".*"status":"interrupted"/);
  assert.equal(new RunStore(workspace).load(record.id)!.state, 'cancelled');
});

test(
  'ssh: injection attempts in paths, file names, env values and arguments run nothing',
  { skip },
  async () => {
    // A file name cannot hold '/': these try to create a file wherever they would run.
    const evilName = `it's $(touch pwned-name) a;b \`touch pwned-name\`.finetune.yaml`;
    const evilData = `data/ev"il $(touch pwned-data)\nname.jsonl`;
    const workdir = `~/tl inj 'q' $(touch ${CANARY}) ;x \`touch ${CANARY}\` ${crypto.randomBytes(3).toString('hex')}`;
    const env = Object.fromEntries(NASTY_VALUES.map((v, i) => [`TUNELAB_TEST_${i}`, v]));
    const config =
      BASE_CONFIG.replace('eval_file: data/eval.jsonl', `eval_file: ${JSON.stringify(evilData)}`) +
      sshLaunch(workdir, `  env: ${JSON.stringify(env)}\n`);
    const project = makeProject(config, { name: evilName, withReplay: true });
    fs.writeFileSync(path.join(project.dir, evilData), '{"messages": []}\n');
    const echo = NASTY_VALUES.flatMap((v) => ['--echo', v]);
    const record = await launchRun(project.config, {
      workspaceDir: project.workspace,
      runnerParent: RUNNER_PARENT,
      sshConfigFile: I.sshConfig,
      ...replayJob(project.dir, I.remotePython, echo),
    });
    const lines: string[] = [];
    const result = await followRun(record, adapterFor('ssh', I.sshConfig), {
      fromOffset: 0,
      onLine: (text) => lines.push(text),
    });
    assert.equal(result.state, 'completed', lines.join('\n'));
    const echoed = lines.filter((l) => l.startsWith('echo ')).map((l) => JSON.parse(l.slice(5)));
    assert.deepEqual(echoed, NASTY_VALUES);
    const envs = lines.filter((l) => l.startsWith('env ')).map((l) => l.split(' '));
    for (const [, name, ...value] of envs)
      assert.equal(JSON.parse(value.join(' ')), env[name], name);
    assert.equal(envs.length, NASTY_VALUES.length);
    assert.equal(JSON.parse(lines.find((l) => l.startsWith('cwd '))!.slice(4)), localPath(workdir));
    assert.ok(
      fs.existsSync(path.join(localPath(workdir), evilData)),
      'the oddly named data file arrived',
    );
    assert.ok(fs.existsSync(path.join(localPath(workdir), evilName)));
    assert.equal(fs.existsSync(CANARY), false, 'an injected command ran');
    const places = [remoteHome(), localPath(workdir), project.dir, project.workspace, ROOT];
    for (const dir of places)
      for (const file of ['pwned-name', 'pwned-data'])
        assert.equal(fs.existsSync(path.join(dir, file)), false, `${dir}/${file}`);
  },
);

test(
  'ssh: secrets reach the job over stdin only: no command line, file or log has them',
  { skip },
  async () => {
    const secret = `tok-${crypto.randomBytes(8).toString('hex')}'"$(id);\`id\``;
    const { record, workspace, workdir } = await launchReplay(
      'secret',
      ['--secret', 'HF_TOKEN', '--repeat', '15', '--delay', '0.003'],
      '  secrets: [HF_TOKEN]\n',
      { HF_TOKEN: secret },
    );
    const lines: string[] = [];
    let sawRunning = false;
    const following = followRun(record, adapterFor('ssh', I.sshConfig), {
      fromOffset: 0,
      onLine: (text) => {
        lines.push(text);
        if (!sawRunning) {
          sawRunning = true;
          for (const cmd of allCommandLines())
            assert.ok(!cmd.includes(secret), `in a command line: ${cmd}`);
        }
      },
    });
    await waitFor(() => lines.length > 20 || undefined, 30_000, 'the job running');
    for (const cmd of allCommandLines())
      assert.ok(!cmd.includes(secret), `in a command line: ${cmd}`);
    await following;
    const digest = crypto.createHash('sha256').update(secret).digest('hex');
    assert.ok(lines.includes(`secret HF_TOKEN sha256=${digest}`), 'the job had the secret');
    assert.deepEqual(filesContaining(workspace, secret), []);
    assert.deepEqual(filesContaining(localPath(workdir), secret), []);
    assert.deepEqual(filesContaining(path.dirname(I.sshConfig), secret), [], 'sshd log');
  },
);

test('ssh: the doctor runs on the host and reports its Python and packages', { skip }, async () => {
  const { config } = makeProject(BASE_CONFIG + sshLaunch(uniqueWorkdir('doctor')));
  const spec = loadLaunchSpec(config);
  const report = await runDoctor(spec, { runnerParent: RUNNER_PARENT, sshConfigFile: I.sshConfig });
  assert.match(String(report.python?.version), /^3\./);
  assert.ok(report.packages && 'PyYAML' in report.packages && report.packages.PyYAML);
  assert.equal(suggestHardware(report), undefined, 'no GPU on the test host');
});

test(
  'ssh: an injection in launch.python runs nothing and is reported on that key',
  { skip },
  async () => {
    const python = `/usr/bin/python3 $(touch ${CANARY}); touch ${CANARY} #`;
    const { config, workspace } = makeProject(
      BASE_CONFIG +
        sshLaunch(uniqueWorkdir('py')).replace(
          `python: ${I.remotePython}`,
          `python: ${JSON.stringify(python)}`,
        ),
    );
    const run = await tunelab(['launch', config], workspace, cliEnv());
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /\(exit 127\)/);
    assert.match(run.stderr, /run\.finetune\.yaml:19:3 error run-python-not-found/);
    assert.equal(fs.existsSync(CANARY), false);
  },
);

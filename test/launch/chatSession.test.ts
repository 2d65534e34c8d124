// The chat session (launch/src/chatSession.ts, chatLaunch.ts) on the local
// target, the ssh target and the SLURM target (here and via_ssh) against the
// loopback sshd and SLURM (scripts/setup-ssh-slurm.sh), with a runner package
// whose `__main__` is test/fixtures/chat/fake_chat.py: it stands in for the
// GPU only (canned replies per adapter, CHAT.md's lines). Real launch path for
// the training record, real ssh, real sync, real srun and squeue.

import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { chatLaunch } from '../../launch/src/chatLaunch';
import { ChatSession, type ChatEvent } from '../../launch/src/chatSession';
import {
  BASE_CONFIG,
  fakeRunner,
  loadInfra,
  makeProject,
  ROOT,
  slurmSkip,
  trainedRun,
  waitFor,
  type Infra,
} from './infra';

const { infra, skip } = loadInfra();
const I = infra as Infra;
const FAKE = path.join(ROOT, 'test', 'fixtures', 'chat', 'fake_chat.py');

const fakeChatRunner = () => fakeRunner('tunelab-fake-chat-', fs.readFileSync(FAKE, 'utf8'));

const ask = (content: string) => [{ role: 'user' as const, content }];

/** Both columns answer the same prompt; a long answer is stopped; the transcript is kept. */
async function exercise(session: ChatSession, workspace: string) {
  assert.deepEqual(session.ready.adapters, ['tuned']);
  assert.equal(session.ready.base, 'fake/base-model');
  const tokens: string[] = [];
  const onEvent = (event: ChatEvent) => event.event === 'token' && tokens.push(event.text);
  const [base, tuned] = session.columns.map((column) =>
    session.send({ messages: ask('the red light'), adapter: column.adapter }, onEvent),
  );
  const [a, b] = await Promise.all([base.done, tuned.done]);
  assert.equal(a.text, 'Base model says: I am not sure about the red light');
  assert.equal(b.text, 'Tuned [tuned] answer: restart the router, then check the red light');
  assert.equal(tokens.join(''), a.text + b.text);
  assert.equal(a.stopped, false);

  const long = session.send({ messages: ask('long answer'), adapter: 'tuned' });
  let seen = 0;
  const stopped = session.send({ messages: ask('long too'), adapter: null }, () => (seen += 1));
  await new Promise((resolve) => setTimeout(resolve, 300));
  // The queued one first: stdin keeps the order, so its stop is read before the
  // long answer ends and the runner takes it up (srun forwards each write on its
  // own, so the other order could let it start a token before its stop arrives).
  stopped.stop(); // still queued: answered with no tokens
  long.stop();
  const [l, q] = await Promise.all([long.done, stopped.done]);
  assert.equal(l.stopped, true);
  assert.ok(l.tokens > 0 && l.tokens < 400, `stopped after ${l.tokens} tokens`);
  assert.equal(q.stopped, true);
  assert.equal(q.tokens, 0);
  assert.equal(seen, 1); // its done only

  await assert.rejects(session.send({ prompt: 'x', adapter: 'nope' }).done, /unknown adapter/);
  assert.equal(await session.close(), 0);
  await assert.rejects(session.send({ prompt: 'x', adapter: null }).done, /ended/);

  assert.ok(session.transcript.startsWith(path.join(workspace, '.tunelab', 'chats')));
  const lines = fs
    .readFileSync(session.transcript, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  assert.equal(lines[0].type, 'session');
  assert.deepEqual(
    lines.slice(1, 3).map((line) => [line.column, line.adapter, line.text]),
    [
      ['base', null, a.text],
      [session.columns[1].label, 'tuned', b.text],
    ],
  );
  assert.equal(lines.length, 6);
}

test('local: chat with a recorded run, base and tuned answer, stop, transcript', async () => {
  const { config, workspace } = makeProject(BASE_CONFIG + 'launch:\n  target: local\n', {
    name: "it's $(id) ; x.finetune.yaml",
  });
  const training = await trainedRun(config, workspace, 'python3');
  const session = await ChatSession.start(training, {
    workspaceDir: workspace,
    runnerParent: fakeChatRunner(),
    secrets: { FAKE_CHAT_SECRET: "s3cret 'q'" },
  });
  assert.equal((session.ready as unknown as { secret: string }).secret, "s3cret 'q'");
  await exercise(session, workspace);
});

test('local: two runs with the same base answer in their own columns', async () => {
  const { config, workspace } = makeProject(BASE_CONFIG + 'launch:\n  target: local\n');
  const first = await trainedRun(config, workspace, 'python3');
  const second = await trainedRun(config, workspace, 'python3');
  const session = await ChatSession.start(first, {
    workspaceDir: workspace,
    runnerParent: fakeChatRunner(),
    other: second,
  });
  assert.deepEqual(session.ready.adapters, [first.id, second.id]);
  const replies = await Promise.all(
    session.columns.map((c) => session.send({ prompt: 'hi', adapter: c.adapter }).done),
  );
  assert.match(replies[0].text, new RegExp(`\\[${first.id}\\]`));
  assert.match(replies[1].text, new RegExp(`\\[${second.id}\\]`));
  await session.close();
});

test('local: a runner error before ready is reported with its hint', async () => {
  const { config, workspace } = makeProject(BASE_CONFIG + 'launch:\n  target: local\n');
  const training = await trainedRun(config, workspace, 'python3');
  await assert.rejects(
    ChatSession.start(training, {
      workspaceDir: workspace,
      runnerParent: fakeChatRunner(),
      secrets: { FAKE_CHAT_FAIL: '1' },
    }),
    { message: 'peft is not installed', type: 'missing_package', hint: 'pip install peft' },
  );
});

test("ssh: chat runs on the training run's host over the session's stdio", { skip }, async () => {
  const workdir = `~/tl-chat-${crypto.randomBytes(3).toString('hex')}`;
  const { config, workspace } = makeProject(
    BASE_CONFIG +
      `launch:\n  target: ssh\n  python: ${I.remotePython}\n` +
      `  ssh: { host: ${I.sshAlias}, workdir: ${JSON.stringify(workdir)} }\n`,
  );
  const training = await trainedRun(config, workspace, I.remotePython, I.sshConfig);
  const session = await ChatSession.start(training, {
    workspaceDir: workspace,
    runnerParent: fakeChatRunner(),
    sshConfigFile: I.sshConfig,
    // a value with a newline and quotes reaches the remote environment intact
    secrets: { FAKE_CHAT_SECRET: "line1\nit's $(id)" },
  });
  assert.equal((session.ready as unknown as { secret: string }).secret, "line1\nit's $(id)");
  await exercise(session, workspace);
});

// ---------------------------------------------------------------- SLURM
// srun in an allocation of its own, here and through the login node (via_ssh).

const slurm = slurmSkip(infra, skip);
if (!slurm) process.env.SLURM_CONF = I.slurmConf;
const PLACES = [undefined, 'via_ssh'] as const;

function slurmConfig(viaSsh: boolean): string {
  const workdir = `~/tl-chat-${crypto.randomBytes(3).toString('hex')}`;
  return (
    BASE_CONFIG +
    `launch:\n  target: slurm\n  python: ${viaSsh ? I.remotePython : 'python3'}\n` +
    `  slurm: { partition: ${I.slurmPartition}, time: "00:10:00"` +
    (viaSsh
      ? `, via_ssh: ${I.sshAlias} }\n  ssh: { host: ${I.sshAlias}, workdir: "${workdir}" }\n`
      : ' }\n')
  );
}

/** The same config with `settings` added to `launch.slurm`. */
function amendSlurm(config: string, settings: string): void {
  const text = fs.readFileSync(config, 'utf8');
  fs.writeFileSync(config, text.replace('time: "00:10:00"', `time: "00:10:00"${settings}`));
}

async function slurmRun(viaSsh: boolean) {
  const project = makeProject(slurmConfig(viaSsh));
  const python = viaSsh ? I.remotePython : 'python3';
  return {
    ...project,
    training: await trainedRun(project.config, project.workspace, python, I.sshConfig),
  };
}

/** `ID STATE` of each job of `runId`'s chats that SLURM still runs or queues. */
function chatJobs(runId: string): string {
  const name = `tunelab-chat-${runId}`;
  return spawnSync('squeue', ['-h', '-n', name, '-o', '%i %T'], { encoding: 'utf8' }).stdout.trim();
}

const released = (runId: string) =>
  waitFor(() => chatJobs(runId) === '' || undefined, 20_000, 'the allocation given back');

for (const place of PLACES) {
  test(
    `slurm${place ? ` ${place}` : ''}: chat through srun in its own allocation`,
    { skip: slurm },
    async () => {
      const { workspace, training } = await slurmRun(place !== undefined);
      // As from an editor that itself runs inside a SLURM job: the chat still asks for its own.
      process.env.SLURM_JOB_ID = '1';
      const session = await ChatSession.start(training, {
        workspaceDir: workspace,
        runnerParent: fakeChatRunner(),
        sshConfigFile: I.sshConfig,
        secrets: { FAKE_CHAT_SECRET: "line1\nit's $(id)" },
      }).finally(() => delete process.env.SLURM_JOB_ID);
      const ready = session.ready as unknown as { slurm_job: string | null; secret: string };
      assert.match(String(ready.slurm_job), /^\d+$/, 'the runner runs in a SLURM job');
      assert.equal(chatJobs(training.id), `${ready.slurm_job} RUNNING`);
      assert.equal(ready.secret, "line1\nit's $(id)");
      await exercise(session, workspace);
      await released(training.id);
    },
  );

  test(
    `slurm${place ? ` ${place}` : ''}: a chat given up while loading or queued gives its allocation back`,
    { skip: slurm },
    async () => {
      const { config, workspace, training } = await slurmRun(place !== undefined);
      let stderr = '';
      const start = (readyTimeoutMs: number) =>
        ChatSession.start(training, {
          workspaceDir: workspace,
          runnerParent: fakeChatRunner(),
          sshConfigFile: I.sshConfig,
          secrets: { FAKE_CHAT_LOAD_SECONDS: '300' },
          readyTimeoutMs,
          onStderr: (text) => (stderr += text),
        });
      await assert.rejects(start(10_000), /did not load in time/);
      assert.match(stderr, /"stage":"loading"/, 'the model was loading in the allocation');
      await released(training.id);

      amendSlurm(config, ', extra_args: ["--begin=now+3600"]');
      stderr = '';
      await assert.rejects(start(5000), /did not load in time/);
      assert.match(stderr, /queued and waiting/);
      await released(training.id);
    },
  );
}

test(
  'slurm: gpus_per_node asks srun for one GPU; a cluster without GPUs says so',
  { skip: slurm },
  async () => {
    const { config, workspace, training } = await slurmRun(false);
    // Written after the training: this cluster has no GPUs for its sbatch either.
    amendSlurm(config, ', gpus_per_node: 4');
    const options = { workspaceDir: workspace, runnerParent: fakeChatRunner() };
    const { argv } = await chatLaunch(training, options);
    assert.deepEqual(
      argv.filter((arg) => arg.startsWith('--gpus')),
      ['--gpus-per-node=1'],
    );
    await assert.rejects(
      ChatSession.start(training, options),
      /before it was ready: .*Invalid generic resource/s,
    );
  },
);

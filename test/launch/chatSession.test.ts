// The chat session (launch/src/chatSession.ts) on the local target and on the
// ssh target against the loopback sshd (scripts/setup-ssh-slurm.sh), with a
// runner package whose `__main__` is test/fixtures/chat/fake_chat.py: it
// stands in for the GPU only (canned replies per adapter, CHAT.md's lines).
// Real launch path for the training record, real ssh, real sync.

import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { ChatSession, type ChatEvent } from '../../launch/src/chatSession';
import { followRun } from '../../launch/src/follow';
import { adapterFor, launchRun } from '../../launch/src/launcher';
import { BASE_CONFIG, loadInfra, makeProject, ROOT, type Infra } from './infra';

const { infra, skip } = loadInfra();
const I = infra as Infra;
const FAKE = path.join(ROOT, 'test', 'fixtures', 'chat', 'fake_chat.py');

function fakeRunner(): string {
  const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'tunelab-fake-chat-'));
  fs.mkdirSync(path.join(parent, 'tunelab_runner'));
  fs.writeFileSync(path.join(parent, 'tunelab_runner', '__init__.py'), '');
  fs.copyFileSync(FAKE, path.join(parent, 'tunelab_runner', '__main__.py'));
  return parent;
}

async function trainedRun(config: string, workspace: string, python: string, sshConfig?: string) {
  const record = await launchRun(config, {
    workspaceDir: workspace,
    sshConfigFile: sshConfig,
    jobArgv: [python, '-c', 'print("trained")'],
  });
  const result = await followRun(record, adapterFor(record.target, sshConfig), {
    fromOffset: 0,
    onLine: () => undefined,
  });
  assert.equal(result.state, 'completed');
  return record;
}

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
  long.stop();
  stopped.stop(); // still queued: answered with no tokens
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
    runnerParent: fakeRunner(),
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
    runnerParent: fakeRunner(),
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
      runnerParent: fakeRunner(),
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
    runnerParent: fakeRunner(),
    sshConfigFile: I.sshConfig,
    // a value with a newline and quotes reaches the remote environment intact
    secrets: { FAKE_CHAT_SECRET: "line1\nit's $(id)" },
  });
  assert.equal((session.ready as unknown as { secret: string }).secret, "line1\nit's $(id)");
  await exercise(session, workspace);
});

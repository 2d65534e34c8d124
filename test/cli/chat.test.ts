// `tunelab chat RUN [RUN]`: the real CLI (dist/cli.js) with stdin piped, on a
// workspace holding a recorded, completed local training run whose
// `launch.python` runs test/fixtures/chat/fake_chat.py (it stands in for the
// GPU only: canned replies per adapter, runner/CHAT.md's lines). Real run
// store, real chat session, real child processes.
//
//   npm run build && node --import tsx --test test/cli/chat.test.ts

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { addChatRun, writeChatWorkspace } from '../fixtures/chat/workspace';

const ROOT = path.resolve(__dirname, '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');

function workspaceWithRun(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tunelab-cli-chat-'));
  writeChatWorkspace(dir);
  return dir;
}

interface Chat {
  write(line: string): void;
  end(): void;
  /** Resolves once stdout matches. */
  stdoutMatches(pattern: RegExp): Promise<void>;
  exit: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

function startChat(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): Chat {
  const child = spawn(process.execPath, [CLI, 'chat', ...args], {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const waiters: { pattern: RegExp; resolve: () => void }[] = [];
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    for (const w of waiters.splice(0)) {
      if (w.pattern.test(stdout)) w.resolve();
      else waiters.push(w);
    }
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exit = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr })),
  );
  return {
    write: (line) => child.stdin.write(line + '\n'),
    end: () => child.stdin.end(),
    stdoutMatches: (pattern) =>
      pattern.test(stdout)
        ? Promise.resolve()
        : new Promise<void>((resolve) => waiters.push({ pattern, resolve })),
    exit,
  };
}

function transcriptLines(stderr: string): Record<string, unknown>[] {
  const transcript = /transcript: (.+)/.exec(stderr)![1];
  return fs
    .readFileSync(transcript, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

test('chat: tuned by default, /base and /tuned switch, EOF ends with exit 0', async () => {
  const dir = workspaceWithRun();
  const chat = startChat(dir, ['last']);
  // Written all at once: the lines are answered one at a time, in order.
  for (const line of ['the red light', '/base', 'the red light', '/tuned', 'the modem'])
    chat.write(line);
  chat.end();
  const { code, stdout, stderr } = await chat.exit;
  assert.equal(code, 0, stderr);
  assert.deepEqual(stdout.split('\n'), [
    'Tuned [tuned] answer: restart the router, then check the red light',
    'Base model says: I am not sure about the red light',
    'Tuned [tuned] answer: restart the router, then check the modem',
    '',
  ]);
  assert.match(stderr, /ready: fake\/base-model/);
  const transcript = /transcript: (.+)/.exec(stderr)![1];
  assert.ok(transcript.startsWith(path.join(dir, '.tunelab', 'chats', 'support-run-')));
  const lines = transcriptLines(stderr);
  assert.deepEqual(
    lines.map((line) => [line.type, line.adapter ?? null]),
    [
      ['session', null],
      ['answer', 'tuned'],
      ['answer', null],
      ['answer', 'tuned'],
    ],
  );
  // The tuned conversation goes on across the switch: its third turn carries the first.
  const third = lines[3].messages as { role: string; content: string }[];
  assert.deepEqual(
    third.map((m) => m.role),
    ['user', 'assistant', 'user'],
  );
});

test('chat: /stop stops a long answer mid-stream, /quit ends', async () => {
  const dir = workspaceWithRun();
  const chat = startChat(dir, ['support'], { FAKE_CHAT_DELAY: '0.01' });
  chat.write('long answer');
  await chat.stdoutMatches(/word5 /);
  chat.write('/stop');
  await chat.stdoutMatches(/\n/);
  chat.write('/base');
  chat.write('hello');
  chat.write('/quit');
  chat.write('never answered');
  const { code, stdout, stderr } = await chat.exit;
  assert.equal(code, 0, stderr);
  const [long, base, rest] = stdout.split('\n');
  const words = long.trim().split(' ').length;
  assert.ok(words > 5 && words < 400, `stopped after ${words} words`);
  assert.match(stderr, /stopped after \d+ tokens/);
  assert.equal(base, 'Base model says: I am not sure about hello');
  assert.equal(rest, '');
  assert.doesNotMatch(stdout, /never answered/);
});

test('chat: a second run of the same base answers after /ID; /base and /tuned too', async () => {
  const dir = workspaceWithRun();
  addChatRun(dir, 'support-run-2');
  const chat = startChat(dir, ['support-run', 'support-run-2']);
  // `/support-run` is the first run (its whole id), though it starts the second one's too.
  const lines = ['the red light', '/support-run-2', 'the red light', '/base', 'hi'];
  for (const line of [...lines, '/tuned', 'the modem', '/support-run', 'the cable'])
    chat.write(line);
  chat.end();
  const { code, stdout, stderr } = await chat.exit;
  assert.equal(code, 0, stderr);
  assert.deepEqual(stdout.split('\n'), [
    'Tuned [support-run] answer: restart the router, then check the red light',
    'Tuned [support-run-2] answer: restart the router, then check the red light',
    'Base model says: I am not sure about hi',
    'Tuned [support-run] answer: restart the router, then check the modem',
    'Tuned [support-run] answer: restart the router, then check the cable',
    '',
  ]);
  assert.match(
    stderr,
    /ready: fake\/base-model with support-run and support-run-2\. \/base, \/tuned, \/support-run, \/support-run-2: switch model/,
  );
  assert.match(stderr, /now chatting with support-run-2\n.*now chatting with the base model/s);
  const [session, ...answers] = transcriptLines(stderr);
  assert.equal(session.other, 'support-run-2');
  assert.deepEqual(
    answers.map((answer) => [answer.column, answer.adapter]),
    [
      ['support-run', 'support-run'],
      ['support-run-2', 'support-run-2'],
      ['base', null],
      ['support-run', 'support-run'],
      ['support-run', 'support-run'],
    ],
  );
  // Each model keeps its own conversation: the first run's third turn carries its first two.
  const last = answers[4].messages as { role: string; content: string }[];
  assert.deepEqual(
    last.map((m) => m.content),
    [
      'the red light',
      'Tuned [support-run] answer: restart the router, then check the red light',
      'the modem',
      'Tuned [support-run] answer: restart the router, then check the modem',
      'the cable',
    ],
  );
});

test('chat: a second run on another base, or the same run twice, is refused (exit 1)', async () => {
  const dir = workspaceWithRun();
  addChatRun(dir, 'qwen-run', { model: 'Qwen/Qwen2.5-0.5B-Instruct' });
  const refusals: [string[], RegExp][] = [
    [
      ['support-run', 'qwen-run'],
      /chat failed: qwen-run tunes Qwen\/Qwen2\.5-0\.5B-Instruct, support-run tunes meta-llama\/Llama-3\.2-1B-Instruct: two runs chat side by side only on the same base model/,
    ],
    [['support-run', 'support'], /chat failed: support-run is given twice/],
  ];
  for (const [args, message] of refusals) {
    const chat = startChat(dir, args);
    chat.end();
    const { code, stderr } = await chat.exit;
    assert.equal(code, 1, stderr);
    assert.match(stderr, message);
  }
});

test('chat: an unknown run, first or second, is a usage error (exit 2)', async () => {
  const dir = workspaceWithRun();
  for (const args of [['nope'], ['support-run', 'nope']]) {
    const chat = startChat(dir, args);
    chat.end();
    const { code, stderr } = await chat.exit;
    assert.equal(code, 2);
    assert.match(stderr, /no run nope/);
    assert.match(stderr, /chat RUN \[RUN\]/);
  }
});

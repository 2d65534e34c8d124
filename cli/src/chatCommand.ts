// `tunelab chat RUN`: a line-oriented chat with a recorded training run
// through launch/src/chatSession.ts (the runner's `chat` on the run's own
// target). Each line typed is one user turn, sent to the tuned adapter (or to
// the base model after `/base`); the answer's tokens go to stdout as they
// come, Tunelab's own messages and prompts to stderr, so `tunelab chat RUN <
// prompts.txt > answers.txt` keeps only the answers. Lines are answered one
// at a time, in order; `/stop` and Ctrl-C act at once on the answer in
// progress. EOF or `/quit` ends the session after the queued lines.

import * as readline from 'node:readline';
import { ChatSession, type ChatColumn, type ChatMessage } from '../../launch/src/chatSession';
import { loadLaunchSpec } from '../../launch/src/launchConfig';
import { pickSecrets } from '../../launch/src/launcher';
import { findWorkspace, RunStore } from '../../launch/src/runRecord';
import { SSH_CONFIG_ENV } from './launchCommands';
import { parseCommandLine, UsageError } from './options';
import { say } from './output';

export const CHAT_USAGE = `  chat RUN
        chat in the terminal with a training run's model (RUN: an id, a unique prefix or
        "last"): each line is a turn for the tuned adapter; /base and /tuned switch model,
        /stop or Ctrl-C stops the answer, /clear forgets the conversation, /quit or EOF ends;
        the transcript is kept in .tunelab/chats/
`;

const HELP = '/base, /tuned: switch model; /stop: stop the answer; /clear; /quit';

export async function chatCommand(argv: string[]): Promise<number> {
  const { operands } = parseCommandLine('chat', argv, [], { name: 'RUN', min: 1, max: 1 });
  const store = new RunStore(findWorkspace(process.cwd()));
  const training = store.find(operands[0]);
  if (!training) throw new UsageError(`no run ${operands[0]} in ${store.dir}`);
  let session: ChatSession;
  try {
    const { values: secrets } = pickSecrets(
      loadLaunchSpec(training.config, training.target),
      process.env,
    );
    say(`loading the model of run ${training.id} on ${training.target}…`);
    session = await ChatSession.start(training, {
      workspaceDir: store.workspaceDir,
      secrets,
      sshConfigFile: process.env[SSH_CONFIG_ENV],
    });
  } catch (err) {
    const hint = (err as { hint?: string }).hint;
    say(`chat failed: ${(err as Error).message}${hint ? ` (${hint})` : ''}`);
    return 1;
  }
  say(`ready: ${session.ready.base ?? 'model'} with ${session.columns[1].label}. ${HELP}`);
  return converse(session);
}

/** Reads stdin line by line until EOF or /quit; resolves with the exit code. */
async function converse(session: ChatSession): Promise<number> {
  const [base, tuned] = session.columns as [ChatColumn, ChatColumn];
  let column = tuned;
  // One conversation per model: switching does not mix the two histories.
  const history = new Map<ChatColumn, ChatMessage[]>([
    [base, []],
    [tuned, []],
  ]);
  const queue: string[] = [];
  let current: { stop(): void } | undefined;
  let ended = false;
  let failed = false;
  let wake: (() => void) | undefined;
  const prompt = () => process.stderr.write(`${column.label}> `);

  const input = readline.createInterface({ input: process.stdin, terminal: false });
  input.on('line', (line) => {
    // /stop must reach the answer in progress, not wait behind it.
    if (line.trim() === '/stop') current?.stop();
    else queue.push(line);
    wake?.();
  });
  input.on('close', () => {
    ended = true;
    wake?.();
  });
  // Ctrl-C stops the answer in progress; with none, it ends the session.
  const onSigint = () => {
    if (current) current.stop();
    else {
      ended = true;
      queue.length = 0;
      wake?.();
    }
  };
  process.on('SIGINT', onSigint);

  try {
    prompt();
    for (;;) {
      const line = queue.shift();
      if (line === undefined) {
        if (ended) break;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
        continue;
      }
      const command = line.trim();
      if (command === '') continue;
      if (command === '/quit' || command === '/exit') break;
      if (command === '/base' || command === '/tuned') {
        column = command === '/base' ? base : tuned;
        say(`now chatting with ${column === base ? 'the base model' : column.label}`);
        prompt();
        continue;
      }
      if (command === '/clear') {
        history.set(column, []);
        prompt();
        continue;
      }
      if (command.startsWith('/')) {
        say(`unknown command ${command}: ${HELP}`);
        prompt();
        continue;
      }
      const messages = history.get(column)!;
      messages.push({ role: 'user', content: line });
      const answer = session.send({ messages: [...messages], adapter: column.adapter }, (event) => {
        if (event.event === 'token') process.stdout.write(event.text);
      });
      current = answer;
      try {
        const done = await answer.done;
        process.stdout.write('\n');
        messages.push({ role: 'assistant', content: done.text });
        if (done.stopped) say(`(stopped after ${done.tokens} tokens)`);
      } catch (err) {
        process.stdout.write('\n');
        messages.pop();
        say(`error: ${(err as Error).message}`);
        if ((err as { type?: string }).type === 'exit') {
          failed = true;
          break;
        }
      } finally {
        current = undefined;
      }
      prompt();
    }
  } finally {
    process.removeListener('SIGINT', onSigint);
    input.close();
  }
  const code = await session.close();
  say(`transcript: ${session.transcript}`);
  return failed || (code !== 0 && code !== null) ? 1 : 0;
}

// `tunelab chat RUN [RUN]`: a line-oriented chat with a recorded training run
// through launch/src/chatSession.ts (the runner's `chat` on the run's own
// target), and with a second run of the same base loaded beside it, as in the
// editor's second column. Each line typed is one user turn, sent to the first
// run's adapter, to the base model after `/base`, to a run's after `/ID` (or
// `/tuned` for the first); the answer's tokens go to stdout as they come,
// Tunelab's own messages and prompts to stderr, so `tunelab chat RUN <
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

export const CHAT_USAGE = `  chat RUN [RUN]
        chat in the terminal with a training run's model (RUN: an id, a unique prefix or
        "last"): each line is a turn for the tuned adapter; /base and /tuned switch model,
        /stop or Ctrl-C stops the answer, /clear forgets the conversation, /quit or EOF ends;
        a second RUN of the same base is loaded beside the first: /ID (a unique prefix of
        its id) switches to it; the transcript is kept in .tunelab/chats/
`;

export async function chatCommand(argv: string[]): Promise<number> {
  const { operands } = parseCommandLine('chat', argv, [], { name: 'RUN', min: 1, max: 2 });
  const store = new RunStore(findWorkspace(process.cwd()));
  const [training, other] = operands.map((operand) => {
    const run = store.find(operand);
    if (!run) throw new UsageError(`no run ${operand} in ${store.dir}`);
    return run;
  });
  let session: ChatSession;
  try {
    const { values: secrets } = pickSecrets(
      loadLaunchSpec(training.config, training.target),
      process.env,
    );
    say(`loading the model of run ${training.id} on ${training.target}…`);
    session = await ChatSession.start(training, {
      workspaceDir: store.workspaceDir,
      other,
      secrets,
      sshConfigFile: process.env[SSH_CONFIG_ENV],
    });
  } catch (err) {
    const hint = (err as { hint?: string }).hint;
    say(`chat failed: ${(err as Error).message}${hint ? ` (${hint})` : ''}`);
    return 1;
  }
  const models = chatModels(session.columns);
  say(
    `ready: ${session.ready.base ?? 'model'} with ${models.runs.map((m) => m.label).join(' and ')}. ` +
      help(models),
  );
  return converse(session, models);
}

/** What a line can talk to: the base model and each run's adapter (the first is the default). */
interface ChatModels {
  base: ChatColumn;
  runs: ChatColumn[];
}

function chatModels(columns: ChatColumn[]): ChatModels {
  return {
    base: columns.find((c) => c.adapter === null) ?? { label: 'base', adapter: null },
    runs: columns.filter((c) => c.adapter !== null),
  };
}

function help({ runs }: ChatModels): string {
  const switches =
    runs.length > 1
      ? `/base, /tuned, ${runs.map((r) => `/${r.label}`).join(', ')}`
      : '/base, /tuned';
  return `${switches}: switch model; /stop: stop the answer; /clear; /quit`;
}

/** The model `/name` switches to: base, tuned (the first run), or a run by id or unique id prefix. */
function modelNamed(name: string, models: ChatModels): ChatColumn | undefined {
  if (name === 'base') return models.base;
  if (name === 'tuned') return models.runs[0];
  const exact = models.runs.find((run) => run.runId === name);
  const matches = models.runs.filter((run) => name && run.runId?.startsWith(name));
  return exact ?? (matches.length === 1 ? matches[0] : undefined);
}

/** Reads stdin line by line until EOF or /quit; resolves with the exit code. */
async function converse(session: ChatSession, models: ChatModels): Promise<number> {
  let column = models.runs[0];
  // One conversation per model: switching does not mix the histories.
  const history = new Map<ChatColumn, ChatMessage[]>(
    [models.base, ...models.runs].map((model) => [model, []]),
  );
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
      if (command === '/clear') {
        history.set(column, []);
        prompt();
        continue;
      }
      // The commands above win over a run whose id starts with their name.
      const named = command.startsWith('/') ? modelNamed(command.slice(1), models) : undefined;
      if (named) {
        column = named;
        say(`now chatting with ${column === models.base ? 'the base model' : column.label}`);
        prompt();
        continue;
      }
      if (command.startsWith('/')) {
        say(`unknown command ${command}: ${help(models)}`);
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

// Chat with a recorded training run: the runner's `chat` (runner/CHAT.md),
// started on the run's own target by chatLaunch.ts and spoken to over its
// stdin/stdout in JSON lines. Every answer is appended to
// `.tunelab/chats/<run>-<time>.jsonl`.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { chatLaunch, type ChatColumn, type ChatStartOptions } from './chatLaunch';
import { spawnProgram } from './processes';
import type { RunRecord } from './runRecord';

export type { ChatColumn, ChatStartOptions } from './chatLaunch';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** A request as CHAT.md reads it, without the id (the session numbers them). */
export interface ChatRequest {
  messages?: ChatMessage[];
  prompt?: string;
  adapter: string | null;
  max_new_tokens?: number;
  temperature?: number;
  top_p?: number;
  system_prompt?: string;
}

export interface ChatReady {
  adapters: string[];
  base?: string;
  method?: string;
  system_prompt?: string | null;
  load_seconds?: number;
}

export interface ChatDone {
  tokens: number;
  seconds: number;
  first_token_seconds: number | null;
  stopped: boolean;
}

export type ChatEvent =
  | { event: 'token'; text: string }
  | ({ event: 'done' } & ChatDone)
  | { event: 'error'; type: string; message: string };

/** One request in flight: `done` resolves with the reply or rejects on an error line. */
export interface ChatAnswer {
  id: string;
  done: Promise<ChatDone & { text: string }>;
  stop(): void;
}

export class ChatError extends Error {
  constructor(
    message: string,
    readonly type: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** `<workspace>/.tunelab/chats/<run>-<yyyymmdd-hhmmss>.jsonl`. */
export function transcriptPath(workspaceDir: string, runId: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return path.join(workspaceDir, '.tunelab', 'chats', `${runId}-${stamp}.jsonl`);
}

interface Pending {
  request: ChatRequest;
  text: string;
  listener?: (event: ChatEvent) => void;
  resolve: (done: ChatDone & { text: string }) => void;
  reject: (err: Error) => void;
}

export class ChatSession {
  private nextId = 1;
  private readonly pending = new Map<string, Pending>();
  private exited: Error | undefined;
  readonly closed: Promise<number | null>;

  private constructor(
    private readonly child: ChildProcess,
    readonly ready: ChatReady,
    readonly columns: ChatColumn[],
    readonly transcript: string,
    closed: Promise<number | null>,
    lines: { on(listener: (record: Record<string, unknown>) => void): void },
  ) {
    this.closed = closed;
    lines.on((record) => this.onLine(record));
    void closed.then((code) =>
      this.fail(new ChatError(`the chat process ended (exit ${code})`, 'exit')),
    );
  }

  /** Starts the chat for `training` and waits for the model to be loaded. */
  static async start(training: RunRecord, options: ChatStartOptions): Promise<ChatSession> {
    const launch = await chatLaunch(training, options);
    const child = spawnProgram(launch.argv, {
      cwd: launch.cwd,
      env: launch.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    child.stdin!.on('error', () => undefined);
    if (launch.preamble) child.stdin!.write(launch.preamble);
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-4000);
      options.onStderr?.(chunk.toString('utf8'));
    });
    const listeners: ((record: Record<string, unknown>) => void)[] = [];
    let first: ((record: Record<string, unknown>) => void) | undefined;
    readLines(child, launch.mark, (record) => {
      if (first) first(record);
      else for (const listener of listeners) listener(record);
    });
    const closed = new Promise<number | null>((resolve) => {
      child.on('error', () => resolve(null));
      child.on('close', (code) => resolve(code));
    });
    const ready = await new Promise<ChatReady>((resolve, reject) => {
      const timer = setTimeout(
        () => {
          child.kill('SIGTERM');
          reject(new ChatError('the model did not load in time', 'timeout'));
        },
        options.readyTimeoutMs ?? 15 * 60_000,
      );
      first = (record) => {
        clearTimeout(timer);
        first = undefined;
        if (record.event === 'ready') resolve(record as unknown as ChatReady);
        else
          reject(
            new ChatError(
              String(record.message ?? JSON.stringify(record)),
              String(record.type ?? 'error'),
              typeof record.hint === 'string' ? record.hint : undefined,
            ),
          );
      };
      void closed.then((code) => {
        clearTimeout(timer);
        reject(
          new ChatError(
            `the chat process ended (exit ${code}) before it was ready: ${stderr.trim()}`,
            'exit',
          ),
        );
      });
    });
    const transcript = transcriptPath(options.workspaceDir, training.id);
    fs.mkdirSync(path.dirname(transcript), { recursive: true });
    fs.appendFileSync(
      transcript,
      JSON.stringify({
        type: 'session',
        run: training.id,
        ...(options.other ? { other: options.other.id } : {}),
        base: ready.base,
        adapters: ready.adapters,
        columns: launch.columns,
        time: new Date().toISOString(),
      }) + '\n',
    );
    return new ChatSession(child, ready, launch.columns, transcript, closed, {
      on: (listener) => listeners.push(listener),
    });
  }

  /** Sends a request; `listener` sees its tokens as they come. */
  send(request: ChatRequest, listener?: (event: ChatEvent) => void): ChatAnswer {
    const id = `c${this.nextId++}`;
    const done = new Promise<ChatDone & { text: string }>((resolve, reject) => {
      if (this.exited) return reject(this.exited);
      this.pending.set(id, { request, text: '', listener, resolve, reject });
      this.child.stdin!.write(JSON.stringify({ id, ...request }) + '\n');
    });
    return { id, done, stop: () => this.stop(id) };
  }

  stop(id: string): void {
    if (this.pending.has(id) && !this.exited)
      this.child.stdin!.write(JSON.stringify({ id, event: 'stop' }) + '\n');
  }

  /** Ends stdin (queued requests are answered, then the runner exits); kills it after `graceMs`. */
  async close(graceMs = 10_000): Promise<number | null> {
    for (const id of this.pending.keys()) this.stop(id);
    this.child.stdin!.end();
    const timer = setTimeout(() => this.child.kill('SIGTERM'), graceMs);
    try {
      return await this.closed;
    } finally {
      clearTimeout(timer);
    }
  }

  private onLine(record: Record<string, unknown>): void {
    const id = typeof record.id === 'string' ? record.id : undefined;
    const entry = id === undefined ? undefined : this.pending.get(id);
    if (!entry || id === undefined) return;
    if (record.event === 'token') {
      entry.text += String(record.text ?? '');
      entry.listener?.({ event: 'token', text: String(record.text ?? '') });
    } else if (record.event === 'done') {
      this.pending.delete(id);
      const done = record as unknown as ChatDone;
      entry.listener?.({ event: 'done', ...done });
      this.record(id, entry, { ...done, text: entry.text });
      entry.resolve({ ...done, text: entry.text });
    } else if (record.event === 'error') {
      this.pending.delete(id);
      const message = String(record.message ?? 'error');
      entry.listener?.({ event: 'error', type: String(record.type), message });
      this.record(id, entry, { error: message, text: entry.text });
      entry.reject(new ChatError(message, String(record.type)));
    }
  }

  private record(id: string, entry: Pending, result: object): void {
    const column = this.columns.find((c) => c.adapter === entry.request.adapter);
    const line = {
      type: 'answer',
      id,
      // Two runs side by side have no base column, yet the base may still be asked.
      column: column?.label ?? (entry.request.adapter === null ? 'base' : undefined),
      ...entry.request,
      ...result,
      time: new Date().toISOString(),
    };
    fs.appendFileSync(this.transcript, JSON.stringify(line) + '\n');
  }

  private fail(err: Error): void {
    this.exited = err;
    for (const [id, entry] of this.pending) {
      this.pending.delete(id);
      entry.reject(err);
    }
  }
}

/** JSON lines from the child's stdout (after `mark` when given); other lines are ignored. */
function readLines(
  child: ChildProcess,
  mark: string | undefined,
  onRecord: (record: Record<string, unknown>) => void,
): void {
  let buffer = '';
  let seenMark = mark === undefined;
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    buffer += chunk;
    let newline: number;
    while ((newline = buffer.indexOf('\n')) !== -1) {
      const line = buffer.slice(0, newline).trim();
      buffer = buffer.slice(newline + 1);
      if (!seenMark) {
        seenMark = line === mark;
        continue;
      }
      if (!line.startsWith('{')) continue;
      try {
        onRecord(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // not a protocol line
      }
    }
  });
}

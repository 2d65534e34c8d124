// Streams a run's log from a byte offset to the run's end, reconnecting when
// the connection drops. Each reconnect starts at the offset just past the last
// complete line, and the unfinished line is dropped and read again, so the
// lines delivered across any number of drops are exactly the log's lines.
// printRun (printRun.ts) prints a stream and keeps its position in the run's
// records, so that a later attach goes on where a killed one stopped.

import { LogLineSplitter } from './logLines';
import { isFinal, type RunRecord, type RunState } from './runRecord';
import type { PollResult, TargetAdapter } from './target';

export interface FollowOptions {
  fromOffset: number;
  /** Complete lines, in order, each with the offset just past it. */
  onLine(text: string, endOffset: number): void;
  /** The newest tqdm-style redraw of the unfinished line. */
  onRedraw?(segment: string): void;
  /** The bytes of complete lines as in the log, once per chunk, with the offset just past them. */
  onLines?(bytes: Buffer, endOffset: number): void;
  /** Raw bytes as they arrive, after their lines were delivered (terminals showing redraws live). */
  onChunk?(chunk: Buffer): void;
  /** After a chunk's lines were delivered: where a re-attach would resume. */
  onCommit?(offset: number): void;
  /** The connection dropped; a reconnect from `offset` follows (the unfinished line is re-sent). */
  onReconnect?(attempt: number, offset: number): void;
  onPoll?(result: PollResult): void;
  signal?: AbortSignal;
  /** Consecutive failed reconnects before giving up. */
  maxReconnects?: number;
}

export interface FollowResult {
  /** The run's state when following stopped; 'detached' when aborted. */
  state: RunState | 'detached';
  exitCode?: number;
  offset: number;
  message?: string;
}

export class ConnectionLostError extends Error {}

/** Waits `ms` or until `signal` aborts; leaves no listener behind either way. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const finish = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', finish);
      resolve();
    };
    const timer = setTimeout(finish, ms);
    signal?.addEventListener('abort', finish, { once: true });
  });
}

function splitterFor(options: FollowOptions): LogLineSplitter {
  return new LogLineSplitter(options.fromOffset, {
    line: options.onLine,
    redraw: options.onRedraw,
    lines: options.onLines,
  });
}

/** Starts one reader at the splitter's committed offset, feeding it. */
function attach(
  record: RunRecord,
  adapter: TargetAdapter,
  splitter: LogLineSplitter,
  options: FollowOptions,
) {
  splitter.discardPartial();
  const state = { received: false };
  const reader = adapter.readLog(record, splitter.committedOffset, (chunk) => {
    state.received = true;
    const before = splitter.committedOffset;
    splitter.push(chunk);
    options.onChunk?.(chunk);
    if (splitter.committedOffset !== before) options.onCommit?.(splitter.committedOffset);
  });
  const abort = () => reader.cancel();
  options.signal?.addEventListener('abort', abort);
  const done = reader.done.finally(() => options.signal?.removeEventListener('abort', abort));
  return { reader, done, state };
}

export async function followRun(
  record: RunRecord,
  adapter: TargetAdapter,
  options: FollowOptions,
): Promise<FollowResult> {
  const splitter = splitterFor(options);
  const maxReconnects = options.maxReconnects ?? 8;
  let failures = 0;
  let catchUps = 0;

  for (;;) {
    if (options.signal?.aborted) return { state: 'detached', offset: splitter.committedOffset };
    const { done, state } = attach(record, adapter, splitter, options);
    const outcome = await done;
    if (options.signal?.aborted) return { state: 'detached', offset: splitter.committedOffset };
    if (state.received) failures = 0;

    let polled: PollResult | undefined;
    try {
      polled = await adapter.poll(record);
      options.onPoll?.(polled);
    } catch (err) {
      if (outcome === 'ended') throw err;
    }
    if (polled && isFinal(polled.state)) {
      // The follower may stop a moment before the last bytes: read on until the sizes agree.
      const seen = splitter.committedOffset + splitter.partialBytes;
      if (polled.logSize !== undefined && seen < polled.logSize && catchUps++ < 5) continue;
      splitter.flushPartial();
      options.onCommit?.(splitter.committedOffset);
      return {
        state: polled.state,
        exitCode: polled.exitCode,
        offset: splitter.committedOffset,
        message: polled.message,
      };
    }
    if (outcome === 'dropped' || !polled) {
      failures++;
      if (failures > maxReconnects)
        throw new ConnectionLostError(
          `lost the connection to run ${record.id} ${failures} times in a row; re-attach later with \`tunelab logs ${record.id} --follow\``,
        );
      options.onReconnect?.(failures, splitter.committedOffset);
      await sleep(Math.min(500 * 2 ** (failures - 1), 10_000), options.signal);
    }
  }
}

/**
 * The log as it is now, from `fromOffset`: complete lines only while the run
 * goes on (the unfinished one is not over yet), everything once it ended.
 */
export async function readRunLog(
  record: RunRecord,
  adapter: TargetAdapter,
  options: FollowOptions,
): Promise<FollowResult> {
  const polled = await adapter.poll(record);
  const size = polled.logSize ?? 0;
  const splitter = splitterFor(options);
  const { reader, done } = attach(record, adapter, splitter, options);
  let finished = false;
  void done.then(() => (finished = true));
  while (
    !finished &&
    !options.signal?.aborted &&
    splitter.committedOffset + splitter.partialBytes < size
  )
    await sleep(20, options.signal);
  reader.cancel();
  await done;
  if (isFinal(polled.state)) splitter.flushPartial();
  return { state: polled.state, exitCode: polled.exitCode, offset: splitter.committedOffset };
}

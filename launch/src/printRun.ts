// Prints a run's log (the CLI's `logs` and `launch`) and keeps the position
// of the last line printed, so that the next `logs --follow` continues with
// the next line after a Ctrl-C, a dropped connection or a kill -9 alike.
//
// Every piece of whole lines goes through: record "in flight up to B" →
// write → record "shown up to B". A kill before the write leaves the old
// position (nothing was printed); a kill after it leaves "in flight", so the
// next attach resumes at the old position (no line lost) and announces that
// the lines of that one piece may come twice. Pieces are kept within PIPE_BUF
// so a kill cannot cut one in half on a pipe.

import * as fs from 'node:fs';
import { followRun, readRunLog, type FollowOptions, type FollowResult } from './follow';
import type { LogPositionFile, RunRecord, RunStore } from './runRecord';
import type { TargetAdapter } from './target';

/** POSIX PIPE_BUF: a write of at most this many bytes reaches a pipe whole or not at all. */
export const ATOMIC_WRITE_BYTES = 4096;

const NEWLINE = 0x0a;

export interface PrintOptions extends Omit<
  FollowOptions,
  'fromOffset' | 'onLine' | 'onLines' | 'onChunk' | 'onCommit'
> {
  /** Each complete line as text (for a progress model); printing goes through `write`. */
  onLine?(text: string, endOffset: number): void;
  /** Follow to the run's end and keep the position; else print the log as it is now. */
  follow: boolean;
  /** Start at the log's first byte, not where the last stream stopped. */
  fromStart?: boolean;
  /**
   * Prints log bytes. When it returns, the bytes must be with the OS (not in a
   * buffer of this process), or a kill loses them: see writeFullySync.
   */
  write(bytes: Buffer): void;
  /** Every byte as it arrives, the unfinished line included (a terminal showing redraws). */
  live?: boolean;
  /** The last stream was killed while printing: the first `lines` lines now may repeat its last. */
  onMayRepeat?(lines: number): void;
}

/** Lines in `bytes`: newlines, plus an unterminated last line. */
export function countLines(bytes: Buffer): number {
  let count = 0;
  for (let at = bytes.indexOf(NEWLINE); at !== -1; at = bytes.indexOf(NEWLINE, at + 1)) count++;
  return bytes.length > 0 && bytes[bytes.length - 1] !== NEWLINE ? count + 1 : count;
}

/** Whole lines of `bytes` in pieces of at most `limit` bytes (a longer line is a piece alone). */
export function linePieces(bytes: Buffer, limit = ATOMIC_WRITE_BYTES): Buffer[] {
  const pieces: Buffer[] = [];
  let start = 0;
  while (start < bytes.length) {
    let end = bytes.length;
    if (end - start > limit) {
      const lastFit = bytes.lastIndexOf(NEWLINE, start + limit - 1);
      const next = bytes.indexOf(NEWLINE, start);
      end = lastFit >= start ? lastFit + 1 : next === -1 ? bytes.length : next + 1;
    }
    pieces.push(bytes.subarray(start, end));
    start = end;
  }
  return pieces;
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/** Writes all of `bytes` to `fd` before returning, waiting out EAGAIN on a non-blocking pipe. */
export function writeFullySync(fd: number, bytes: Buffer): void {
  let written = 0;
  while (written < bytes.length) {
    try {
      written += fs.writeSync(fd, bytes, written, bytes.length - written);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      Atomics.wait(pause, 0, 0, 2);
    }
  }
}

/** Prints with the position recorded around each write (no position: nothing recorded). */
class Printer {
  /** Failure of `write` (a closed stdout): following stops, the position stays before it. */
  failure: unknown;
  /** Complete-line bytes seen but not yet recorded (live mode prints them with their chunk). */
  private unrecorded: { from: number; to: number; lines: number } | undefined;

  constructor(
    private readonly options: PrintOptions,
    private readonly position: LogPositionFile | undefined,
    private readonly stop: () => void,
  ) {}

  /** Complete lines, exactly as in the log, ending at `endOffset`. */
  lines(bytes: Buffer, endOffset: number): void {
    if (this.failure !== undefined) return;
    const from = endOffset - bytes.length;
    if (this.options.live) {
      const lines = countLines(bytes) + (this.unrecorded?.lines ?? 0);
      this.unrecorded = { from: this.unrecorded?.from ?? from, to: endOffset, lines };
      return;
    }
    let at = from;
    for (const piece of linePieces(bytes)) {
      this.print(piece, at, at + piece.length, countLines(piece));
      at += piece.length;
    }
  }

  /** Live mode: a raw chunk, after its complete lines went through `lines`. */
  chunk(chunk: Buffer): void {
    if (this.failure !== undefined) return;
    const done = this.unrecorded;
    this.unrecorded = undefined;
    if (done) this.print(chunk, done.from, done.to, done.lines);
    else this.write(chunk);
  }

  /** Live mode: lines delivered without a chunk (the unterminated end) were already shown. */
  settle(): void {
    if (this.unrecorded && this.failure === undefined) this.position?.commit(this.unrecorded.to);
    this.unrecorded = undefined;
  }

  private print(bytes: Buffer, from: number, to: number, lines: number): void {
    if (this.failure !== undefined) return;
    this.position?.begin(from, to, lines);
    if (this.write(bytes)) this.position?.commit(to);
  }

  private write(bytes: Buffer): boolean {
    try {
      this.options.write(bytes);
      return true;
    } catch (err) {
      this.failure = err;
      this.stop();
      return false;
    }
  }
}

/**
 * Prints the run's log through `options.write`: with `follow`, from where the
 * last stream stopped (or the start) to the run's end, keeping the position
 * in the store; without, the log as it is now, keeping nothing.
 */
export async function printRun(
  store: RunStore,
  record: RunRecord,
  adapter: TargetAdapter,
  options: PrintOptions,
): Promise<FollowResult> {
  const saved = store.load(record.id) ?? record;
  const resume = options.follow && !options.fromStart;
  if (resume && saved.logInFlight) options.onMayRepeat?.(saved.logInFlight.lines);
  const fromOffset = resume ? saved.logOffset : 0;
  const position = options.follow ? store.openLogPosition(record.id) : undefined;
  const controller = new AbortController();
  const abort = () => controller.abort();
  if (options.signal?.aborted) abort();
  options.signal?.addEventListener('abort', abort, { once: true });
  const printer = new Printer(options, position, abort);
  const followOptions: FollowOptions = {
    ...options,
    fromOffset,
    onLine: options.onLine ?? (() => undefined),
    signal: controller.signal,
    onLines: (bytes, endOffset) => printer.lines(bytes, endOffset),
    onChunk: options.live ? (chunk) => printer.chunk(chunk) : undefined,
  };
  try {
    const result = options.follow
      ? await followRun(record, adapter, followOptions)
      : await readRunLog(record, adapter, followOptions);
    printer.settle();
    if (printer.failure !== undefined) throw printer.failure;
    return result;
  } finally {
    options.signal?.removeEventListener('abort', abort);
    position?.close();
  }
}

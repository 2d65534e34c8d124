// Splits a byte stream (a run's log, read from some byte offset) into lines,
// keeping the byte offset just past each complete line. Re-attaching starts
// from the offset of the last complete line, so no line is lost or shown
// twice; the unfinished tail is read again. tqdm redraws its bar with `\r`
// inside one long unfinished line: the newest redraw is reported on its own
// so progress moves before the line ends.

export interface LineSink {
  /** A complete line without its `\n`, and the byte offset just past that `\n`. */
  line(text: string, endOffset: number): void;
  /** The newest redraw segment (text after a `\r`) of the unfinished line. */
  redraw?(segment: string): void;
  /**
   * After the lines of one push: their bytes exactly as in the log (newlines
   * included) and the offset just past them. For printers that must not
   * re-encode what they pass on.
   */
  lines?(bytes: Buffer, endOffset: number): void;
}

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
/** A line longer than this is cut: a runaway writer must not exhaust memory. */
const MAX_LINE_BYTES = 16 * 1024 * 1024;
/** Redraw segments longer than this are no progress bar. */
const MAX_REDRAW_BYTES = 4096;

export class LogLineSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Bytes after the last `\r` of the unfinished line. */
  private redrawTail: Buffer = Buffer.alloc(0);
  private offset: number;

  constructor(
    startOffset: number,
    private readonly sink: LineSink,
  ) {
    this.offset = startOffset;
  }

  /** Offset just past the last complete line: where a re-attach resumes. */
  get committedOffset(): number {
    return this.offset;
  }

  /** Bytes received beyond the last complete line. */
  get partialBytes(): number {
    return this.pendingBytes;
  }

  push(chunk: Buffer): void {
    const lastNewline = chunk.lastIndexOf(NEWLINE);
    const complete =
      this.sink.lines && lastNewline !== -1
        ? Buffer.concat([...this.pending, chunk.subarray(0, lastNewline + 1)])
        : undefined;
    let start = 0;
    let newline = chunk.indexOf(NEWLINE, start);
    while (newline !== -1) {
      this.emitLine(chunk, start, newline);
      start = newline + 1;
      newline = chunk.indexOf(NEWLINE, start);
    }
    if (complete) this.sink.lines?.(complete, this.offset);
    if (start > 0) this.redrawTail = Buffer.alloc(0);
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      this.pending.push(rest);
      this.pendingBytes += rest.length;
      this.trackRedraw(rest);
      if (this.pendingBytes > MAX_LINE_BYTES) this.flushPartial();
    }
  }

  /** Delivers the unfinished line as the last one (the log ended without a newline). */
  flushPartial(): void {
    if (this.pendingBytes > 0) {
      const bytes = this.sink.lines ? Buffer.concat(this.pending) : undefined;
      this.emitLine(Buffer.alloc(0), 0, 0, false);
      if (bytes) this.sink.lines?.(bytes, this.offset);
    }
    this.redrawTail = Buffer.alloc(0);
  }

  /** Forgets the unfinished line (its bytes will be read again from `committedOffset`). */
  discardPartial(): void {
    this.pending = [];
    this.pendingBytes = 0;
    this.redrawTail = Buffer.alloc(0);
  }

  private emitLine(chunk: Buffer, start: number, end: number, hasNewline = true): void {
    let text: string;
    let bytes = end - start;
    if (this.pendingBytes === 0) {
      text = chunk.toString('utf8', start, end);
    } else {
      this.pending.push(chunk.subarray(start, end));
      bytes += this.pendingBytes;
      text = Buffer.concat(this.pending).toString('utf8');
      this.pending = [];
      this.pendingBytes = 0;
    }
    this.offset += bytes + (hasNewline ? 1 : 0);
    this.sink.line(text, this.offset);
  }

  private trackRedraw(rest: Buffer): void {
    if (!this.sink.redraw) return;
    const last = rest.lastIndexOf(CARRIAGE_RETURN);
    let candidate: Buffer;
    if (last === -1) {
      this.redrawTail =
        this.redrawTail.length + rest.length > MAX_REDRAW_BYTES
          ? Buffer.alloc(0)
          : Buffer.concat([this.redrawTail, rest]);
      candidate = this.redrawTail;
    } else {
      const previous = last === 0 ? -1 : rest.lastIndexOf(CARRIAGE_RETURN, last - 1);
      const before =
        previous === -1
          ? Buffer.concat([this.redrawTail, rest.subarray(0, last)])
          : rest.subarray(previous + 1, last);
      this.redrawTail = rest.subarray(last + 1);
      // A bar is written in one piece, so the text after the last `\r` is
      // usually complete; when the chunk ends right at a `\r`, take the one before.
      candidate = this.redrawTail.length > 0 ? this.redrawTail : before;
    }
    if (candidate.length > 0 && candidate.length <= MAX_REDRAW_BYTES)
      this.sink.redraw(candidate.toString('utf8'));
  }
}

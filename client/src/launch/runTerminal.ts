// The run's log in a VS Code terminal (a Pseudoterminal): bytes as the job
// wrote them, so tqdm's `\r` redraws animate in place. Ctrl-C asks whether to
// stop the run or just detach; closing the terminal detaches (the run goes on).

import { StringDecoder } from 'node:string_decoder';
import * as vscode from 'vscode';

/** What is written before VS Code opens the terminal is kept, up to this much. */
const MAX_BUFFERED_CHARS = 4 * 1024 * 1024;

export interface RunTerminalHooks {
  onOpen?(): void;
  onClose?(): void;
  onInterrupt?(): void;
}

export class RunTerminal implements vscode.Pseudoterminal {
  private readonly writeEmitter = new vscode.EventEmitter<string>();
  private readonly closeEmitter = new vscode.EventEmitter<number | void>();
  readonly onDidWrite = this.writeEmitter.event;
  readonly onDidClose = this.closeEmitter.event;
  private readonly decoder = new StringDecoder('utf8');
  private opened = false;
  private closed = false;
  private buffered: string[] = [];
  private bufferedChars = 0;

  constructor(private readonly hooks: RunTerminalHooks = {}) {}

  setHooks(hooks: RunTerminalHooks): void {
    Object.assign(this.hooks, hooks);
  }

  open(): void {
    this.opened = true;
    for (const text of this.buffered) this.writeEmitter.fire(text);
    this.buffered = [];
    this.hooks.onOpen?.();
  }

  close(): void {
    this.closed = true;
    this.hooks.onClose?.();
  }

  handleInput(data: string): void {
    if (data === '\x03') this.hooks.onInterrupt?.();
  }

  /** Log bytes; a terminal needs `\r\n` where the log has `\n`. */
  writeLog(chunk: Buffer): void {
    this.write(this.decoder.write(chunk).replace(/\r?\n/g, '\r\n'));
  }

  /** Tunelab's own remarks, dimmed so they do not pass for log lines. */
  note(message: string): void {
    this.write(`\x1b[2m[tunelab] ${message}\x1b[0m\r\n`);
  }

  /** Clears the unfinished line: after a reconnect it is sent again from its start. */
  clearPartialLine(): void {
    this.write('\r\x1b[2K');
  }

  /** Ends the terminal (a task's exit code). */
  exit(code: number): void {
    if (!this.closed) this.closeEmitter.fire(code);
  }

  private write(text: string): void {
    if (this.opened) {
      this.writeEmitter.fire(text);
      return;
    }
    if (this.bufferedChars + text.length > MAX_BUFFERED_CHARS) return;
    this.buffered.push(text);
    this.bufferedChars += text.length;
  }
}

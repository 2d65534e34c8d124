// One run the editor is attached to: follows its log (launch/src,
// reconnecting on drops), feeds the terminal and the progress model, and
// tells its listeners (status bar, chart, runs view, diagnostics) through a
// throttle, so a fast log costs at most ~10 UI updates a second.

import * as vscode from 'vscode';
import { followRun, type FollowResult } from '../../../launch/src/follow';
import { EvalResultCapture } from '../../../launch/src/evalResult';
import { PaceWhileRunning } from '../../../launch/src/hostPaces';
import { paceNoteAtEnd } from '../../../launch/src/paceProbe';
import { adapterFor } from '../../../launch/src/launcher';
import { ProgressModel, UpdateThrottle } from '../../../launch/src/progressModel';
import {
  isFinal,
  type RunRecord,
  type RunState,
  type RunStore,
} from '../../../launch/src/runRecord';
import { RunTerminal } from './runTerminal';

const UI_INTERVAL_MS = 100;

export interface SessionHost {
  sshConfigFile(): string | undefined;
  /** Throttled: the progress moved. */
  progressed(session: RunSession): void;
  /** The run ended, or following it stopped for good. */
  ended(session: RunSession): void;
  /** Ctrl-C in the run's terminal. */
  interrupted(session: RunSession): void;
}

export class RunSession implements vscode.Disposable {
  readonly model = new ProgressModel();
  readonly terminal: RunTerminal;
  state: RunState | 'detached';
  result?: FollowResult;
  private vsTerminal?: vscode.Terminal;
  private readonly controller = new AbortController();
  private readonly throttle: UpdateThrottle;
  private readonly listeners = new Set<() => void>();
  private following?: Promise<FollowResult | undefined>;
  private readonly pace: PaceWhileRunning;
  /** Notes held until the log is at a line start (a line's chunk may end mid-line). */
  private pendingNotes: string[] = [];

  constructor(
    public record: RunRecord,
    readonly store: RunStore,
    private readonly host: SessionHost,
    terminal?: RunTerminal,
  ) {
    this.state = record.state;
    this.pace = new PaceWhileRunning(store, record.id);
    this.terminal = terminal ?? new RunTerminal();
    this.terminal.setHooks({
      onClose: () => this.detach(),
      onInterrupt: () => host.interrupted(this),
    });
    this.throttle = new UpdateThrottle(UI_INTERVAL_MS, () => {
      host.progressed(this);
      for (const listener of this.listeners) listener();
    });
  }

  get id(): string {
    return this.record.id;
  }

  get active(): boolean {
    return this.state !== 'detached' && !isFinal(this.state);
  }

  /** Whether this session's terminal still holds the log (open, and following went its course). */
  get hasLiveTerminal(): boolean {
    return (
      this.state !== 'detached' &&
      this.vsTerminal?.exitStatus === undefined &&
      this.vsTerminal !== undefined
    );
  }

  /** Shows the run's terminal, creating it on first use. */
  showTerminal(preserveFocus = true): void {
    if (!this.vsTerminal || this.vsTerminal.exitStatus !== undefined) {
      this.vsTerminal = vscode.window.createTerminal({
        name: `Tunelab ${this.record.id}`,
        pty: this.terminal,
        iconPath: new vscode.ThemeIcon('pulse'),
      });
    }
    this.vsTerminal.show(preserveFocus);
  }

  onDidUpdate(listener: () => void): vscode.Disposable {
    this.listeners.add(listener);
    return new vscode.Disposable(() => this.listeners.delete(listener));
  }

  /** Follows the log from its first byte to the run's end (once). */
  follow(): Promise<FollowResult | undefined> {
    this.following ??= this.run();
    return this.following;
  }

  private async run(): Promise<FollowResult | undefined> {
    const where = this.record.ssh ? ` on ${this.record.ssh.host}` : '';
    // an evaluation's result is kept as it streams by, so the Runs view and compare need no fetch
    const evalResult = new EvalResultCapture(this.store, this.record.id);
    this.terminal.note(`run ${this.record.id} (${this.record.target}${where})`);
    try {
      const result = await followRun(
        this.record,
        adapterFor(this.record.target, this.host.sshConfigFile()),
        {
          fromOffset: 0,
          signal: this.controller.signal,
          onChunk: (chunk) => {
            this.terminal.writeLog(chunk);
            if (chunk.at(-1) === 0x0a) this.flushNotes();
          },
          onLine: (text) => {
            this.model.applyLine(text);
            const note = this.pace.note(this.model.progress);
            if (note) this.pendingNotes.push(note);
            evalResult.line(text);
            this.throttle.notify();
          },
          onRedraw: (segment) => {
            this.model.applyRedraw(segment);
            this.throttle.notify();
          },
          onReconnect: (attempt) => {
            this.terminal.clearPartialLine();
            this.terminal.note(`connection lost; reconnecting (${attempt})`);
          },
          onPoll: (polled) => {
            if (polled.state !== this.state && !isFinal(polled.state)) {
              this.state = polled.state;
              this.throttle.notify();
            }
          },
        },
      );
      this.flushNotes();
      this.result = result;
      this.state = result.state;
      if (result.state !== 'detached') {
        this.record =
          this.store.update(this.record.id, {
            state: result.state,
            exitCode: result.exitCode,
            endedAt: new Date().toISOString(),
          }) ?? this.record;
        const code = result.exitCode === undefined ? '' : ` (exit ${result.exitCode})`;
        this.terminal.note(`run ${result.state}${code}`);
        const note = paceNoteAtEnd(this.store, this.record, this.model.progress);
        if (note) this.terminal.note(note);
      }
      return result;
    } catch (err) {
      this.terminal.note(`stopped following: ${(err as Error).message}`);
      this.state = 'detached';
      return undefined;
    } finally {
      this.throttle.flushNow();
      this.host.ended(this);
    }
  }

  private flushNotes(): void {
    for (const note of this.pendingNotes) this.terminal.note(note);
    this.pendingNotes = [];
  }

  /** Stops following; the run itself goes on. */
  detach(): void {
    this.controller.abort();
  }

  dispose(): void {
    this.detach();
    this.throttle.dispose();
    this.listeners.clear();
  }
}

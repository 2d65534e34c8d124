// The extension's logs (as ruff-vscode's logger.ts): one log channel for
// Tunelab's own messages, errors written with their stack, and a separate
// trace channel for the LSP traffic that is created only when something is
// first written to it (tunelab.trace.server), so an ordinary session shows
// one channel, not two.

import * as vscode from 'vscode';

export interface Logger {
  readonly channel: vscode.LogOutputChannel;
  info(message: string): void;
  warn(message: string): void;
  /** Logs `context: message` followed by the stack, when the error has one. */
  error(context: string, err: unknown): void;
}

export function describeError(err: unknown): string {
  if (err instanceof Error) return err.stack ?? `${err.name}: ${err.message}`;
  return String(err);
}

export function createLogger(name: string): Logger {
  const channel = vscode.window.createOutputChannel(name, { log: true });
  return {
    channel,
    info: (message) => channel.info(message),
    warn: (message) => channel.warn(message),
    error: (context, err) => channel.error(`${context}: ${describeError(err)}`),
  };
}

/**
 * A log channel that creates the real one on first write: passed to
 * vscode-languageclient as its traceOutputChannel.
 */
export function lazyLogOutputChannel(name: string): vscode.LogOutputChannel {
  let real: vscode.LogOutputChannel | undefined;
  const levelChanged = new vscode.EventEmitter<vscode.LogLevel>();
  const get = (): vscode.LogOutputChannel => {
    if (!real) {
      real = vscode.window.createOutputChannel(name, { log: true });
      real.onDidChangeLogLevel((level) => levelChanged.fire(level));
    }
    return real;
  };
  return {
    name,
    get logLevel() {
      return real?.logLevel ?? vscode.env.logLevel;
    },
    onDidChangeLogLevel: levelChanged.event,
    trace: (message, ...args) => get().trace(message, ...args),
    debug: (message, ...args) => get().debug(message, ...args),
    info: (message, ...args) => get().info(message, ...args),
    warn: (message, ...args) => get().warn(message, ...args),
    error: (error, ...args) => get().error(error, ...args),
    append: (value) => get().append(value),
    appendLine: (value) => get().appendLine(value),
    replace: (value) => get().replace(value),
    clear: () => real?.clear(),
    show: (columnOrPreserve?: vscode.ViewColumn | boolean, preserveFocus?: boolean) =>
      typeof columnOrPreserve === 'boolean' || columnOrPreserve === undefined
        ? get().show(columnOrPreserve)
        : get().show(columnOrPreserve, preserveFocus),
    hide: () => real?.hide(),
    dispose: () => {
      real?.dispose();
      levelChanged.dispose();
    },
  };
}

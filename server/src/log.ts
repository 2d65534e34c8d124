// The server's log, in the client's "Tunelab" output channel: errors with
// their stack (a failing rule must be findable), messages prefixed `tunelab:`.

import type { Connection } from 'vscode-languageserver/node';

export interface ServerLog {
  info(message: string): void;
  warn(message: string): void;
  /** `context: message` and the stack, when the error has one. */
  error(context: string, err: unknown): void;
}

export function describeError(err: unknown): string {
  if (err instanceof Error) return err.stack ?? `${err.name}: ${err.message}`;
  return String(err);
}

export function createLog(connection: Connection): ServerLog {
  return {
    info: (message) => connection.console.log(`tunelab: ${message}`),
    warn: (message) => connection.console.warn(`tunelab: ${message}`),
    error: (context, err) => connection.console.error(`tunelab: ${context}: ${describeError(err)}`),
  };
}

// The server's log, in the client's "Tunelab" output channel: errors with
// their stack (a failing rule must be findable), messages prefixed `tunelab:`,
// credentials in URLs (an HF_ENDPOINT with user:password@) redacted.

import type { Connection } from 'vscode-languageserver/node';
import { redactUrlCredentials } from '../../launch/src/redact';

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
  const say = (text: string) => `tunelab: ${redactUrlCredentials(text)}`;
  return {
    info: (message) => connection.console.log(say(message)),
    warn: (message) => connection.console.warn(say(message)),
    error: (context, err) => connection.console.error(say(`${context}: ${describeError(err)}`)),
  };
}

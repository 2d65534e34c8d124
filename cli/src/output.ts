// Everything the CLI itself says goes through here, so credentials written
// into a URL (HF_ENDPOINT=https://user:token@host) never reach a terminal or
// a CI log. A run's own log is streamed as the job wrote it, not through here.

import { redactUrlCredentials } from '../../launch/src/redact';

/** A message of Tunelab's own on stderr: `tunelab: MESSAGE`. */
export function say(message: string): void {
  process.stderr.write(`tunelab: ${redactUrlCredentials(message)}\n`);
}

/** Text on stderr as it is (usage text, finding lines), credentials redacted. */
export function sayRaw(text: string): void {
  process.stderr.write(redactUrlCredentials(text));
}

/** A command's result on stdout (lint findings, an estimate), one trailing newline. */
export function print(text: string): void {
  process.stdout.write(redactUrlCredentials(text) + '\n');
}

// The user's own ssh (found on PATH: keys, agent, ProxyJump and ~/.ssh/config
// all work as in their terminal), in batch mode. ssh sends its command to the
// remote login shell as one string: callers build that string with shQuote.

import * as os from 'node:os';
import * as path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { requireExecutable, runProcess, spawnProgram, type ProcessResult } from './processes';

export interface SshConnection {
  destination: string;
  port?: number;
  identityFile?: string;
  /** An ssh_config file to use instead of ~/.ssh/config (`ssh -F`). */
  configFile?: string;
}

/** ssh exits with 255 when the connection itself failed (not the remote command). */
export const SSH_CONNECTION_FAILED = 255;

export class SshError extends Error {
  constructor(
    message: string,
    readonly result?: ProcessResult,
  ) {
    super(message);
  }
}

function expandHome(file: string): string {
  return file === '~' || file.startsWith('~/') || file.startsWith('~\\')
    ? path.join(os.homedir(), file.slice(1))
    : file;
}

/** argv for `ssh ... -- DESTINATION COMMAND`. */
export function sshArgv(connection: SshConnection, remoteCommand: string): string[] {
  // Checked again here: a record file can be edited by hand.
  if (connection.destination.startsWith('-') || /\s/.test(connection.destination))
    throw new SshError(`refusing ssh destination ${JSON.stringify(connection.destination)}`);
  const argv = [
    requireExecutable('ssh', `to reach ${connection.destination}`),
    '-T',
    '-o',
    'BatchMode=yes',
    // Notice a dead connection within ~30 s so a follower reconnects.
    '-o',
    'ServerAliveInterval=10',
    '-o',
    'ServerAliveCountMax=3',
  ];
  if (connection.configFile) argv.push('-F', expandHome(connection.configFile));
  if (connection.port !== undefined) argv.push('-p', String(connection.port));
  if (connection.identityFile) argv.push('-i', expandHome(connection.identityFile));
  argv.push('--', connection.destination, remoteCommand);
  return argv;
}

/** Runs one remote command; throws SshError when the connection fails. */
export async function runRemote(
  connection: SshConnection,
  remoteCommand: string,
  options: { input?: string | Buffer; timeoutMs?: number } = {},
): Promise<ProcessResult> {
  const result = await runProcess(sshArgv(connection, remoteCommand), {
    input: options.input,
    timeoutMs: options.timeoutMs ?? 120_000,
  });
  if (result.code === SSH_CONNECTION_FAILED || result.code === null)
    throw new SshError(
      `ssh ${connection.destination} failed: ${result.stderr.trim() || `exit ${result.code ?? result.signal}`}`,
      result,
    );
  return result;
}

/**
 * A long-running remote command (a log follower) with piped stdio. Nothing is
 * written to its stdin and it is never closed: it ends when this process does
 * (even killed with -9), so the remote command can read EOF as "client gone".
 */
export function spawnRemote(connection: SshConnection, remoteCommand: string): ChildProcess {
  return spawnProgram(sshArgv(connection, remoteCommand), { stdio: ['pipe', 'pipe', 'pipe'] });
}

// Building remote shell commands safely. Every value that comes from a config
// reaches a remote shell only through `shQuote`, and hosts are checked before
// they reach ssh's argv, so no config value can become code or an option.

/** A value that cannot go into a command: the message names the config key. */
export class UnsafeValueError extends Error {}

/**
 * POSIX single-quoting: inside '...' nothing is special, so the only character
 * to handle is the quote itself (`'` → `'\''`). Newlines, `$()`, backticks and
 * `;` are inert inside the quotes. NUL cannot be passed to a process at all.
 */
export function shQuote(value: string): string {
  if (value.includes('\0')) throw new UnsafeValueError('a value contains a NUL byte');
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * A remote path as a shell word. `~` and `~/...` stay relative to the remote
 * home (expanded by the remote shell through "$HOME"); everything else is
 * quoted literally. `~user/...` is refused: its meaning depends on the host.
 */
export function shPath(remotePath: string): string {
  if (remotePath === '~') return '"$HOME"';
  if (remotePath.startsWith('~/')) return `"$HOME"/${shQuote(remotePath.slice(2))}`;
  if (remotePath.startsWith('~'))
    throw new UnsafeValueError(
      `${remotePath}: only ~ and ~/ are expanded on the remote host; give an absolute path`,
    );
  return shQuote(remotePath);
}

/** Joins remote POSIX path parts (the remote side is always POSIX). */
export function remoteJoin(...parts: string[]): string {
  return parts
    .filter((part) => part !== '')
    .join('/')
    .replace(/\/{2,}/g, '/');
}

/** Environment variable names as POSIX shells accept them in `export NAME=`. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function checkEnvName(name: string, where: string): string {
  if (!ENV_NAME.test(name))
    throw new UnsafeValueError(`${where}: ${JSON.stringify(name)} is not a valid variable name`);
  return name;
}

/** `export NAME='value'` lines for a shell script. */
export function exportLines(env: Readonly<Record<string, string>>, where: string): string {
  return Object.entries(env)
    .map(([name, value]) => `export ${checkEnvName(name, where)}=${shQuote(value)}\n`)
    .join('');
}

export interface SshDestination {
  /** What goes after `--` on ssh's command line: `user@host` or an alias. */
  destination: string;
  port?: number;
}

// user@host[:port] or an ~/.ssh/config alias; IPv6 literals in brackets.
const DESTINATION =
  /^(?:([A-Za-z0-9_][A-Za-z0-9._-]*)@)?([A-Za-z0-9_][A-Za-z0-9._-]*|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?$/;

/**
 * Validates a host from the config. A leading `-` would be read by ssh as an
 * option (`-oProxyCommand=...`); whitespace, quotes and shell characters have
 * no place in a host name and are expanded by some ssh_config tokens (%h), so
 * only plain names pass.
 */
export function parseSshDestination(
  spec: string,
  where: string,
  explicitPort?: number,
): SshDestination {
  if (spec.startsWith('-'))
    throw new UnsafeValueError(`${where}: a host may not start with "-" (${JSON.stringify(spec)})`);
  const match = DESTINATION.exec(spec);
  if (!match)
    throw new UnsafeValueError(
      `${where}: ${JSON.stringify(spec)} is not a host: use an ~/.ssh/config alias or user@host[:port] (letters, digits, . _ -)`,
    );
  const [, user, rawHost, portText] = match;
  const host = rawHost.startsWith('[') ? rawHost.slice(1, -1) : rawHost;
  const port = portText === undefined ? explicitPort : Number(portText);
  if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65535))
    throw new UnsafeValueError(`${where}: port ${port} is out of range`);
  return { destination: user ? `${user}@${host}` : host, port };
}

// Reads a config file for the CLI: bounded, and strict about encoding so a
// non-UTF-8 file gets a clear finding instead of mojibake.

import * as fs from 'node:fs';
import { MAX_CONFIG_BYTES } from '../../engine/src/parse';
import { tooLargeFinding } from '../../engine/src/engine';
import type { Finding } from '../../engine/src/types';

export type ReadResult =
  | { ok: true; text: string }
  /**
   * The file cannot be analysed as text: not UTF-8, or over the size cap. The
   * finding says why (the field keeps its first name for its callers).
   */
  | { ok: true; text: ''; encodingFinding: Finding }
  | { ok: false; error: string };

export function readConfigFile(file: string): ReadResult {
  let bytes: Buffer;
  try {
    const stat = fs.statSync(file);
    if (stat.isDirectory()) return { ok: false, error: `cannot read ${file}: it is a directory` };
    if (!stat.isFile()) return { ok: false, error: `cannot read ${file}: not a regular file` };
    // The engine's own finding, from the real size: the CLI never loads more than the cap.
    if (stat.size > MAX_CONFIG_BYTES) {
      return { ok: true, text: '', encodingFinding: tooLargeFinding(stat.size) };
    }
    bytes = readStart(file, stat.size);
  } catch (err) {
    return { ok: false, error: `cannot read ${file}: ${describeFsError(err)}` };
  }
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return { ok: true, text: text.charCodeAt(0) === 0xfeff ? text.slice(1) : text };
  } catch {
    const bad = firstInvalidUtf8(bytes);
    const before = bytes.subarray(0, bad);
    const line = before.filter((b) => b === 0x0a).length;
    const character = bad - (before.lastIndexOf(0x0a) + 1);
    return {
      ok: true,
      text: '',
      encodingFinding: {
        code: 'yaml-syntax',
        severity: 'error',
        message: `The file is not valid UTF-8 (byte 0x${bytes[bad].toString(16)} at offset ${bad}); YAML configs must be UTF-8. Re-save it as UTF-8.`,
        range: { start: { line, character }, end: { line, character: character + 1 } },
      },
    };
  }
}

/** Why `file` cannot be read as a config (`cannot read FILE: no such file`), or undefined. */
export function unreadableReason(file: string): string | undefined {
  try {
    const stat = fs.statSync(file);
    if (stat.isDirectory()) return `cannot read ${file}: it is a directory`;
    if (!stat.isFile()) return `cannot read ${file}: not a regular file`;
    fs.accessSync(file, fs.constants.R_OK);
    return undefined;
  } catch (err) {
    return `cannot read ${file}: ${describeFsError(err)}`;
  }
}

function readStart(file: string, length: number): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const bytes = Buffer.alloc(length);
    const read = fs.readSync(fd, bytes, 0, length, 0);
    return bytes.subarray(0, read);
  } finally {
    fs.closeSync(fd);
  }
}

/** A file system error as a short phrase (`no such file`), never `ENOENT: ...`. */
export function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EISDIR':
      return 'it is a directory';
    case 'ENOTDIR':
      return 'a part of the path is not a directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ELOOP':
      return 'too many symbolic links';
    case 'ENAMETOOLONG':
      return 'the name is too long';
    default:
      return code ? `system error ${code}` : String((err as Error | undefined)?.message ?? err);
  }
}

/** Offset of the first byte that breaks UTF-8 (lead byte, continuation or overlong). */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    const length =
      b < 0x80
        ? 1
        : b >= 0xc2 && b < 0xe0
          ? 2
          : b >= 0xe0 && b < 0xf0
            ? 3
            : b >= 0xf0 && b < 0xf5
              ? 4
              : 0;
    if (length === 0) return i;
    for (let k = 1; k < length; k++) {
      if (i + k >= bytes.length || (bytes[i + k] & 0xc0) !== 0x80) return i;
    }
    i += length;
  }
  return bytes.length;
}

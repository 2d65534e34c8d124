// Reads a config file for the CLI: bounded, and strict about encoding so a
// non-UTF-8 file gets a clear finding instead of mojibake.

import * as fs from 'node:fs';
import { MAX_CONFIG_BYTES } from '../../engine/src/parse';
import type { Finding } from '../../engine/src/types';

export type ReadResult =
  | { ok: true; text: string }
  | { ok: true; text: ''; encodingFinding: Finding }
  | { ok: false; error: string };

export function readConfigFile(file: string): ReadResult {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (err) {
    return {
      ok: false,
      error: `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    };
  }
  if (!stat.isFile()) return { ok: false, error: `cannot read ${file}: not a file` };
  // Read one byte more than the limit: enough to know it is too large.
  const fd = fs.openSync(file, 'r');
  let bytes: Buffer;
  try {
    const size = Math.min(stat.size, MAX_CONFIG_BYTES + 1);
    bytes = Buffer.alloc(size);
    fs.readSync(fd, bytes, 0, size, 0);
  } finally {
    fs.closeSync(fd);
  }
  if (stat.size > MAX_CONFIG_BYTES) {
    // The engine reports oversize text itself; give it a text of the real length.
    return { ok: true, text: ' '.repeat(MAX_CONFIG_BYTES + 1) };
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

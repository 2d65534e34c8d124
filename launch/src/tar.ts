// A minimal POSIX tar (ustar + pax long names) writer, streamed: the files a
// run needs are piped into `tar -x` over ssh's stdin, so a remote host needs
// nothing but tar, and no file content ever becomes part of a command line.

import * as fs from 'node:fs';
import type { Writable } from 'node:stream';

export interface TarEntry {
  /** POSIX relative path inside the archive. */
  name: string;
  /** Contents given directly (generated scripts) or read from `file`. */
  data?: Buffer;
  file?: string;
  size: number;
  mtimeSeconds: number;
  mode: number;
}

const BLOCK = 512;

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

function header(name: string, size: number, mtime: number, mode: number, type: string): Buffer {
  const block = Buffer.alloc(BLOCK);
  block.write(name, 0, 100, 'utf8');
  block.write(octal(mode & 0o7777, 8), 100, 'ascii');
  block.write(octal(0, 8), 108, 'ascii');
  block.write(octal(0, 8), 116, 'ascii');
  if (size >= 8 ** 11) throw new Error(`${name}: files over 8 GiB are not supported`);
  block.write(octal(size, 12), 124, 'ascii');
  block.write(octal(Math.max(0, Math.floor(mtime)), 12), 136, 'ascii');
  block.write('        ', 148, 'ascii');
  block.write(type, 156, 'ascii');
  block.write('ustar\0', 257, 'ascii');
  block.write('00', 263, 'ascii');
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(octal(sum, 7) + ' ', 148, 'ascii');
  return block;
}

function padding(size: number): Buffer {
  const rest = size % BLOCK;
  return Buffer.alloc(rest === 0 ? 0 : BLOCK - rest);
}

/** A pax header carrying `path=` for names that do not fit ustar's 100 bytes. */
function paxHeader(name: string, mtime: number): Buffer {
  const record = (key: string, value: string) => {
    const body = ` ${key}=${value}\n`;
    let length = Buffer.byteLength(body) + 1;
    while (String(length).length + Buffer.byteLength(body) !== length)
      length = String(length).length + Buffer.byteLength(body);
    return `${length}${body}`;
  };
  const data = Buffer.from(record('path', name), 'utf8');
  return Buffer.concat([
    header('PaxHeader', data.length, mtime, 0o644, 'x'),
    data,
    padding(data.length),
  ]);
}

function write(out: Writable, chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const ok = out.write(chunk, (err) => (err ? reject(err) : undefined));
    if (ok) resolve();
    else out.once('drain', resolve);
  });
}

/** Streams the entries as a tar archive into `out` and ends it. */
export async function writeTar(entries: readonly TarEntry[], out: Writable): Promise<void> {
  for (const entry of entries) {
    const nameBytes = Buffer.byteLength(entry.name);
    if (nameBytes > 100) await write(out, paxHeader(entry.name, entry.mtimeSeconds));
    const shortName = nameBytes > 100 ? entry.name.slice(-99) : entry.name;
    await write(out, header(shortName, entry.size, entry.mtimeSeconds, entry.mode, '0'));
    if (entry.data) {
      await write(out, entry.data);
    } else if (entry.file && entry.size > 0) {
      let written = 0;
      for await (const chunk of fs.createReadStream(entry.file, { end: entry.size - 1 })) {
        const buffer = chunk as Buffer;
        written += buffer.length;
        await write(out, buffer);
      }
      // A file that shrank while being sent still gets the size its header promised.
      if (written < entry.size) await write(out, Buffer.alloc(entry.size - written));
    }
    await write(out, padding(entry.size));
  }
  await write(out, Buffer.alloc(BLOCK * 2));
  await new Promise<void>((resolve) => out.end(resolve));
}

// The eval set's prompts for the chat view: `data.eval_file`'s first user
// turns (messages rows), or its `prompt` fields, the first `limit` of them.

import * as fs from 'node:fs';
import * as path from 'node:path';

export function evalPrompts(configValue: unknown, configDir: string, limit = 20): string[] {
  const data = (configValue as { data?: { eval_file?: unknown } } | null)?.data;
  const file = data?.eval_file;
  if (typeof file !== 'string' || file === '') return [];
  let text: string;
  try {
    // The first 2 MB is plenty for 20 prompts; a huge eval set is not read whole.
    const fd = fs.openSync(path.resolve(configDir, file), 'r');
    try {
      const buffer = Buffer.alloc(2 * 1024 * 1024);
      text = buffer.subarray(0, fs.readSync(fd, buffer, 0, buffer.length, 0)).toString('utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return [];
  }
  const prompts: string[] = [];
  for (const line of text.split('\n')) {
    if (prompts.length >= limit) break;
    let row: { messages?: { role?: unknown; content?: unknown }[]; prompt?: unknown };
    try {
      row = JSON.parse(line) as typeof row;
    } catch {
      continue; // blank, or cut at the 2 MB boundary
    }
    const user = Array.isArray(row.messages)
      ? row.messages.find((m) => m?.role === 'user')?.content
      : row.prompt;
    if (typeof user === 'string' && user.trim()) prompts.push(user);
  }
  return prompts;
}

// Reads the data files a config names, bounded and cached, into what the rules
// need: row count, the first line with a bad shape, token lengths.
//
// Bound: at most the first DATA_READ_BOUND bytes (20 MB, config.md "The data
// file") are read, in CHUNK_BYTES chunks through one file descriptor, so a
// multi-gigabyte file costs the same as a 20 MB one. When the file is larger,
// the summary is `partial` and a last line cut by the bound is ignored.
//
// Token lengths (tokenCount.ts): by the model's tokenizer when its
// tokenizer.json is on disk (a local model directory, or the Hub cache),
// over the chat template's text; else estimated at CHARS_PER_TOKEN (3.6
// characters per token, the usual figure for English prose and code with
// Llama 3 / Qwen / Mistral-style BPE vocabularies), CJK, kana and Hangul
// (U+3000 and up) one token per character, plus MESSAGE_OVERHEAD_TOKENS per
// message (`<|start_header_id|>user<|end_header_id|>\n\n … <|eot_id|>` is 5,
// ChatML 5, Mistral 2-3) and SEQUENCE_OVERHEAD_TOKENS per record (BOS / EOS):
// good to about ±20% on English. `tokenSource` says which. Neither counts
// `data.system_prompt`, which the runner adds to rows without a system message.
//
// Cache: by absolute path, format and tokenizer (path, mtime, size, template),
// valid while the data file's mtime, ctime and size are unchanged; every call
// stats the files, so an edited file is re-read and re-counted, and typing in
// the config never re-tokenizes.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Plan } from '../plan';
import {
  CHARS_PER_TOKEN,
  countingFor,
  estimateCounter,
  ESTIMATE,
  MESSAGE_OVERHEAD_TOKENS,
  SEQUENCE_OVERHEAD_TOKENS,
  estimateTokens,
  type ChatMessage,
  type Counting,
  type TokenCounter,
} from './tokenCount';
import type { DataFileSummary, DataSummary } from './types';

export { CHARS_PER_TOKEN, MESSAGE_OVERHEAD_TOKENS, SEQUENCE_OVERHEAD_TOKENS, estimateTokens };
export type { Counting };

/** At most this many bytes of a data file are read (config.md: the first 20 MB). */
export const DATA_READ_BOUND = 20 * 1024 * 1024;
/** Read size of one `readSync`. */
const CHUNK_BYTES = 1024 * 1024;

/** The shapes `data.format` names; `auto` accepts any of them per line (what the runner does for general_data). */
export type DataFileFormat = Plan['data']['format'] | 'auto';

/** The summary error of a path that is a device, a pipe or a socket. */
const NOT_REGULAR = 'is not a regular file';

export const MESSAGE_ROLES = ['system', 'user', 'assistant', 'tool'] as const;

interface CacheEntry {
  mtimeMs: number;
  ctimeMs: number;
  size: number;
  summary: DataFileSummary;
}

/** Summaries of the most recently read files; a small LRU, so an editor session never grows it. */
const cache = new Map<string, CacheEntry>();
const CACHE_ENTRIES = 16;

/** Forgets every cached summary (tests, or a "re-read data" command). */
export function clearDataCache(): void {
  cache.clear();
}

/**
 * The absolute path of a data path from the config: `~` expanded, relative
 * paths resolved against the config's directory. Undefined when the path is
 * relative and the config has no directory (an unsaved file).
 */
export function resolveDataPath(file: string, configDir: string | undefined): string | undefined {
  const expanded =
    file === '~' || file.startsWith('~/') || file.startsWith('~\\')
      ? path.join(os.homedir(), file.slice(1))
      : file;
  if (path.isAbsolute(expanded)) return path.normalize(expanded);
  if (configDir === undefined) return undefined;
  return path.resolve(configDir, expanded);
}

/**
 * Summaries of `data.train_file`, `data.eval_file`, `data.general_data.file`
 * and `evaluation.forgetting.file` (the last two's lines may be in any of the
 * three formats, as the runner reads them). A file that is not named, or
 * relative without a config directory, has no entry.
 */
export function summarizeData(
  plan: Plan,
  configDir: string | undefined,
  options: { hubCacheDir?: string } = {},
): DataSummary {
  const summary: DataSummary = {};
  const { trainFile, evalFile, generalDataFile, format } = plan.data;
  const counting = countingFor(plan, configDir, options.hubCacheDir);
  const read = (file: string | undefined, fileFormat: DataFileFormat) => {
    if (!file) return undefined;
    const absPath = resolveDataPath(file, configDir);
    return absPath === undefined ? undefined : summarizeDataFile(absPath, fileFormat, counting);
  };
  const train = read(trainFile, format);
  const evalSummary = read(evalFile, format);
  const general = read(generalDataFile, 'auto');
  if (train) summary.train = train;
  if (evalSummary) summary.eval = evalSummary;
  if (general) summary.general = general;
  const forgetting = plan.evaluation?.forgetting?.file;
  const forgettingPath = forgetting ? resolveDataPath(forgetting, configDir) : undefined;
  if (forgettingPath !== undefined) {
    // Often the general file itself (its default): that summary, not a second read.
    summary.forgetting =
      forgettingPath === general?.path
        ? general
        : summarizeDataFile(forgettingPath, 'auto', counting);
  }
  return summary;
}

/** The summary of one JSONL file (absolute path), from the cache while the file is unchanged. */
export function summarizeDataFile(
  absPath: string,
  format: DataFileFormat,
  counting: Counting = ESTIMATE,
): DataFileSummary {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(absPath);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return emptySummary(absPath, false);
    return { ...emptySummary(absPath, true), error: errorText(err) };
  }
  if (stat.isDirectory()) {
    return { ...emptySummary(absPath, true), error: 'is a directory, not a JSONL file' };
  }
  // Devices (`/dev/zero` never ends), pipes and sockets (reading blocks) are not read.
  if (!stat.isFile()) return { ...emptySummary(absPath, true), error: NOT_REGULAR };

  const key = `${absPath}\0${format}\0${counting.key}`;
  const hit = cache.get(key);
  if (
    hit &&
    hit.mtimeMs === stat.mtimeMs &&
    hit.ctimeMs === stat.ctimeMs &&
    hit.size === stat.size
  ) {
    // Refresh its place in the LRU order.
    cache.delete(key);
    cache.set(key, hit);
    return hit.summary;
  }

  const summary = readSummary(absPath, format, stat.size, counting.counter());
  if (!summary.error) {
    cache.delete(key);
    cache.set(key, { mtimeMs: stat.mtimeMs, ctimeMs: stat.ctimeMs, size: stat.size, summary });
    while (cache.size > CACHE_ENTRIES) cache.delete(cache.keys().next().value as string);
  }
  return summary;
}

function emptySummary(absPath: string, exists: boolean, sizeBytes = 0): DataFileSummary {
  return {
    path: absPath,
    exists,
    rows: 0,
    partial: false,
    sizeBytes,
    badLines: 0,
    tokenLengths: [],
  };
}

function errorText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'EACCES' || e.code === 'EPERM') return 'cannot be read (permission denied)';
  return `cannot be read (${e.code ?? (err instanceof Error ? err.message : String(err))})`;
}

function readSummary(
  absPath: string,
  format: DataFileFormat,
  size: number,
  counter: TokenCounter,
): DataFileSummary {
  const summary = emptySummary(absPath, true, size);
  summary.partial = size > DATA_READ_BOUND;
  const limit = Math.min(size, DATA_READ_BOUND);
  let fd: number;
  try {
    // Non-blocking, then checked again on the open descriptor: a path swapped
    // for a pipe or a device after the stat must not hang or stream forever.
    fd = fs.openSync(absPath, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  } catch (err) {
    return { ...summary, error: errorText(err) };
  }
  try {
    if (!fs.fstatSync(fd).isFile()) {
      fs.closeSync(fd);
      return { ...summary, error: NOT_REGULAR };
    }
  } catch (err) {
    fs.closeSync(fd);
    return { ...summary, error: errorText(err) };
  }

  let lineNo = 0;
  const onLine = (line: string) => {
    lineNo++;
    if (lineNo === 1 && line.charCodeAt(0) === 0xfeff) line = line.slice(1);
    const trimmed = line.trim();
    if (!trimmed) return;
    summary.rows++;
    const checked = checkLine(trimmed, format, counter);
    if (typeof checked === 'string') {
      summary.badLines++;
      summary.firstBadLine ??= { line: lineNo, reason: checked };
    } else {
      summary.tokenLengths.push(checked);
    }
  };

  const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  let carry: Buffer | undefined;
  let offset = 0;
  try {
    while (offset < limit) {
      const n = fs.readSync(fd, chunk, 0, Math.min(CHUNK_BYTES, limit - offset), offset);
      if (n === 0) break;
      offset += n;
      const data = carry ? Buffer.concat([carry, chunk.subarray(0, n)]) : chunk.subarray(0, n);
      const lastNewline = data.lastIndexOf(10);
      if (lastNewline === -1) {
        carry = Buffer.from(data);
        continue;
      }
      const text = data.toString('utf8', 0, lastNewline);
      // Copy: `chunk` is reused by the next read.
      carry =
        lastNewline + 1 < data.length ? Buffer.from(data.subarray(lastNewline + 1)) : undefined;
      for (const line of text.split('\n')) onLine(line);
    }
  } catch (err) {
    return { ...summary, error: errorText(err) };
  } finally {
    fs.closeSync(fd);
  }
  // A last line without a newline is a record when the whole file was read;
  // at the bound it is a line cut in two, ignored.
  if (carry && !summary.partial) onLine(carry.toString('utf8'));
  summary.bytesRead = offset;
  summary.tokenSource = counter.source();
  return summary;
}

/** The token length of a valid line, or why the line is bad. */
export function checkLine(
  line: string,
  format: DataFileFormat,
  counter: TokenCounter = estimateCounter(),
): number | string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    return `not valid JSON (${err instanceof Error ? err.message : String(err)})`;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return `not a JSON object (a ${Array.isArray(value) ? 'list' : value === null ? 'null' : typeof value})`;
  }
  const record = value as Record<string, unknown>;
  switch (format) {
    case 'messages':
      return checkMessages(record, counter);
    case 'prompt_completion':
      return checkPromptCompletion(record, counter);
    case 'text':
      return checkText(record, counter);
    case 'auto':
      if ('messages' in record) return checkMessages(record, counter);
      if ('prompt' in record && 'completion' in record)
        return checkPromptCompletion(record, counter);
      if ('text' in record) return checkText(record, counter);
      return 'no `messages`, `prompt`/`completion` or `text` field';
  }
}

function checkMessages(record: Record<string, unknown>, counter: TokenCounter): number | string {
  const messages = record.messages;
  if (messages === undefined) return 'no `messages` field (format: messages)';
  if (!Array.isArray(messages)) return '`messages` is not a list';
  if (messages.length === 0) return '`messages` is empty';
  const chat: ChatMessage[] = [];
  let assistant = false;
  for (let i = 0; i < messages.length; i++) {
    const message: unknown = messages[i];
    const where = `message ${i + 1}`;
    if (typeof message !== 'object' || message === null || Array.isArray(message)) {
      return `${where} is not an object with \`role\` and \`content\``;
    }
    const { role, content } = message as Record<string, unknown>;
    if (typeof role !== 'string') return `${where} has no \`role\` string`;
    if (!(MESSAGE_ROLES as readonly string[]).includes(role)) {
      return `${where} has role ${JSON.stringify(role)}; expected ${MESSAGE_ROLES.join(', ')}`;
    }
    if (role === 'assistant') assistant = true;
    const text = contentText(content, message as Record<string, unknown>);
    if (text === undefined) {
      return `${where} (${role}) has no \`content\` string`;
    }
    chat.push({ role, text });
  }
  if (!assistant) return 'no `assistant` message: nothing to learn from this row';
  return counter.messages(chat);
}

/**
 * A message's text: a string; a list of parts (`{type: text, text}`), whose
 * text parts the runner joins; or null on a turn that carries `tool_calls`
 * (OpenAI's tool-call shape, which the runner reads as empty text). Undefined
 * for anything else.
 */
function contentText(content: unknown, message: Record<string, unknown>): string | undefined {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    let text = '';
    for (const part of content) {
      if (typeof part !== 'object' || part === null) return undefined;
      const partText = (part as Record<string, unknown>).text;
      if (typeof partText === 'string') text += partText;
    }
    return text;
  }
  if (content === null && Array.isArray(message.tool_calls)) {
    return JSON.stringify(message.tool_calls);
  }
  return undefined;
}

function checkPromptCompletion(
  record: Record<string, unknown>,
  counter: TokenCounter,
): number | string {
  const { prompt, completion } = record;
  if (typeof prompt !== 'string') {
    return prompt === undefined
      ? 'no `prompt` field (format: prompt_completion)'
      : '`prompt` is not a string';
  }
  if (typeof completion !== 'string') {
    return completion === undefined
      ? 'no `completion` field (format: prompt_completion)'
      : '`completion` is not a string';
  }
  // The runner tokenizes prompt + completion as one text.
  return counter.plain(prompt, completion);
}

function checkText(record: Record<string, unknown>, counter: TokenCounter): number | string {
  const { text } = record;
  if (typeof text !== 'string') {
    return text === undefined ? 'no `text` field (format: text)' : '`text` is not a string';
  }
  return counter.plain(text);
}

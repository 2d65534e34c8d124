// The model's own tokenizer, when its tokenizer.json is on disk: in a local
// model directory (`model.name_or_path`), or in the Hub cache the server and
// CLI fill (models/hub.ts). Read synchronously, no network; the loaded
// tokenizer is cached by path, mtime and size, so only a changed file is
// parsed again.
//
// Speed: `@huggingface/tokenizers` encodes the 1,200 telecom chats in ~1.5 s.
// Byte-level BPE vocabularies (GPT-2, Llama 3, Qwen, Mistral Nemo) split text
// with one regex first and encode each piece on its own, so the count of a
// text is the sum of its pieces' counts: the pieces are split here with the
// library's own regex, and each distinct piece is counted once, by
// byteLevelBpe.ts (the library's BPE is ~60 µs a word). Other pre-tokenizers,
// models and normalizers go through the library's encode, text by text.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { cachedHubModelDir, looksLikeHubId } from '../models/hub';
import { byteLevelBpeCounter, type PieceCounter } from './byteLevelBpe';

/** A tokenizer.json larger than this is not loaded (Llama 3's is 9 MB; this is ~5× that). */
const TOKENIZER_BYTES_BOUND = 50 * 1024 * 1024;
/** Distinct pieces remembered per tokenizer before the memo starts over (bounds memory). */
const PIECE_MEMO_ENTRIES = 500_000;
/** Pieces longer than this are encoded without memo (long runs of spaces or symbols). */
const PIECE_MEMO_CHARS = 64;

export interface LoadedTokenizer {
  /** Absolute path of tokenizer.json. */
  path: string;
  /** Identity of the file read (path, mtime, size): part of the data cache key. */
  key: string;
  bos: string | undefined;
  eos: string | undefined;
  /** The chat template of the tokenizer's directory (tokenizer_config.json or chat_template.jinja). */
  chatTemplate: string | undefined;
  /** Tokens of a text without special tokens (`add_special_tokens=False`). */
  count(text: string): number;
  /** Tokens the post-processor adds around a text (`add_special_tokens=True`), e.g. BOS. */
  specialTokensAdded(): number;
  /** True when `token` is one token of the vocabulary (a chat marker known as special). */
  isToken(token: string): boolean;
}

interface CacheEntry {
  mtimeMs: number;
  size: number;
  result: { tokenizer?: LoadedTokenizer; error?: string };
}

/** Loaded tokenizers are large (a 128k vocabulary is ~100 MB of maps): keep two. */
const cache = new Map<string, CacheEntry>();
const CACHE_ENTRIES = 2;

export function clearTokenizerCache(): void {
  cache.clear();
}

/**
 * tokenizer.json of the model a config names: `<dir>/tokenizer.json` for a
 * local directory (relative to the config like the data paths), else the Hub
 * cache's copy for a Hub id. Undefined when there is none.
 */
export function findTokenizerFile(
  nameOrPath: string | undefined,
  configDir: string | undefined,
  hubCacheDir: string | undefined,
  revision: string | undefined,
): string | undefined {
  const name = nameOrPath?.trim();
  if (!name) return undefined;
  const expanded = name.startsWith('~') ? path.join(process.env.HOME ?? '', name.slice(1)) : name;
  if (path.isAbsolute(expanded) || configDir !== undefined) {
    const dir = path.resolve(configDir ?? '/', expanded);
    const file = path.join(dir, 'tokenizer.json');
    if (isFile(file)) return file;
  }
  if (hubCacheDir && looksLikeHubId(name)) {
    const dir = cachedHubModelDir(hubCacheDir, name, revision);
    const file = dir && path.join(dir, 'tokenizer.json');
    if (file && isFile(file)) return file;
  }
  return undefined;
}

function isFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The tokenizer of a tokenizer.json (with tokenizer_config.json beside it), cached while unchanged. */
export function loadTokenizer(file: string): { tokenizer?: LoadedTokenizer; error?: string } {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (err) {
    return { error: `${file}: ${(err as Error).message}` };
  }
  const hit = cache.get(file);
  if (hit && hit.mtimeMs === stat.mtimeMs && hit.size === stat.size) {
    cache.delete(file);
    cache.set(file, hit);
    return hit.result;
  }
  const result = readTokenizer(file, stat);
  cache.delete(file);
  cache.set(file, { mtimeMs: stat.mtimeMs, size: stat.size, result });
  while (cache.size > CACHE_ENTRIES) cache.delete(cache.keys().next().value as string);
  return result;
}

function readJsonObject(file: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** `bos_token` as a string or as an AddedToken object `{content}`. */
function tokenText(value: unknown): string | undefined {
  if (typeof value === 'string') return value || undefined;
  if (typeof value === 'object' && value !== null) {
    const content = (value as Record<string, unknown>).content;
    return typeof content === 'string' && content ? content : undefined;
  }
  return undefined;
}

/** `chat_template` of tokenizer_config.json (a string or a list of named ones), else chat_template.jinja. */
function chatTemplateOf(dir: string, config: Record<string, unknown>): string | undefined {
  const value = config.chat_template;
  if (typeof value === 'string' && value) return value;
  if (Array.isArray(value)) {
    const named = value.filter(
      (t): t is { name?: unknown; template: string } =>
        typeof t === 'object' &&
        t !== null &&
        typeof (t as { template?: unknown }).template === 'string',
    );
    return (named.find((t) => t.name === 'default') ?? named[0])?.template;
  }
  try {
    return fs.readFileSync(path.join(dir, 'chat_template.jinja'), 'utf8') || undefined;
  } catch {
    return undefined;
  }
}

function readTokenizer(
  file: string,
  stat: fs.Stats,
): { tokenizer?: LoadedTokenizer; error?: string } {
  if (stat.size > TOKENIZER_BYTES_BOUND) {
    return { error: `${file} is over ${TOKENIZER_BYTES_BOUND / 1024 / 1024} MB: not loaded` };
  }
  const json = readJsonObject(file);
  if (!json) return { error: `${file} is not a JSON object` };
  const dir = path.dirname(file);
  const config = readJsonObject(path.join(dir, 'tokenizer_config.json')) ?? {};
  // With a plain byte-level BPE the library only splits (its regex, translated
  // from Oniguruma) and byteLevelBpe.ts counts: the library is built without
  // the vocabulary and merges (its maps of a 128k vocabulary take ~1 s), and
  // whole, lazily, only for the text that needs its encode.
  const fastBpe = byteLevelBpeCounter(json.model);
  const model = json.model as Record<string, unknown> | undefined;
  let whole: Tokenizer | undefined;
  let splitter: Tokenizer;
  try {
    splitter = new Tokenizer(
      fastBpe ? { ...json, model: { ...model, vocab: {}, merges: [] } } : json,
      config,
    );
    if (!fastBpe) whole = splitter;
  } catch (err) {
    return { error: `${file}: ${(err as Error).message}` };
  }
  const full = () => (whole ??= new Tokenizer(json, config));
  const encode = (text: string) => full().encode(text, { add_special_tokens: false }).ids.length;
  const count = makeCounter(splitter, json, encode, fastBpe);
  const vocab = (model?.vocab ?? {}) as Record<string, unknown>;
  const added = new Set(addedTokens(json));
  let specials: number | undefined;
  return {
    tokenizer: {
      path: file,
      key: `${file}\0${stat.mtimeMs}\0${stat.size}`,
      bos: tokenText(config.bos_token),
      eos: tokenText(config.eos_token),
      chatTemplate: chatTemplateOf(dir, config),
      count,
      specialTokensAdded: () => {
        if (specials === undefined) {
          try {
            specials = full().encode('', { add_special_tokens: true }).ids.length;
          } catch {
            specials = 0;
          }
        }
        return specials;
      },
      isToken: (token) => added.has(token) || Object.hasOwn(vocab, token),
    },
  };
}

function addedTokens(json: Record<string, unknown>): string[] {
  return (Array.isArray(json.added_tokens) ? json.added_tokens : [])
    .map((t) => (t as { content?: unknown }).content)
    .filter((c): c is string => typeof c === 'string' && c.length > 0);
}

/** The split regex of a byte-level pre-tokenizer, when the text's count is the sum of its pieces'. */
function pieceRegex(tokenizer: Tokenizer, json: Record<string, unknown>): RegExp | undefined {
  const normalizer = json.normalizer as { type?: string } | null | undefined;
  if (normalizer && normalizer.type !== 'NFC') return undefined;
  type PreConfig = {
    type?: string;
    use_regex?: boolean;
    add_prefix_space?: boolean;
    behavior?: string;
    invert?: boolean;
  };
  const config = json.pre_tokenizer as
    (PreConfig & { pretokenizers?: PreConfig[] }) | null | undefined;
  const pre = tokenizer.pre_tokenizer as unknown as {
    pattern?: unknown;
    tokenizers?: { pattern?: unknown }[];
  } | null;
  if (!config || !pre) return undefined;
  // ByteLevel alone: its own GPT-2 regex splits, then each piece is mapped to bytes.
  // A prefix space is added once per text, not per piece: such tokenizers take the slow path.
  if (config.type === 'ByteLevel' && config.use_regex !== false && !config.add_prefix_space) {
    return pre.pattern instanceof RegExp ? pre.pattern : undefined;
  }
  // Llama 3 / Qwen: Split(regex, Isolated) then ByteLevel without its regex.
  const parts = config.pretokenizers;
  if (
    config.type === 'Sequence' &&
    parts?.length === 2 &&
    parts[0].type === 'Split' &&
    parts[0].behavior === 'Isolated' &&
    !parts[0].invert &&
    parts[1].type === 'ByteLevel' &&
    parts[1].use_regex === false &&
    !parts[1].add_prefix_space
  ) {
    const split = pre.tokenizers?.[0]?.pattern;
    return split instanceof RegExp && split.global ? split : undefined;
  }
  return undefined;
}

function makeCounter(
  splitter: Tokenizer,
  json: Record<string, unknown>,
  encode: (text: string) => number,
  fastBpe: PieceCounter | undefined,
): (text: string) => number {
  const regex = pieceRegex(splitter, json);
  if (!regex) return encode;
  const nfc = (json.normalizer as { type?: string } | null | undefined)?.type === 'NFC';
  // Text that holds an added token's text (`<|eot_id|>` typed in a message) is
  // split on it by the library first: such text takes the whole-text path.
  const added = addedTokens(json);
  const addedRegex = added.length
    ? new RegExp(added.map((c) => c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'))
    : undefined;
  const countPiece = fastBpe ?? encode;
  const memo = new Map<string, number>();
  const pieceCount = (piece: string) => {
    if (piece.length > PIECE_MEMO_CHARS) return countPiece(piece);
    let n = memo.get(piece);
    if (n === undefined) {
      if (memo.size >= PIECE_MEMO_ENTRIES) memo.clear();
      n = countPiece(piece);
      memo.set(piece, n);
    }
    return n;
  };
  return (raw: string) => {
    if (!raw) return 0;
    const text = nfc ? raw.normalize('NFC') : raw;
    if (addedRegex?.test(text)) return encode(text);
    const pieces = text.match(regex) ?? [];
    let total = 0;
    let covered = 0;
    for (const piece of pieces) {
      total += pieceCount(piece);
      covered += piece.length;
    }
    // The byte-level regexes match every character; if one skipped any (an
    // Isolated split keeps what lies between matches), count the whole text.
    if (covered !== text.length) return encode(text);
    return total;
  };
}

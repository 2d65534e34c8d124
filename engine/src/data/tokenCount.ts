// Token lengths of data rows: by the model's tokenizer over the chat template's
// text, or, without one, by the documented chars-per-token ratio.
//
// With a tokenizer, a chat is rendered as the runner renders it
// (runner/tunelab_runner/templates.py) closely enough to count it: each
// template marker (`<|start_header_id|>`, `<|im_start|>`, …) is one token when
// the vocabulary has it as a token (the library splits on such added tokens
// first, so the text between markers is counted piece by piece, exactly), and
// the text between them is tokenized. Messages rows are tokenized without
// special tokens (the template carries BOS), prompt/completion and text rows
// with them plus EOS, as runner/tunelab_runner/data.py does. Not counted:
// `data.system_prompt` (the plan does not carry it; rows with their own system
// message, like the templates', are exact).
//
// Bounded work: at most TOKENIZE_CHAR_BUDGET characters are tokenized per
// file; later rows take the chars-per-token estimate scaled by the ratio
// measured on the rows tokenized, and the source says how many rows that was.

import { detectChatTemplateFamily } from '../models/configJson';
import type { ChatTemplateFamily } from '../models/types';
import type { Plan } from '../plan';
import { findTokenizerFile, loadTokenizer, type LoadedTokenizer } from './tokenizer';
import type { TokenSource } from './types';

/** Characters per token for Latin-script text (English prose and code). */
export const CHARS_PER_TOKEN = 3.6;
/** Chat template tokens around each message (role header, end-of-turn marker). */
export const MESSAGE_OVERHEAD_TOKENS = 4;
/** Tokens added once per record (BOS, EOS). */
export const SEQUENCE_OVERHEAD_TOKENS = 2;
/** Characters tokenized per file (~0.3 s on a laptop core); the rest is scaled from them. */
export const TOKENIZE_CHAR_BUDGET = 4_000_000;

export interface ChatMessage {
  role: string;
  text: string;
}

/** Counts the rows of one file read; `source()` says how, once the file is read. */
export interface TokenCounter {
  messages(messages: readonly ChatMessage[]): number;
  /** A prompt/completion or text row: the runner tokenizes the parts joined, with special tokens, plus EOS. */
  plain(...parts: string[]): number;
  source(): TokenSource;
}

/** Estimated tokens of a text: Latin script at CHARS_PER_TOKEN, CJK / kana / Hangul one per character. */
export function estimateTokens(text: string): number {
  let wide = 0;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) >= 0x3000) wide++;
  return Math.ceil((text.length - wide) / CHARS_PER_TOKEN) + wide;
}

function estimateMessages(messages: readonly ChatMessage[]): number {
  let tokens = SEQUENCE_OVERHEAD_TOKENS;
  for (const m of messages) tokens += estimateTokens(m.text) + MESSAGE_OVERHEAD_TOKENS;
  return tokens;
}

const estimatePlain = (...parts: string[]) =>
  parts.reduce((n, part) => n + estimateTokens(part), SEQUENCE_OVERHEAD_TOKENS);

/** The chars-per-token estimate; `reason` says why no tokenizer counts (shown with the source). */
export function estimateCounter(reason?: string): TokenCounter {
  const source: TokenSource = {
    kind: 'chars-per-token',
    charsPerToken: CHARS_PER_TOKEN,
    ...(reason ? { reason } : {}),
  };
  return { messages: estimateMessages, plain: estimatePlain, source: () => source };
}

/**
 * The template family rows are rendered with: `data.chat_template` when it
 * names one or is a Jinja string, else (`model`, unset) the tokenizer's own.
 */
export function templateFamilyFor(
  chatTemplate: string | undefined,
  tokenizer: LoadedTokenizer,
): ChatTemplateFamily {
  const named = ['llama-3', 'chatml', 'mistral', 'gemma', 'phi-3', 'llama-2', 'deepseek'];
  if (chatTemplate && named.includes(chatTemplate)) return chatTemplate as ChatTemplateFamily;
  const text = chatTemplate && chatTemplate !== 'model' ? chatTemplate : tokenizer.chatTemplate;
  return text ? detectChatTemplateFamily(text) : 'none';
}

/** Rendered pieces of a chat: a marker (special token) or text. */
type Piece = { marker: string } | string;

function render(
  family: ChatTemplateFamily,
  messages: readonly ChatMessage[],
  bos: string,
  eos: string,
): Piece[] | undefined {
  const out: Piece[] = [];
  const mark = (marker: string) => marker && out.push({ marker });
  const splitSystem = (): [string, readonly ChatMessage[]] =>
    messages[0]?.role === 'system' ? [messages[0].text, messages.slice(1)] : ['', messages];
  switch (family) {
    case 'llama-3':
      messages.forEach((m, i) => {
        if (i === 0) mark(bos);
        out.push({ marker: '<|start_header_id|>' }, m.role, { marker: '<|end_header_id|>' });
        out.push(`\n\n${m.text.trim()}`, { marker: '<|eot_id|>' });
      });
      return out;
    case 'chatml':
      for (const m of messages) {
        out.push(
          { marker: '<|im_start|>' },
          `${m.role}\n${m.text}`,
          { marker: '<|im_end|>' },
          '\n',
        );
      }
      return out;
    case 'mistral': {
      const [system, rest] = splitSystem();
      mark(bos);
      rest.forEach((m, i) => {
        if (m.role === 'assistant') {
          out.push(m.text);
          mark(eos);
        } else {
          const text = i === 0 && system ? `${system}\n\n${m.text}` : m.text;
          out.push({ marker: '[INST]' }, ` ${text} `, { marker: '[/INST]' });
        }
      });
      return out;
    }
    case 'gemma': {
      const [system, rest] = splitSystem();
      mark(bos);
      rest.forEach((m, i) => {
        const role = m.role === 'assistant' ? 'model' : m.role;
        const text = i === 0 && system && m.role === 'user' ? `${system}\n\n${m.text}` : m.text;
        out.push({ marker: '<start_of_turn>' }, `${role}\n${text.trim()}`);
        out.push({ marker: '<end_of_turn>' }, '\n');
      });
      return out;
    }
    case 'phi-3':
      for (const m of messages) {
        out.push({ marker: `<|${m.role}|>` }, `\n${m.text}`, { marker: '<|end|>' }, '\n');
      }
      return out;
    default:
      return undefined;
  }
}

/**
 * Counts with the model's tokenizer over the given template family. A family
 * the runner has no renderer for (or none) counts the text with the tokenizer
 * and the markup at MESSAGE_OVERHEAD_TOKENS per message.
 */
export function tokenizerCounter(
  tokenizer: LoadedTokenizer,
  family: ChatTemplateFamily,
): TokenCounter {
  const bos = tokenizer.bos ?? '';
  const eos = tokenizer.eos ?? '';
  // Each distinct message text is counted once: the templates repeat one
  // system prompt in every row.
  const memo = new Map<string, number>();
  const count = (text: string) => {
    let n = memo.get(text);
    if (n === undefined) {
      n = tokenizer.count(text);
      budget -= text.length;
      memo.set(text, n);
    }
    return n;
  };
  const markerCount = new Map<string, number>();
  const marker = (m: string) => {
    let n = markerCount.get(m);
    if (n === undefined) {
      n = tokenizer.isToken(m) ? 1 : tokenizer.count(m);
      markerCount.set(m, n);
    }
    return n;
  };
  let budget = TOKENIZE_CHAR_BUDGET;
  let rows = 0;
  let estimatedRows = 0;
  // Counted and estimated tokens of the tokenized rows: the scale for rows past the budget.
  let counted = 0;
  let estimated = 0;
  const scaled = (estimate: number) => {
    estimatedRows++;
    return Math.max(1, Math.round(estimated > 0 ? (estimate * counted) / estimated : estimate));
  };
  const tally = (n: number, estimate: number) => {
    rows++;
    counted += n;
    estimated += estimate;
    return n;
  };
  const template = family === 'none' ? 'no chat template' : family;
  return {
    messages(messages) {
      const estimate = estimateMessages(messages);
      if (budget <= 0) return scaled(estimate);
      const pieces = render(family, messages, bos, eos);
      let n = 0;
      if (pieces) {
        for (const p of pieces) n += typeof p === 'string' ? count(p) : marker(p.marker);
      } else {
        n = SEQUENCE_OVERHEAD_TOKENS;
        for (const m of messages) n += count(m.text) + MESSAGE_OVERHEAD_TOKENS;
      }
      return tally(n, estimate);
    },
    plain(...parts) {
      const estimate = estimatePlain(...parts);
      if (budget <= 0) return scaled(estimate);
      const n = count(parts.join('')) + tokenizer.specialTokensAdded() + (eos ? 1 : 0);
      return tally(n, estimate);
    },
    source: () => ({
      kind: 'tokenizer',
      path: tokenizer.path,
      template,
      ...(estimatedRows ? { estimatedRows, countedRows: rows } : {}),
    }),
  };
}

/** How the source reads in the estimate: `tokenizer: <path>` or `chars-per-token 3.6`. */
export function tokenSourceText(source: TokenSource | undefined): string {
  if (!source || source.kind === 'chars-per-token') {
    return `chars-per-token ${source?.charsPerToken ?? CHARS_PER_TOKEN}`;
  }
  return `tokenizer: ${source.path}`;
}

/** How a file's rows are counted: a fresh counter per read, and its part of the cache key. */
export interface Counting {
  key: string;
  counter(): TokenCounter;
}

export const ESTIMATE: Counting = { key: '', counter: () => estimateCounter() };

/**
 * The counting of a plan's data: the model's tokenizer over the chat template
 * when tokenizer.json is found (local directory, else the Hub cache), else the
 * estimate (with the reason when a tokenizer was found but not loaded).
 */
export function countingFor(
  plan: Pick<Plan, 'model' | 'data'>,
  configDir: string | undefined,
  hubCacheDir: string | undefined,
): Counting {
  const file = findTokenizerFile(
    plan.model.nameOrPath,
    configDir,
    hubCacheDir,
    plan.model.revision,
  );
  if (!file) return ESTIMATE;
  const loaded = loadTokenizer(file);
  if (!loaded.tokenizer) {
    const reason = loaded.error ?? `${file} could not be loaded`;
    return { key: `error\0${reason}`, counter: () => estimateCounter(reason) };
  }
  const tokenizer = loaded.tokenizer;
  const family = templateFamilyFor(plan.data.chatTemplate, tokenizer);
  return {
    key: `${tokenizer.key}\0${family}`,
    counter: () => tokenizerCounter(tokenizer, family),
  };
}

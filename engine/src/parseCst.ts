// The first, bounded stage of parse.ts: the YAML library's lexer and CST
// parser driven one token at a time, so the parse can be stopped as soon as
// the input proves hostile, before the library's recursive composer sees it.
//
// The parser keeps every open collection on its own stack: block maps, block
// sequences, flow collections and explicit `?` keys each push one entry, so
// the stack's height is the nesting depth whatever form the nesting takes.

import { Lexer, Parser, type CST, type LineCounter } from 'yaml';

/**
 * Lexical tokens in one file. A real config has about 9 a line (spec example:
 * 672 for 78 lines), so this is some 2,300 lines; past it the file is refused
 * rather than parsed, which keeps a megabyte of `a: 1` lines fast
 * (bench/hostile.ts measures it).
 */
export const MAX_TOKENS = 20_000;

/**
 * Lines in one file, checked before any parsing: counting them is cheap, so a
 * file of a million short lines is refused at once rather than lexed to the
 * token bound. Comment-only lines cost 2 tokens, so this is the looser bound.
 */
export const MAX_LINES = 10_000;

export interface CstRead {
  /** Top-level tokens of the first document (and what precedes it), for the composer. */
  tokens: CST.Token[];
  /** Documents in the file; only the first one's tokens are kept. */
  documents: number;
  /** Where the second document starts, when there is one. */
  secondDocumentOffset?: number;
  /** Set when the parse was abandoned; nothing else is then meaningful. */
  stopped?: { reason: 'depth' | 'tokens' | 'lines'; offset: number; limit: number };
}

export function readCst(text: string, lineCounter: LineCounter, maxDepth: number): CstRead {
  const tooManyLines = startOfLine(text, MAX_LINES);
  if (tooManyLines !== undefined) {
    return {
      tokens: [],
      documents: 0,
      stopped: { reason: 'lines', offset: tooManyLines, limit: MAX_LINES },
    };
  }
  const parser = new Parser(lineCounter.addNewLine);
  // Parser.parse() does this for its caller; next() does not.
  lineCounter.addNewLine(0);
  const read: CstRead = { tokens: [], documents: 0 };
  const take = (token: CST.Token) => {
    if (token.type === 'document') {
      // An empty document after the first (a trailing `---`) is no second config.
      if (read.documents > 0 && token.value === undefined) return;
      if (++read.documents === 2) read.secondDocumentOffset = token.offset;
    }
    if (read.documents <= 1) read.tokens.push(token);
  };
  // The stack holds the document itself and a scalar being read besides the collections.
  const maxStack = maxDepth + 2;
  let count = 0;
  for (const lexeme of new Lexer().lex(text)) {
    if (++count > MAX_TOKENS) {
      read.stopped = { reason: 'tokens', offset: parser.offset, limit: MAX_TOKENS };
      return read;
    }
    const lexemeStart = parser.offset;
    for (const token of parser.next(lexeme)) take(token);
    if (parser.stack.length > maxStack) {
      read.stopped = { reason: 'depth', offset: lexemeStart, limit: maxDepth };
      return read;
    }
  }
  for (const token of parser.end()) take(token);
  return read;
}

/** Offset where 0-based line `line` starts, or undefined when the text is shorter. */
function startOfLine(text: string, line: number): number | undefined {
  let offset = 0;
  for (let seen = 0; seen < line; seen++) {
    const newline = text.indexOf('\n', offset);
    if (newline === -1) return undefined;
    offset = newline + 1;
  }
  return offset;
}

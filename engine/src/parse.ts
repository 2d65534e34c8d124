// Parses YAML into a plain value plus a tree of source ranges, bounded against
// hostile input (alias bombs, deep nesting, huge files), and reports syntax
// problems as findings. Everything downstream (schema, rules, hover) reads the
// value and asks the tree for ranges; nothing re-parses.

import {
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  type Document,
  type Node as YamlNode,
} from 'yaml';
import type { Finding, Path, Position, Range } from './types';

/** Files above this size are not parsed: no config is that big. */
export const MAX_CONFIG_BYTES = 2 * 1024 * 1024;
/** Value nodes built from one document, aliases expanded (billion-laughs guard). */
const MAX_VALUE_NODES = 200_000;
/** Deeper nesting than this is reported and not descended. */
const MAX_DEPTH = 64;
/** Syntax findings reported for one file; garbage input would give thousands. */
const MAX_SYNTAX_FINDINGS = 50;

export interface SourceNode {
  /** Range of the key, for values that are map entries. */
  keyRange?: Range;
  /** Range of the value (the key's range when the value is empty). */
  valueRange: Range;
  children?: Map<string | number, SourceNode>;
}

export interface ParsedYaml {
  text: string;
  /** Plain JS value (objects, arrays, scalars); undefined for an empty document. */
  value: unknown;
  root: SourceNode | undefined;
  findings: Finding[];
  lineCounter: LineCounter;
  /** False when the document could not be turned into a value at all. */
  complete: boolean;
}

/**
 * A source node whose ranges are computed from offsets on first use: most
 * nodes of a large file are never asked for a range.
 */
class LazySourceNode implements SourceNode {
  keySpan: readonly [number, number] | undefined;
  private key: Range | undefined;
  private value: Range | undefined;

  constructor(
    private readonly lines: LineCounter,
    private readonly valueSpan: readonly [number, number],
    readonly children: Map<string | number, SourceNode> | undefined,
  ) {}

  get valueRange(): Range {
    return (this.value ??= spanToRange(this.lines, this.valueSpan));
  }

  get keyRange(): Range | undefined {
    if (!this.keySpan) return undefined;
    return (this.key ??= spanToRange(this.lines, this.keySpan));
  }
}

function spanToRange(lines: LineCounter, [start, end]: readonly [number, number]): Range {
  return { start: toPosition(lines, start), end: toPosition(lines, Math.max(start, end)) };
}

class ValueBudgetExceeded extends Error {
  constructor(readonly at: Range) {
    super('alias expansion budget exceeded');
  }
}

export function parseYaml(text: string): ParsedYaml {
  const lineCounter = new LineCounter();
  const findings: Finding[] = [];
  const rangeOf = (start: number, end: number): Range => ({
    start: toPosition(lineCounter, start),
    end: toPosition(lineCounter, Math.max(start, end)),
  });

  const tooDeep = excessiveNesting(text);
  if (tooDeep !== undefined) {
    // The YAML library recurses per level; refuse before it can exhaust the stack.
    const counted = countLines(text);
    const at = toPosition(counted, tooDeep);
    const range = { start: at, end: { line: at.line, character: at.character + 1 } };
    findings.push(
      syntaxFinding(range, `nesting deeper than ${MAX_DEPTH} levels; the file is not checked`),
    );
    return {
      text,
      value: undefined,
      root: undefined,
      findings,
      lineCounter: counted,
      complete: false,
    };
  }

  let doc: Document.Parsed;
  try {
    // uniqueKeys: false — the library's duplicate check is quadratic in map
    // size; duplicates are found below with a Set in one pass instead.
    doc = parseDocument(text, { lineCounter, uniqueKeys: false, prettyErrors: false });
  } catch (err) {
    // The composer recurses: extreme nesting overflows the stack.
    findings.push(syntaxFinding(rangeOf(0, 0), `cannot parse this file: ${describe(err)}`));
    return { text, value: undefined, root: undefined, findings, lineCounter, complete: false };
  }

  for (const error of doc.errors.slice(0, MAX_SYNTAX_FINDINGS)) {
    findings.push(syntaxFinding(rangeOf(error.pos[0], error.pos[1]), cleanMessage(error.message)));
  }
  if (doc.errors.length > MAX_SYNTAX_FINDINGS) {
    findings.push(
      syntaxFinding(
        rangeOf(0, 0),
        `${doc.errors.length - MAX_SYNTAX_FINDINGS} more YAML syntax errors not shown`,
      ),
    );
  }

  let budget = MAX_VALUE_NODES;
  type Span = readonly [number, number];
  const spanOf = (node: YamlNode | null | undefined, fallback: Span): Span =>
    node?.range ? [node.range[0], node.range[1]] : fallback;
  const build = (
    node: YamlNode | null | undefined,
    depth: number,
    withSource: boolean,
    fallback: Span,
  ): { value: unknown; source: LazySourceNode | undefined } => {
    const here = spanOf(node, fallback);
    const source = (children?: Map<string | number, SourceNode>) =>
      withSource ? new LazySourceNode(lineCounter, here, children) : undefined;
    if (--budget < 0) throw new ValueBudgetExceeded(rangeOf(here[0], here[1]));
    if (node == null) return { value: null, source: source() };
    if (isAlias(node)) {
      // An alias's content lives elsewhere in the text: point at the alias itself.
      const built = build(node.resolve(doc), depth + 1, false, here);
      return { value: built.value, source: source() };
    }
    if (depth > MAX_DEPTH) {
      findings.push(
        syntaxFinding(
          rangeOf(here[0], here[1]),
          `nesting deeper than ${MAX_DEPTH} levels is not checked further`,
        ),
      );
      return { value: null, source: source() };
    }
    if (isScalar(node)) return { value: node.value, source: source() };
    if (isSeq(node)) {
      const value: unknown[] = [];
      const children = withSource ? new Map<string | number, SourceNode>() : undefined;
      node.items.forEach((item, index) => {
        const built = build(item as YamlNode, depth + 1, withSource, here);
        value.push(built.value);
        if (built.source) children?.set(index, built.source);
      });
      return { value, source: source(children) };
    }
    if (isMap(node)) {
      const value: Record<string, unknown> = {};
      const children = withSource ? new Map<string | number, SourceNode>() : undefined;
      const seen = new Map<string, Span>();
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const keyNode = pair.key as YamlNode | null;
        const keySpan = spanOf(keyNode, here);
        const key = keyToString(keyNode);
        const first = seen.get(key);
        if (first) {
          findings.push({
            code: 'yaml-syntax',
            severity: 'error',
            message: `Duplicate key \`${key}\` (first defined on line ${rangeOf(first[0], first[1]).start.line + 1}); YAML keys must be unique and the later value would silently win.`,
            range: rangeOf(keySpan[0], keySpan[1]),
          });
        } else {
          seen.set(key, keySpan);
        }
        const built = build(pair.value as YamlNode | null, depth + 1, withSource, keySpan);
        if (key === '__proto__') {
          // An own data property, so no prototype is touched.
          Object.defineProperty(value, key, {
            value: built.value,
            enumerable: true,
            writable: true,
            configurable: true,
          });
        } else {
          value[key] = built.value;
        }
        if (built.source) {
          built.source.keySpan = keySpan;
          children?.set(key, built.source);
        }
      }
      return { value, source: source(children) };
    }
    return { value: null, source: source() };
  };

  try {
    const built = build(doc.contents as YamlNode | null, 0, true, [0, 0]);
    const empty = doc.contents == null;
    return {
      text,
      value: empty ? undefined : built.value,
      root: empty ? undefined : built.source,
      findings,
      lineCounter,
      complete: true,
    };
  } catch (err) {
    const at = err instanceof ValueBudgetExceeded ? err.at : rangeOf(0, 0);
    const message =
      err instanceof ValueBudgetExceeded
        ? `aliases expand to more than ${MAX_VALUE_NODES} values here (an "alias bomb"); the file is not checked further`
        : `cannot read this file: ${describe(err)}`;
    findings.push(syntaxFinding(at, message));
    return { text, value: undefined, root: undefined, findings, lineCounter, complete: false };
  }
}

/** The source node at `path`, or the nearest ancestor that has one. */
export function sourceAt(root: SourceNode | undefined, path: Path): SourceNode | undefined {
  let node = root;
  for (const segment of path) {
    const next = node?.children?.get(segment);
    if (!next) return node;
    node = next;
  }
  return node;
}

/** Exact source node at `path` (no fallback to ancestors). */
export function exactSourceAt(root: SourceNode | undefined, path: Path): SourceNode | undefined {
  let node = root;
  for (const segment of path) {
    node = node?.children?.get(segment);
    if (!node) return undefined;
  }
  return node;
}

/** The value at `path`, or undefined. */
export function valueAt(value: unknown, path: Path): unknown {
  let current = value;
  for (const segment of path) {
    if (current === null || typeof current !== 'object') return undefined;
    if (!Object.prototype.hasOwnProperty.call(current, segment)) return undefined;
    current = (current as Record<string | number, unknown>)[segment];
  }
  return current;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Offset where flow brackets nest deeper than MAX_DEPTH, or a line is indented
 * past MAX_DEPTH levels (of two spaces); undefined when the text is shallow.
 */
function excessiveNesting(text: string): number | undefined {
  let depth = 0;
  let quote = '';
  let lineStart = true;
  let indent = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\n') {
      lineStart = true;
      indent = 0;
      if (quote === "'") quote = '';
      continue;
    }
    if (lineStart) {
      if (c === ' ') {
        if (++indent > MAX_DEPTH * 2) return i;
        continue;
      }
      lineStart = false;
    }
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = '';
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(text[i - 1]))) {
      while (i + 1 < text.length && text[i + 1] !== '\n') i++;
    } else if (c === '[' || c === '{') {
      if (++depth > MAX_DEPTH) return i;
    } else if (c === ']' || c === '}') depth = Math.max(0, depth - 1);
  }
  return undefined;
}

export function countLines(text: string): LineCounter {
  const counter = new LineCounter();
  counter.addNewLine(0);
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1))
    counter.addNewLine(i + 1);
  return counter;
}

function keyToString(keyNode: YamlNode | null): string {
  if (keyNode == null) return '';
  if (isScalar(keyNode)) return String(keyNode.value);
  return String(keyNode);
}

function toPosition(lineCounter: LineCounter, offset: number): Position {
  const { line, col } = lineCounter.linePos(offset);
  return { line: line - 1, character: col - 1 };
}

function syntaxFinding(range: Range, message: string): Finding {
  return { code: 'yaml-syntax', severity: 'error', message, range };
}

function cleanMessage(message: string): string {
  // The library appends " at line L, column C" plus a source excerpt; the range says that.
  return message.replace(/ at line \d+, column \d+:?[\s\S]*$/, '').trim();
}

function describe(err: unknown): string {
  if (err instanceof RangeError) return 'the document is nested too deeply';
  return err instanceof Error ? err.message : String(err);
}

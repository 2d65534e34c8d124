// Parses YAML into a plain value plus a tree of source ranges, bounded against
// hostile input (alias bombs, deep nesting of any form, huge files), and
// reports syntax problems as findings. Everything downstream (schema, rules,
// hover) reads the value and asks the tree for ranges; nothing re-parses.
//
// Bounds, in order: the YAML library's CST parser is driven one lexical token
// at a time (it keeps its nesting on an explicit stack, so deep input cannot
// overflow it) and stopped when its stack is deeper than MAX_DEPTH or the file
// has more than MAX_TOKENS tokens or MAX_LINES lines; only then does the recursive composer run,
// on the first document alone. Building the value expands aliases under a
// budget of MAX_VALUE_NODES values and the same depth bound.

import {
  Composer,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Document,
  type Node as YamlNode,
} from 'yaml';
import { readCst } from './parseCst';
import { shortText, yamlErrorMessage } from './schema/messageText';
import type { Finding, Path, Position, Range } from './types';

/** Files above this size are not parsed: no config is that big. */
export const MAX_CONFIG_BYTES = 2 * 1024 * 1024;
/** Value nodes built from one document, aliases expanded (billion-laughs guard). */
const MAX_VALUE_NODES = 30_000;
/** Deeper nesting than this, in any YAML form or through aliases, is not checked. */
export const MAX_DEPTH = 64;
/** Syntax findings reported for one file; garbage input would give thousands. */
const MAX_SYNTAX_FINDINGS = 50;
/** Duplicate-key findings reported for one file; the rest are counted in one more. */
const MAX_DUPLICATE_FINDINGS = 40;

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

/** Thrown out of build() to stop it: the file is refused with this message. */
class BuildStopped extends Error {
  constructor(
    readonly at: readonly [number, number],
    readonly userMessage: string,
  ) {
    super(userMessage);
  }
}

type Span = readonly [number, number];

export function parseYaml(text: string): ParsedYaml {
  const lineCounter = new LineCounter();
  const cst = readCst(text, lineCounter, MAX_DEPTH);
  if (cst.stopped) {
    // The parser did not reach the end: lines are counted only up to where it stopped.
    const { reason, offset, limit } = cst.stopped;
    const counted = countLines(text, offset);
    const at = toPosition(counted, offset);
    const range = { start: at, end: { line: at.line, character: at.character + 1 } };
    const message =
      reason === 'depth'
        ? `This config is nested too deeply (over ${limit} levels, here on line ${at.line + 1}); Tunelab does not check it. A fine-tuning config nests a few levels.`
        : `This config is too large to check: over ${limit.toLocaleString('en-US')} ${reason === 'lines' ? 'lines' : `YAML tokens by line ${at.line + 1}`}. A fine-tuning config has a few hundred lines: is data pasted into it?`;
    return incomplete(text, counted, [syntaxFinding(range, message)]);
  }

  const rangeOf = (start: number, end: number): Range => spanToRange(lineCounter, [start, end]);
  const findings: Finding[] = [];
  if (cst.documents > 1) {
    findings.push(
      syntaxFinding(
        rangeOf(cst.secondDocumentOffset!, cst.secondDocumentOffset! + 3),
        `A config is one YAML document; this file has ${cst.documents} (the second starts on line ${rangeOf(cst.secondDocumentOffset!, cst.secondDocumentOffset!).start.line + 1}). Only the first is checked; remove the \`---\` separators or split the file.`,
      ),
    );
  }

  let doc: Document.Parsed;
  try {
    // uniqueKeys: false — the library's duplicate check is quadratic in map
    // size; duplicates are found below with a Map in one pass instead.
    const composed = [
      ...new Composer({ uniqueKeys: false }).compose(cst.tokens, true, text.length),
    ];
    doc = composed[0];
  } catch {
    // Not expected within the depth bound; a config must still get an answer.
    findings.push(syntaxFinding(rangeOf(0, 0), 'Tunelab could not read this file as YAML.'));
    return { text, value: undefined, root: undefined, findings, lineCounter, complete: false };
  }

  for (const error of doc.errors.slice(0, MAX_SYNTAX_FINDINGS)) {
    findings.push(
      syntaxFinding(
        rangeOf(error.pos[0], error.pos[1]),
        yamlErrorMessage(error.code, error.message),
      ),
    );
  }
  if (doc.errors.length > MAX_SYNTAX_FINDINGS) {
    findings.push(
      syntaxFinding(
        rangeOf(doc.errors[MAX_SYNTAX_FINDINGS].pos[0], doc.errors[MAX_SYNTAX_FINDINGS].pos[1]),
        `… and ${doc.errors.length - MAX_SYNTAX_FINDINGS} more YAML syntax errors, not shown.`,
      ),
    );
  }

  const aliasTargets = text.includes('*') ? resolveAliases(doc) : new Map<YamlNode, YamlNode>();
  const expanding = new Set<YamlNode>();
  let budget = MAX_VALUE_NODES;
  let duplicates = 0;
  let firstUnshownDuplicate: Span | undefined;
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
    if (--budget < 0) {
      throw new BuildStopped(
        here,
        `Aliases here expand to more than ${MAX_VALUE_NODES.toLocaleString('en-US')} values (an "alias bomb"); Tunelab does not check this config further.`,
      );
    }
    if (node == null) return { value: null, source: source() };
    if (isAlias(node)) {
      // An alias stands in for its anchor's node at this same level; its
      // content lives elsewhere in the text, so the range is the alias itself.
      const target = aliasTargets.get(node);
      const name = shortText(node.source);
      if (!target) {
        findings.push(
          syntaxFinding(
            rangeOf(here[0], here[1]),
            `\`*${name}\` refers to no anchor \`&${name}\` defined before it.`,
          ),
        );
        return { value: null, source: source() };
      }
      if (expanding.has(target)) {
        findings.push(
          syntaxFinding(
            rangeOf(here[0], here[1]),
            `\`*${name}\` is inside the value anchored as \`&${name}\`, so it would contain itself.`,
          ),
        );
        return { value: null, source: source() };
      }
      expanding.add(target);
      const built = build(target, depth, false, here);
      expanding.delete(target);
      return { value: built.value, source: source() };
    }
    if (depth > MAX_DEPTH) {
      throw new BuildStopped(
        here,
        `This config is nested too deeply${expanding.size > 0 ? ' through aliases' : ''} (over ${MAX_DEPTH} levels); Tunelab does not check it. A fine-tuning config nests a few levels.`,
      );
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
        if (keyNode != null && !isScalar(keyNode)) {
          if (withSource)
            findings.push(complexKeyFinding(keyNode, rangeOf(keySpan[0], keySpan[1])));
          continue;
        }
        const key = keyNode == null ? '' : String(keyNode.value);
        const first = seen.get(key);
        if (first && withSource) {
          if (++duplicates <= MAX_DUPLICATE_FINDINGS) {
            findings.push({
              code: 'yaml-syntax',
              severity: 'error',
              message: `Duplicate key \`${shortText(key)}\` (first defined on line ${rangeOf(first[0], first[1]).start.line + 1}); YAML keys must be unique and the later value would silently win.`,
              range: rangeOf(keySpan[0], keySpan[1]),
            });
          } else {
            firstUnshownDuplicate ??= keySpan;
          }
        } else if (!first) {
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
    if (firstUnshownDuplicate) {
      findings.push(
        syntaxFinding(
          rangeOf(firstUnshownDuplicate[0], firstUnshownDuplicate[1]),
          `… and ${(duplicates - MAX_DUPLICATE_FINDINGS).toLocaleString('en-US')} more duplicate keys, not shown (the next one is here).`,
        ),
      );
    }
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
    const stopped =
      err instanceof BuildStopped
        ? syntaxFinding(rangeOf(err.at[0], err.at[1]), err.userMessage)
        : // A RangeError (stack, string length) must not reach the user as such.
          syntaxFinding(rangeOf(0, 0), 'Tunelab could not read this config: it is too complex.');
    return incomplete(text, lineCounter, [...findings, stopped]);
  }
}

function incomplete(text: string, lineCounter: LineCounter, findings: Finding[]): ParsedYaml {
  return { text, value: undefined, root: undefined, findings, lineCounter, complete: false };
}

/**
 * The node each alias refers to: the last node anchored with its name before
 * it in document order. One pass; the library's own lookup walks the whole
 * document per alias, which is quadratic in a file of many aliases.
 */
function resolveAliases(doc: Document.Parsed): Map<YamlNode, YamlNode> {
  const targets = new Map<YamlNode, YamlNode>();
  const anchors = new Map<string, YamlNode>();
  const pending: unknown[] = [doc.contents];
  while (pending.length > 0) {
    const node = pending.pop();
    if (isPair(node)) {
      pending.push(node.value, node.key);
      continue;
    }
    if (isAlias(node)) {
      const target = anchors.get(node.source);
      if (target) targets.set(node, target);
      continue;
    }
    if (!isScalar(node) && !isMap(node) && !isSeq(node)) continue;
    if (node.anchor) anchors.set(node.anchor, node);
    if (isMap(node) || isSeq(node)) {
      // Reversed so that items come off the stack in document order.
      for (let i = node.items.length - 1; i >= 0; i--) pending.push(node.items[i]);
    }
  }
  return targets;
}

function complexKeyFinding(keyNode: YamlNode, range: Range): Finding {
  const kind = isMap(keyNode) ? 'a mapping' : isSeq(keyNode) ? 'a list' : 'an alias';
  return syntaxFinding(
    range,
    `This key is ${kind} (written with \`?\` or in brackets); config keys are plain names, so this entry is not checked.`,
  );
}

function syntaxFinding(range: Range, message: string): Finding {
  return { code: 'yaml-syntax', severity: 'error', message, range };
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

/** Line starts of `text`, or of its first `end` characters. */
export function countLines(text: string, end = text.length): LineCounter {
  const counter = new LineCounter();
  counter.addNewLine(0);
  for (let i = text.indexOf('\n'); i !== -1 && i < end; i = text.indexOf('\n', i + 1))
    counter.addNewLine(i + 1);
  return counter;
}

function toPosition(lineCounter: LineCounter, offset: number): Position {
  const { line, col } = lineCounter.linePos(offset);
  return { line: line - 1, character: col - 1 };
}

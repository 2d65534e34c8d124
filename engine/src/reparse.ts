// Incremental re-parse for the most common edit while typing: one line of the
// form `key: plain-scalar` changes its value and nothing else. The previous
// parse is reused with that one value (and its range) replaced, which skips
// the YAML library's whole-document parse. Anything else returns undefined
// and the caller parses from scratch; reparse.test.ts checks the result
// equals a full parse on random edits.

import { parse as parseScalar } from 'yaml';
import { countLines, exactSourceAt, type ParsedYaml, type SourceNode } from './parse';
import type { Range } from './types';

/** `  key: value  # comment` with a plain (unquoted, single-line) scalar value. */
const PLAIN_PAIR =
  /^( *)([A-Za-z_][\w.-]*):( +)([^\s#'"&*!|>%@`{}[\],?:-][^#]*?|-?\d[^#]*?)( +#.*)?$/;

export function reparseAfterEdit(previous: ParsedYaml, text: string): ParsedYaml | undefined {
  if (!previous.complete || previous.findings.length > 0 || !previous.root) return undefined;
  const edited = singleChangedLine(previous.text, text);
  if (!edited) return undefined;
  const before = PLAIN_PAIR.exec(edited.before);
  const after = PLAIN_PAIR.exec(edited.after);
  if (!before || !after) return undefined;
  // Same indentation, key and spacing: only the value (and what follows it) changed.
  if (before[1] !== after[1] || before[2] !== after[2] || before[3] !== after[3]) return undefined;
  const valueText = after[4].replace(/\s+$/, '');
  if (/: |\s#|^-\s|^---|^\.\.\.|[,[\]{}]/.test(valueText)) return undefined;
  let value: unknown;
  try {
    value = parseScalar(valueText);
  } catch {
    return undefined;
  }
  if (value !== null && typeof value === 'object') return undefined;

  const path = pathOfKeyOnLine(previous.root, edited.line);
  if (!path) return undefined;
  const target = exactSourceAt(previous.root, path);
  if (!target || target.children || target.valueRange.start.line !== edited.line) return undefined;

  const valueStart = after[1].length + after[2].length + 1 + after[3].length;
  const newValueRange: Range = {
    start: { line: edited.line, character: valueStart },
    end: { line: edited.line, character: valueStart + valueText.length },
  };
  const delta = newValueRange.end.character - target.valueRange.end.character;
  const root = replaceAlongPath(previous.root, path, 0, newValueRange, edited.line, delta);
  const newValue = setAlongPath(previous.value, path, 0, value);
  return { ...previous, text, value: newValue, root, findings: [], lineCounter: countLines(text) };
}

function singleChangedLine(
  oldText: string,
  newText: string,
): { line: number; before: string; after: string } | undefined {
  if (oldText.length === newText.length && oldText === newText) return undefined;
  // Common prefix and suffix by characters; the change must stay inside one line.
  let start = 0;
  const limit = Math.min(oldText.length, newText.length);
  while (start < limit && oldText.charCodeAt(start) === newText.charCodeAt(start)) start++;
  let oldEnd = oldText.length;
  let newEnd = newText.length;
  while (
    oldEnd > start &&
    newEnd > start &&
    oldText.charCodeAt(oldEnd - 1) === newText.charCodeAt(newEnd - 1)
  ) {
    oldEnd--;
    newEnd--;
  }
  const lineStart = oldText.lastIndexOf('\n', start - 1) + 1;
  const oldLineEnd = oldText.indexOf('\n', lineStart);
  const newLineEnd = newText.indexOf('\n', lineStart);
  const oldStop = oldLineEnd === -1 ? oldText.length : oldLineEnd;
  const newStop = newLineEnd === -1 ? newText.length : newLineEnd;
  if (oldEnd > oldStop || newEnd > newStop) return undefined;
  if (oldText.slice(oldStop) !== newText.slice(newStop)) return undefined;
  let line = 0;
  for (let i = oldText.indexOf('\n'); i !== -1 && i < lineStart; i = oldText.indexOf('\n', i + 1))
    line++;
  return {
    line,
    before: oldText.slice(lineStart, oldStop),
    after: newText.slice(lineStart, newStop),
  };
}

/** The path of the map entry whose key starts on `line` (block mappings only). */
function pathOfKeyOnLine(root: SourceNode, line: number): (string | number)[] | undefined {
  let node: SourceNode | undefined = root;
  const path: (string | number)[] = [];
  while (node?.children) {
    let next: SourceNode | undefined;
    for (const [segment, child] of node.children) {
      if (child.keyRange?.start.line === line) return [...path, segment];
      const r = child.valueRange;
      if (child.children && r.start.line <= line && r.end.line >= line) {
        next = child;
        path.push(segment);
        break;
      }
    }
    node = next;
  }
  return undefined;
}

function shifted(range: Range, line: number, delta: number): Range {
  if (range.end.line !== line || delta === 0) return range;
  return { start: range.start, end: { line, character: range.end.character + delta } };
}

function replaceAlongPath(
  node: SourceNode,
  path: (string | number)[],
  index: number,
  valueRange: Range,
  line: number,
  delta: number,
): SourceNode {
  if (index === path.length) return { keyRange: node.keyRange, valueRange };
  const children = new Map(node.children);
  children.set(
    path[index],
    replaceAlongPath(node.children!.get(path[index])!, path, index + 1, valueRange, line, delta),
  );
  return { keyRange: node.keyRange, valueRange: shifted(node.valueRange, line, delta), children };
}

function setAlongPath(
  value: unknown,
  path: (string | number)[],
  index: number,
  leaf: unknown,
): unknown {
  if (index === path.length) return leaf;
  const container = value as Record<string | number, unknown>;
  const copy = (Array.isArray(container) ? [...container] : { ...container }) as Record<
    string | number,
    unknown
  >;
  copy[path[index]] = setAlongPath(container[path[index]], path, index + 1, leaf);
  return copy;
}

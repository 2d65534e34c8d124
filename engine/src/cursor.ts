// Where the cursor is in a config, from the text's indentation alone: while
// the user types, the document is often incomplete, so the parse tree cannot
// be trusted for this.

import type { SourceNode } from './parse';
import type { Path, Position, Range } from './types';

export interface CursorContext {
  /** Path of the mapping the cursor is in ('key' mode) or of the key whose value it is on. */
  path: string[];
  mode: 'key' | 'value';
  /** What is typed so far of the key or value. */
  prefix: string;
  /** The text the completion replaces. */
  replaceRange: Range;
  /** Keys already present in the mapping at `path` (key mode). */
  siblings: Set<string>;
}

const KEY_LINE = /^(\s*)([A-Za-z_][\w.-]*)\s*:(?:\s|$)/;

function indentOf(line: string): number {
  return line.length - line.trimStart().length;
}

function isBlankOrComment(line: string): boolean {
  const t = line.trim();
  return t === '' || t.startsWith('#');
}

/** Keys of the block mappings that enclose `lineIndex` at `indent`, outermost first. */
function enclosingKeys(lines: string[], lineIndex: number, indent: number): string[] {
  const path: string[] = [];
  let current = indent;
  for (let i = lineIndex - 1; i >= 0 && current > 0; i--) {
    const line = lines[i];
    if (isBlankOrComment(line)) continue;
    const lineIndent = indentOf(line);
    if (lineIndent >= current) continue;
    const match = KEY_LINE.exec(line);
    if (!match) return path; // a list item or flow content: no key path to complete in
    path.unshift(match[2]);
    current = lineIndent;
  }
  return path;
}

/** Keys already written at `indent` in the block around `lineIndex`. */
function siblingKeys(lines: string[], lineIndex: number, indent: number): Set<string> {
  const keys = new Set<string>();
  const scan = (from: number, step: number) => {
    for (let i = from; i >= 0 && i < lines.length; i += step) {
      const line = lines[i];
      if (isBlankOrComment(line)) continue;
      const lineIndent = indentOf(line);
      if (lineIndent < indent) return;
      if (lineIndent > indent) continue;
      const match = KEY_LINE.exec(line);
      if (match) keys.add(match[2]);
    }
  };
  scan(lineIndex - 1, -1);
  scan(lineIndex + 1, 1);
  return keys;
}

export function cursorContext(text: string, position: Position): CursorContext | undefined {
  const lines = text.split(/\r?\n/);
  const line = lines[position.line];
  if (line === undefined) return undefined;
  const before = line.slice(0, position.character);
  if (before.includes('#')) return undefined;

  const valueMatch = /^(\s*)([A-Za-z_][\w.-]*)\s*:\s+([^\s{[]*)$/.exec(before);
  if (valueMatch) {
    const indent = valueMatch[1].length;
    const prefix = valueMatch[3];
    return {
      path: [...enclosingKeys(lines, position.line, indent), valueMatch[2]],
      mode: 'value',
      prefix,
      replaceRange: {
        start: { line: position.line, character: position.character - prefix.length },
        end: { line: position.line, character: endOfWord(line, position.character) },
      },
      siblings: new Set(),
    };
  }
  const keyMatch = /^(\s*)([A-Za-z_][\w.-]*)?$/.exec(before);
  if (keyMatch) {
    const indent = keyMatch[1].length;
    const prefix = keyMatch[2] ?? '';
    const siblings = siblingKeys(lines, position.line, indent);
    return {
      path: enclosingKeys(lines, position.line, indent),
      mode: 'key',
      prefix,
      replaceRange: {
        start: { line: position.line, character: position.character - prefix.length },
        end: { line: position.line, character: endOfWord(line, position.character) },
      },
      siblings,
    };
  }
  return undefined;
}

function endOfWord(line: string, from: number): number {
  let end = from;
  while (end < line.length && /[\w.-]/.test(line[end])) end++;
  return end;
}

export function contains(range: Range, position: Position): boolean {
  const afterStart =
    position.line > range.start.line ||
    (position.line === range.start.line && position.character >= range.start.character);
  const beforeEnd =
    position.line < range.end.line ||
    (position.line === range.end.line && position.character <= range.end.character);
  return afterStart && beforeEnd;
}

/** The path of the key or scalar value under the cursor, and whether it is on the key. */
export function pathAtPosition(
  root: SourceNode | undefined,
  position: Position,
): { path: Path; onKey: boolean } | undefined {
  let node = root;
  const path: (string | number)[] = [];
  while (node?.children) {
    let next: SourceNode | undefined;
    for (const [segment, child] of node.children) {
      if (child.keyRange && contains(child.keyRange, position)) {
        return { path: [...path, segment], onKey: true };
      }
      if (contains(child.valueRange, position)) {
        next = child;
        path.push(segment);
        break;
      }
    }
    if (!next) break;
    node = next;
  }
  return path.length ? { path, onKey: false } : undefined;
}

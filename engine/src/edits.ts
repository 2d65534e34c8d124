// Quick-fix edits that change one value or add one key while keeping the
// user's formatting and comments: they touch only the text they must.

import { exactSourceAt, parseYaml, type ParsedYaml } from './parse';
import type { Path, Range, TextEdit } from './types';

function lineText(text: string, line: number): string {
  return text.split('\n')[line] ?? '';
}

function indentOf(line: string): number {
  return line.length - line.trimStart().length;
}

/** Formats a scalar the way a person would write it in YAML. */
export function yamlScalar(value: string | number | boolean | null): string {
  if (value === null) return 'null';
  if (typeof value === 'number') {
    if (Number.isInteger(value) || (Math.abs(value) >= 1e-3 && Math.abs(value) < 1e6))
      return String(value);
    // 2e-4 rather than 0.0002: how learning rates are read and written.
    return value
      .toExponential()
      .replace('e-', '.0e-')
      .replace(/\.(\d+)\.0e/, '.$1e');
  }
  if (typeof value === 'boolean') return String(value);
  return /^[\w./-]+$/.test(value) && !/^(true|false|null|yes|no|on|off|~|[-+]?\d)/i.test(value)
    ? value
    : JSON.stringify(value);
}

/** Replaces the value at `path` (which must exist). */
export function replaceValue(parsed: ParsedYaml, path: Path, newText: string): TextEdit[] {
  const node = exactSourceAt(parsed.root, path);
  if (!node) return [];
  return [{ range: node.valueRange, newText }];
}

/**
 * Sets `key: valueText` in the mapping at `section`, replacing the value when
 * the key exists, and creating missing sections under their nearest existing
 * ancestor (at the end of the file for top-level ones).
 */
export function setKey(
  parsed: ParsedYaml,
  section: Path,
  key: string,
  valueText: string,
): TextEdit[] {
  const existing = exactSourceAt(parsed.root, [...section, key]);
  if (existing?.keyRange)
    return replaceExistingValue(parsed.text, existing.keyRange, existing.valueRange, valueText);

  let depth = section.length;
  while (depth > 0 && !exactSourceAt(parsed.root, section.slice(0, depth))) depth--;
  const missing = [...section.slice(depth).map(String), key];
  const entryLines = missing.map(
    (k, i) =>
      `${'  '.repeat(i)}${k}:${i < missing.length - 1 ? '' : valueText.startsWith('\n') ? valueText : ` ${valueText}`}`,
  );
  return insertEntry(parsed, section.slice(0, depth), entryLines);
}

/**
 * Replaces a key's value. An empty value (`key:`) or a block collection on the
 * following lines is replaced from the colon on, so the scalar lands on the
 * key's line with one space.
 */
function replaceExistingValue(
  text: string,
  key: Range,
  value: Range,
  valueText: string,
): TextEdit[] {
  const empty =
    (value.start.line === key.start.line && value.start.character === key.start.character) ||
    (value.start.line === value.end.line && value.start.character === value.end.character);
  const onLaterLine = value.start.line > key.start.line;
  if (!empty && !onLaterLine) return [{ range: value, newText: valueText }];
  const keyLine = lineText(text, key.end.line);
  const colon = keyLine.indexOf(':', key.end.character);
  const afterColon = { line: key.end.line, character: colon < 0 ? keyLine.length : colon + 1 };
  const endLine =
    onLaterLine && !empty
      ? lastContentLine(text, value.end.line, value.end.character)
      : key.end.line;
  const end =
    onLaterLine && !empty
      ? { line: endLine, character: lineText(text, endLine).length }
      : afterColon;
  const newText = valueText.startsWith('\n') ? valueText : ` ${valueText}`;
  return [{ range: { start: afterColon, end }, newText }];
}

/** Inserts the lines of one new entry (relative indentation) into the mapping at `parent`. */
function insertEntry(parsed: ParsedYaml, parent: Path, entryLines: string[]): TextEdit[] {
  const text = parsed.text;
  if (parent.length === 0) {
    const end = endOfText(text);
    const prefix = text.length === 0 || text.endsWith('\n') ? '' : '\n';
    return [{ range: { start: end, end }, newText: `${prefix}${entryLines.join('\n')}\n` }];
  }
  const node = exactSourceAt(parsed.root, parent);
  if (!node?.keyRange) return [];
  const children = [...(node.children?.values() ?? [])].filter((c) => c.keyRange);
  const indentLines = (spaces: number) => entryLines.map((l) => ' '.repeat(spaces) + l).join('\n');
  if (children.length === 0) {
    // `lora:` with nothing under it, or an explicit empty value (`lora: {}`, `lora: null`).
    const keyLine = lineText(text, node.keyRange.start.line);
    const block = `\n${indentLines(indentOf(keyLine) + 2)}`;
    const value = node.valueRange;
    const explicit =
      value !== node.keyRange &&
      value.start.line === node.keyRange.start.line &&
      value.end.line === value.start.line &&
      value.end.character > value.start.character;
    if (explicit) {
      const afterColon = { line: value.start.line, character: node.keyRange.end.character + 1 };
      return [{ range: { start: afterColon, end: value.end }, newText: block }];
    }
    const at = { line: node.keyRange.start.line, character: keyLine.length };
    return [{ range: { start: at, end: at }, newText: block }];
  }
  const first = children[0].keyRange!;
  const last = children[children.length - 1];
  if (first.start.line === node.keyRange.start.line) {
    // A flow mapping `{ a: 1 }` on the key's line: only a flat entry fits there.
    if (entryLines.length > 1) return [];
    const at = last.valueRange.end;
    return [{ range: { start: at, end: at }, newText: `, ${entryLines[0]}` }];
  }
  const endLine = lastContentLine(text, last.valueRange.end.line, last.valueRange.end.character);
  const at = { line: endLine, character: lineText(text, endLine).length };
  return [{ range: { start: at, end: at }, newText: `\n${indentLines(first.start.character)}` }];
}

/** Removes the `key: value` entry at `path` with its line(s). */
export function removeKey(parsed: ParsedYaml, path: Path): TextEdit[] {
  const node = exactSourceAt(parsed.root, path);
  if (!node?.keyRange) return [];
  const endLine = lastContentLine(
    parsed.text,
    node.valueRange.end.line,
    node.valueRange.end.character,
  );
  const range: Range = {
    start: { line: node.keyRange.start.line, character: 0 },
    end: { line: endLine + 1, character: 0 },
  };
  return [{ range, newText: '' }];
}

/** The yaml library ends a block value at the start of the next line; step back to real content. */
function lastContentLine(text: string, line: number, character: number): number {
  let result = character === 0 && line > 0 ? line - 1 : line;
  const lines = text.split('\n');
  while (result > 0 && (lines[result] ?? '').trim() === '') result--;
  return result;
}

function endOfText(text: string): { line: number; character: number } {
  const lines = text.split('\n');
  return { line: lines.length - 1, character: lines[lines.length - 1].length };
}

/** Applies non-overlapping text edits to a text (what an editor does with a quick fix). */
export function applyTextEdits(text: string, edits: readonly TextEdit[]): string {
  const lineStarts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) lineStarts.push(i + 1);
  const offsetOf = (p: { line: number; character: number }) =>
    p.line >= lineStarts.length
      ? text.length
      : Math.min(text.length, lineStarts[p.line] + p.character);
  const sorted = [...edits].sort((a, b) => offsetOf(b.range.start) - offsetOf(a.range.start));
  let result = text;
  for (const edit of sorted) {
    result =
      result.slice(0, offsetOf(edit.range.start)) +
      edit.newText +
      result.slice(offsetOf(edit.range.end));
  }
  return result;
}

/** One edit that turns `before` into `after`, covering only the part that differs. */
export function minimalEdit(before: string, after: string): TextEdit[] {
  if (before === after) return [];
  let start = 0;
  const limit = Math.min(before.length, after.length);
  while (start < limit && before[start] === after[start]) start++;
  let endBefore = before.length;
  let endAfter = after.length;
  while (endBefore > start && endAfter > start && before[endBefore - 1] === after[endAfter - 1]) {
    endBefore--;
    endAfter--;
  }
  const position = (offset: number) => {
    const head = before.slice(0, offset);
    const line = head.split('\n').length - 1;
    return { line, character: offset - (head.lastIndexOf('\n') + 1) };
  };
  return [
    {
      range: { start: position(start), end: position(endBefore) },
      newText: after.slice(start, endAfter),
    },
  ];
}

/**
 * Applies edit steps one after another, re-parsing between them (so each step
 * sees the text the previous one left), and returns one minimal edit.
 */
export function chainEdits(
  text: string,
  steps: ((parsed: ParsedYaml) => TextEdit[])[],
): TextEdit[] {
  let current = text;
  for (const step of steps) current = applyTextEdits(current, step(parseYaml(current)));
  return minimalEdit(text, current);
}

/**
 * Replaces the `# comment` after the one-line value at `path` with `comment`
 * (removes it when undefined), so a comment never outlives the value it
 * described. Nothing for a value spanning lines or a missing key.
 */
export function setComment(parsed: ParsedYaml, path: Path, comment?: string): TextEdit[] {
  const node = exactSourceAt(parsed.root, path);
  if (!node?.keyRange || node.valueRange.start.line !== node.valueRange.end.line) return [];
  const { line, character } = node.valueRange.end;
  const rest = lineText(parsed.text, line).slice(character);
  if (!/^\s*(#.*)?\r?$/.test(rest)) return [];
  const end = { line, character: character + rest.replace(/\r$/, '').length };
  const newText = comment ? ` # ${comment}` : '';
  if (rest.replace(/\r$/, '') === newText) return [];
  return [{ range: { start: { line, character }, end }, newText }];
}

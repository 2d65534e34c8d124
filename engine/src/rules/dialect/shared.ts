// Helpers of the dialect rules: these read the tool's own (flat) keys, not
// the native view, and report on them.

import { setKey } from '../../edits';
import { exactSourceAt, isRecord } from '../../parse';
import type { Path, Range, TextEdit } from '../../types';
import type { RuleContext } from '../context';

/** The config as the tool reads it (top-level mapping). */
export function raw(ctx: RuleContext): Record<string, unknown> {
  return isRecord(ctx.parsed.value) ? ctx.parsed.value : {};
}

/** The value of a top-level key; null counts as absent. */
export function rawValue(ctx: RuleContext, key: string): unknown {
  const config = raw(ctx);
  const v = Object.prototype.hasOwnProperty.call(config, key) ? config[key] : undefined;
  return v === null ? undefined : v;
}

/** Range of a top-level key (or its value), or of the first of `fallbacks` present, or line 1. */
export function keyRange(
  ctx: RuleContext,
  keys: string | readonly string[],
  on: 'key' | 'value' = 'value',
): Range {
  for (const key of typeof keys === 'string' ? [keys] : keys) {
    const node = exactSourceAt(ctx.parsed.root, [key]);
    if (node) return on === 'key' ? (node.keyRange ?? node.valueRange) : node.valueRange;
  }
  const first = ctx.parsed.text.split('\n', 1)[0] ?? '';
  return { start: { line: 0, character: 0 }, end: { line: 0, character: first.length } };
}

/** Sets a top-level `key: text` (replacing the value when the key exists). */
export function setTop(ctx: RuleContext, key: string, text: string): TextEdit[] {
  return setKey(ctx.parsed, [], key, text);
}

/** 12,345 */
export function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** Range of the value at a path of the tool's own config, or of line 1. */
export function pathRange(ctx: RuleContext, path: Path): Range {
  const node = exactSourceAt(ctx.parsed.root, path);
  return node ? node.valueRange : keyRange(ctx, []);
}

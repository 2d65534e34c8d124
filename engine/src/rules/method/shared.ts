// Small helpers shared by the method, adapter and trainer rules: where to
// report a key that may be missing, and quick-fix edits that stay valid YAML
// when the value being replaced is empty or a block spanning several lines.

import { exactSourceAt } from '../../parse';
import type { Path, Range, TextEdit } from '../../types';
import type { RuleContext } from '../context';

/**
 * Where to report `path`: its value when it exists (its key when the value is
 * empty); when it is missing, the
 * key of the nearest enclosing section that exists; when the whole top-level
 * section is missing too, the `method` value (the line that decides what the
 * config must hold), else the first line.
 */
export function reportRange(ctx: RuleContext, path: Path): Range {
  if (ctx.has(path)) {
    const value = ctx.rangeAt(path);
    const empty =
      value.start.line === value.end.line && value.start.character === value.end.character;
    // `key:` with nothing after it: the key is what there is to point at.
    return empty ? ctx.rangeAt(path, 'key') : value;
  }
  if (path.length > 1 && ctx.has([path[0]])) return ctx.rangeAt(path, 'key');
  return ctx.rangeAt(['method']);
}

/**
 * Sets `key: valueText` in the mapping at `section` like `ctx.edit.set`, but
 * also when the present value is empty (`key:` with nothing after it) or a
 * block on the following lines (`key:\n  - a\n  - b`), which it replaces by a
 * value on the key's own line.
 */
export function setValue(
  ctx: RuleContext,
  section: Path,
  key: string,
  valueText: string,
): TextEdit[] {
  const node = exactSourceAt(ctx.parsed.root, [...section, key]);
  if (!node?.keyRange) return ctx.edit.set(section, key, valueText);
  const lines = ctx.parsed.text.split('\n');
  const keyLine = node.keyRange.start.line;
  const value = node.valueRange;
  const colon = (lines[keyLine] ?? '').indexOf(':', node.keyRange.end.character);
  const afterColon = { line: keyLine, character: colon + 1 };
  const empty =
    value.start.line === value.end.line && value.start.character === value.end.character;
  if (colon >= 0 && empty)
    return [{ range: { start: afterColon, end: value.end }, newText: ` ${valueText}` }];
  if (colon >= 0 && value.start.line > keyLine) {
    // The library ends a block value at the start of the next line: stop at
    // the last line that holds content instead, so what follows stays put.
    let endLine = value.end.character === 0 ? value.end.line - 1 : value.end.line;
    while (endLine > keyLine && (lines[endLine] ?? '').trim() === '') endLine--;
    const end = { line: endLine, character: (lines[endLine] ?? '').length };
    return [{ range: { start: afterColon, end }, newText: ` ${valueText}` }];
  }
  return ctx.edit.set(section, key, valueText);
}

/** A parameter count as people say it: 8.03B, 494M, 12k. */
export function formatParams(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2).replace(/\.?0+$/, '')}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1).replace(/\.0$/, '')}M`;
  return `${Math.round(n / 1e3)}k`;
}

/** Bytes in decimal gigabytes (storage sizes), e.g. 48.2 GB. */
export function formatGB(bytes: number): string {
  const gb = bytes / 1e9;
  return `${gb >= 100 ? Math.round(gb) : gb >= 10 ? gb.toFixed(1) : gb.toFixed(2)} GB`;
}

/** Bytes in GiB (memory sizes), e.g. 60.0 GiB. */
export function formatGiB(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
}

/** The model's name for messages: 'Llama 3.1 8B' or its id. */
export function modelName(ctx: RuleContext): string {
  return ctx.model?.displayName ?? ctx.model?.id ?? ctx.plan.model.nameOrPath ?? 'the model';
}

/** A number read from the config, or undefined when absent or not a finite number. */
export function numberAt(ctx: RuleContext, path: Path): number | undefined {
  const v = ctx.value(path);
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

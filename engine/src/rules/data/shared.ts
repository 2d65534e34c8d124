// Helpers shared by the data rules: which data files the config names, with
// the config path of each (for ranges) and its summary; where to report a key
// that may be missing.

import type { DataFileSummary } from '../../data/types';
import type { Path, Range } from '../../types';
import type { RuleContext } from '../context';

export interface NamedDataFile {
  /** The key as users read it: `data.train_file`, `data.eval_file`, `data.general_data.file`. */
  key: string;
  /** Config path of the value. */
  path: Path;
  /** The path as written in the config. */
  written: string;
  summary: DataFileSummary;
}

/** The data files the config names and the data reader summarised, in config order. */
export function namedDataFiles(ctx: RuleContext): NamedDataFile[] {
  const entries: [string, Path, string | undefined, DataFileSummary | undefined][] = [
    ['data.train_file', ['data', 'train_file'], ctx.plan.data.trainFile, ctx.data.train],
    ['data.eval_file', ['data', 'eval_file'], ctx.plan.data.evalFile, ctx.data.eval],
    [
      'data.general_data.file',
      ['data', 'general_data', 'file'],
      ctx.plan.data.generalDataFile,
      ctx.data.general,
    ],
  ];
  const result: NamedDataFile[] = [];
  for (const [key, configPath, written, summary] of entries) {
    if (written !== undefined && summary) result.push({ key, path: configPath, written, summary });
  }
  return result;
}

/** How to name a data file in a message: as written (the range is on it; data-file-missing gives the resolved path). */
export function describeFile(file: NamedDataFile): string {
  return `\`${file.written}\``;
}

/**
 * Where to report `path`: its value when it exists; when it is missing, the
 * key of the nearest enclosing section that exists; when the top-level
 * section is missing too, the `method` value, else the first line.
 */
export function reportRange(ctx: RuleContext, configPath: Path): Range {
  if (ctx.has(configPath)) return ctx.rangeAt(configPath);
  if (configPath.length > 1 && ctx.has([configPath[0]])) return ctx.rangeAt(configPath, 'key');
  return ctx.rangeAt(['method']);
}

/** 12,345 */
export function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** The largest number of a list (Math.max(...list) overflows the stack on large lists). */
export function maxOf(values: readonly number[]): number {
  let max = -Infinity;
  for (const v of values) if (v > max) max = v;
  return max;
}

// Helpers of the evaluation rules: whether the config holds out data to
// evaluate on (each tool says it its own way), and the state of a file the
// evaluation section names.

import * as fs from 'node:fs';
import { resolveDataPath } from '../../data/inspect';
import type { Range } from '../../types';
import type { RuleContext } from '../context';
import { keyRange, rawValue } from '../dialect/shared';

/** An eval split: where it is said, how to add one, or that it cannot be told from the file. */
export type EvalSplit =
  { present: true } | { present: false; range: Range; howToAdd: string } | { present: undefined };

const positive = (v: unknown) => typeof v === 'number' && v > 0;
const nonEmptyList = (v: unknown) => Array.isArray(v) && v.length > 0;

/**
 * The config's held-out data. Native: `data.eval_file`. Axolotl: `val_set_size`
 * or `test_datasets`. LLaMA-Factory: `val_size` or `eval_dataset`. TRL's script
 * takes the split from the dataset (`dataset_test_split`), which the file does
 * not show: unknown. Unknown too when the config names no training data.
 */
export function evalSplit(ctx: RuleContext): EvalSplit {
  switch (ctx.dialect) {
    case 'native':
      if (ctx.has(['data', 'eval_file'])) return { present: true };
      if (!ctx.has(['data'])) return { present: undefined };
      return {
        present: false,
        range: ctx.rangeAt(['data'], 'key'),
        howToAdd:
          'Add `data.eval_file`: a JSON Lines file of 5-10% of the examples (a few hundred rows), held out of `train_file`',
      };
    case 'axolotl':
      if (positive(rawValue(ctx, 'val_set_size')) || nonEmptyList(rawValue(ctx, 'test_datasets')))
        return { present: true };
      if (rawValue(ctx, 'datasets') === undefined) return { present: undefined };
      return {
        present: false,
        range: keyRange(ctx, 'datasets', 'key'),
        howToAdd:
          'Add `val_set_size: 0.05` (5% of the data held out) or `test_datasets` (a separate file)',
      };
    case 'llamafactory':
      if (positive(rawValue(ctx, 'val_size')) || rawValue(ctx, 'eval_dataset') !== undefined)
        return { present: true };
      if (rawValue(ctx, 'dataset') === undefined) return { present: undefined };
      return {
        present: false,
        range: keyRange(ctx, 'dataset', 'key'),
        howToAdd:
          'Add `val_size: 0.05` (5% of the data held out) or `eval_dataset` (a separate dataset)',
      };
    default:
      return { present: undefined };
  }
}

export type FileState = 'file' | 'missing' | 'folder' | 'other';

/**
 * What is at a path the evaluation section names, relative to the config's
 * folder; undefined when that cannot be told (relative path of an unsaved
 * config) or the editor may not look (permissions).
 */
export function fileState(
  written: string,
  configDir: string | undefined,
): { state: FileState; absPath: string } | undefined {
  const absPath = resolveDataPath(written, configDir);
  if (absPath === undefined) return undefined;
  try {
    const stat = fs.statSync(absPath);
    const state = stat.isFile() ? 'file' : stat.isDirectory() ? 'folder' : 'other';
    return { state, absPath };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR' ? { state: 'missing', absPath } : undefined;
  }
}

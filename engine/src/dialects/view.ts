// A dialect config seen as the native config it amounts to. The rules and the
// estimator are written against native paths (`lora.r`, `training.optim`); a
// view gives them the equivalent native value, and tells where each native
// path lives in the dialect's file (for ranges) and how a native key is
// written in the dialect (for quick fixes and messages).

import { isRecord } from '../parse';
import type { Dialect, Path } from '../types';

/** Where a native path's value came from in the dialect file. */
export interface SourceEntry {
  native: Path;
  dialect: Path;
  /** The dialect value is a comma-separated string that stands for the native list. */
  commaList?: boolean;
}

/** How a native key is written in the dialect: a path and the value text, or nothing. */
export interface DialectWrite {
  path: Path;
  text: string;
}

export interface DialectView {
  dialect: Exclude<Dialect, 'native'>;
  /** The dialect config as written. */
  config: Record<string, unknown>;
  /** The equivalent native config, with the tool's defaults where they differ from native ones. */
  value: Record<string, unknown>;
  sources: SourceEntry[];
  /**
   * Dialect keys to point at when a native path has no source, by native
   * top-level section (`*` for any); the first one present in the file wins.
   */
  anchors: Record<string, Path[]>;
  /** Writes native `path: text` in the dialect; undefined when it has no simple equivalent. */
  write(path: Path, text: string): DialectWrite | undefined;
  /**
   * Native paths whose value the tool derives from other keys (Axolotl's
   * model dtype follows `bf16`): the plan uses them, rules reading raw keys
   * do not see them, so no message tells the user to set them.
   */
  derived: Path[];
  /** Native key (dotted path or bare name) → the dialect's key, for messages. */
  keyNames: Record<string, string>;
  /** False when the estimator's model of training does not apply (RL stages, freeze tuning). */
  estimable: boolean;
}

/** The entry that holds `path`: the source with the longest native prefix of it. */
export function locate(
  view: DialectView,
  path: Path,
): { path: Path; commaIndex?: number } | undefined {
  let best: SourceEntry | undefined;
  for (const entry of view.sources) {
    if (entry.native.length > path.length) continue;
    if (!entry.native.every((s, i) => s === path[i])) continue;
    if (!best || entry.native.length > best.native.length) best = entry;
  }
  if (!best) return undefined;
  const rest = path.slice(best.native.length);
  if (best.commaList && rest.length === 1 && typeof rest[0] === 'number') {
    return { path: best.dialect, commaIndex: rest[0] };
  }
  return { path: [...best.dialect, ...rest] };
}

/** The dialect path to point at for a native path without a source. */
export function anchorFor(
  view: DialectView,
  path: Path,
  exists: (p: Path) => boolean,
): Path | undefined {
  const section = String(path[0] ?? '');
  for (const candidate of [...(view.anchors[section] ?? []), ...(view.anchors['*'] ?? [])]) {
    if (exists(candidate)) return candidate;
  }
  return undefined;
}

const num = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) ? v : undefined;

/**
 * Collects the native view of a flat dialect config: values are copied or
 * derived from dialect keys, each with its source, and tool defaults are set
 * without one.
 */
export class ViewBuilder {
  readonly value: Record<string, unknown> = {};
  readonly sources: SourceEntry[] = [];
  readonly derived: Path[] = [];

  constructor(readonly config: Record<string, unknown>) {}

  /** The dialect value of `key`; null and absent are both undefined. */
  get(key: string): unknown {
    const v = Object.prototype.hasOwnProperty.call(this.config, key) ? this.config[key] : undefined;
    return v === null ? undefined : v;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  str(key: string): string | undefined {
    const v = this.get(key);
    return typeof v === 'string' ? v : undefined;
  }

  num(key: string): number | undefined {
    const v = this.get(key);
    if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
    return num(v);
  }

  bool(key: string): boolean | undefined {
    const v = this.get(key);
    return typeof v === 'boolean' ? v : undefined;
  }

  /** Sets a native value; `from` records the dialect key it came from. */
  set(native: Path, value: unknown, from?: string | Path, commaList?: boolean): void {
    if (value === undefined) return;
    let target = this.value;
    for (const segment of native.slice(0, -1)) {
      const key = String(segment);
      if (!isRecord(target[key])) target[key] = {};
      target = target[key] as Record<string, unknown>;
    }
    target[String(native[native.length - 1])] = value;
    if (from !== undefined)
      this.source(native, typeof from === 'string' ? [from] : from, commaList);
  }

  /** Sets a value the tool derives from other keys (see DialectView.derived). */
  derive(native: Path, value: unknown): void {
    this.set(native, value);
    this.derived.push(native);
  }

  source(native: Path, dialect: Path, commaList?: boolean): void {
    this.sources.push({ native, dialect, commaList });
  }

  /** Copies dialect `key` to native `path` when present, through `read`. */
  copy(key: string, native: Path, read: (v: unknown) => unknown = (v) => v): void {
    const v = this.get(key);
    if (v === undefined) return;
    const converted = read(v);
    if (converted === undefined) return;
    this.set(native, converted, key);
  }
}

/** `a, b ,c` → ['a', 'b', 'c']. */
export function commaList(v: unknown): string[] | undefined {
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  if (typeof v !== 'string') return undefined;
  return v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** A DeepSpeed ZeRO stage from an inline config or a file name such as `ds_z3_config.json`. */
export function zeroStage(deepspeed: unknown): 0 | 1 | 2 | 3 | undefined {
  if (isRecord(deepspeed)) {
    const zero = deepspeed.zero_optimization;
    const stage = isRecord(zero) ? zero.stage : undefined;
    return stage === 0 || stage === 1 || stage === 2 || stage === 3 ? stage : undefined;
  }
  if (typeof deepspeed !== 'string') return undefined;
  const match = /(?:zero|z)[_-]?([0-3])(?![0-9])/i.exec(deepspeed.split(/[\\/]/).pop() ?? '');
  return match ? (Number(match[1]) as 0 | 1 | 2 | 3) : undefined;
}

/** Reads a YAML scalar text as written by a rule (`true`, `2.0e-4`, `[a, b]`, `all-linear`). */
export function scalarText(text: string): unknown {
  const t = text.trim();
  if (t === 'true' || t === 'false') return t === 'true';
  if (t !== '' && Number.isFinite(Number(t))) return Number(t);
  if (t.startsWith('[') && t.endsWith(']')) {
    return t
      .slice(1, -1)
      .split(',')
      .map((s) => s.trim().replace(/^["']|["']$/g, ''))
      .filter(Boolean);
  }
  return t.replace(/^["']|["']$/g, '');
}

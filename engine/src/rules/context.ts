// The small shared context every rule reads: the parsed config and its plan,
// the model architecture, the data summary and the GPU. Built once per analysis.

import { removeKey, replaceValue, setKey } from '../edits';
import type { GpuSpec } from '../hardware/types';
import type { ModelArchitecture } from '../models/types';
import { exactSourceAt, sourceAt, valueAt, type ParsedYaml } from '../parse';
import type { Plan } from '../plan';
import type { DataSummary } from '../data/types';
import type { MemoryEstimate } from '../estimate/types';
import { anchorFor, locate, type DialectView } from '../dialects/view';
import type { Dialect, Path, Range, TextEdit } from '../types';

export interface RuleContext {
  parsed: ParsedYaml;
  /** The dialect the file is written in; rules read it through native paths either way. */
  dialect: Dialect;
  /**
   * The config's top-level mapping, as native config: for another dialect,
   * the native config it amounts to (dialects/view.ts).
   */
  config: Record<string, unknown>;
  plan: Plan;
  /** Undefined when the architecture is unknown: model-dependent rules stay silent. */
  model: ModelArchitecture | undefined;
  /** Why the architecture is unknown, when it is. */
  modelError: string | undefined;
  data: DataSummary;
  gpu: GpuSpec | undefined;
  /**
   * The GPU name the run was given (`hardware.gpu`, a modeline or `--gpu`)
   * when it names no catalog card: `gpu` is then undefined and every
   * GPU-dependent check is off, which `gpu-unknown` reports.
   */
  gpuUnknown: string | undefined;
  /**
   * Peak memory per GPU; undefined when the model's architecture is unknown,
   * and when a number it depends on is unusable (`plan.invalidNumbers`: an
   * estimate for the default would pass for one of the config).
   */
  estimate: MemoryEstimate | undefined;
  /** Launch target's OS when known ('windows' for a local launch from a Windows editor). */
  targetOs: 'linux' | 'windows' | 'darwin' | undefined;
  /** Directory of the config file (data paths are relative to it); undefined for unsaved files. */
  configDir: string | undefined;
  /** True when native `path` exists in the config (for a dialect: in its native view). */
  has(path: Path): boolean;
  value(path: Path): unknown;
  /**
   * Range to report at for a native path: the value (or key) when `path`
   * exists; else the key of the nearest enclosing section that exists; else
   * the first line. For a dialect, the key the value came from, or the key
   * that decides the native section (`adapter` for `lora`).
   */
  rangeAt(path: Path, on?: 'key' | 'value'): Range;
  /** Range of a plan field through `plan.where` (which holds the dialect's own paths). */
  fieldRange(field: string, on?: 'key' | 'value'): Range;
  /**
   * Edits by native path. For a dialect they are written in the dialect's
   * keys, and are empty where the dialect has no simple equivalent.
   */
  edit: {
    set(section: Path, key: string, valueText: string): TextEdit[];
    replace(path: Path, text: string): TextEdit[];
    remove(path: Path): TextEdit[];
    /** `set` on any parsed text (for edits chained over several re-parses). */
    setIn(parsed: ParsedYaml, section: Path, key: string, valueText: string): TextEdit[];
  };
}

export function createRuleContext(input: {
  parsed: ParsedYaml;
  plan: Plan;
  model: ModelArchitecture | undefined;
  modelError: string | undefined;
  data: DataSummary;
  gpu: GpuSpec | undefined;
  estimate?: MemoryEstimate;
  targetOs?: 'linux' | 'windows' | 'darwin';
  configDir: string | undefined;
  /** The native view of a config of another dialect. */
  view?: DialectView;
}): RuleContext {
  const { parsed, plan, view } = input;
  if (view) return createDialectContext({ ...input, view });
  const derived = derivedFields(input);
  const config = (parsed.value && typeof parsed.value === 'object' ? parsed.value : {}) as Record<
    string,
    unknown
  >;
  const firstLine: Range = {
    start: { line: 0, character: 0 },
    end: { line: 0, character: (parsed.text.split('\n', 1)[0] ?? '').length },
  };
  const rangeAt = (path: Path, on: 'key' | 'value' = 'value'): Range => {
    const exact = exactSourceAt(parsed.root, path);
    if (exact) return on === 'key' ? (exact.keyRange ?? exact.valueRange) : exact.valueRange;
    const ancestor = sourceAt(parsed.root, path);
    return ancestor?.keyRange ?? firstLine;
  };
  return {
    ...input,
    dialect: 'native',
    targetOs: input.targetOs,
    ...derived,
    config,
    has: (path) => exactSourceAt(parsed.root, path) !== undefined,
    value: (path) => valueAt(config, path),
    rangeAt,
    fieldRange: (field, on) => rangeAt(plan.where[field] ?? [], on),
    edit: {
      set: (section, key, valueText) => setKey(parsed, section, key, valueText),
      replace: (path, text) => replaceValue(parsed, path, text),
      remove: (path) => removeKey(parsed, path),
      setIn: (p, section, key, valueText) => setKey(p, section, key, valueText),
    },
  };
}

type ContextInput = Parameters<typeof createRuleContext>[0] & { view: DialectView };

/** The fields every context derives from its input the same way, whatever the dialect. */
function derivedFields(
  input: Parameters<typeof createRuleContext>[0],
): Pick<RuleContext, 'estimate' | 'gpuUnknown'> {
  const { plan } = input;
  const named = plan.hardware.gpu;
  return {
    estimate: plan.invalidNumbers?.length ? undefined : input.estimate,
    gpuUnknown: typeof named === 'string' && !input.gpu ? named : undefined,
  };
}

/** The context of a config of another dialect: native paths are read from its view. */
function createDialectContext(input: ContextInput): RuleContext {
  const { parsed, plan, view } = input;
  const derived = derivedFields(input);
  const firstLine: Range = {
    start: { line: 0, character: 0 },
    end: { line: 0, character: (parsed.text.split('\n', 1)[0] ?? '').length },
  };
  const exists = (p: Path) => exactSourceAt(parsed.root, p) !== undefined;
  const hidden = (p: Path) =>
    view.derived.some((d) => d.length === p.length && d.every((s, i) => s === p[i]));
  /** Range of a dialect path, or of its anchor. */
  const rawRange = (path: Path, on: 'key' | 'value', native?: Path): Range => {
    const exact = exactSourceAt(parsed.root, path);
    if (exact) return on === 'key' ? (exact.keyRange ?? exact.valueRange) : exact.valueRange;
    const anchor = native ? anchorFor(view, native, exists) : undefined;
    const node = anchor ? exactSourceAt(parsed.root, anchor) : undefined;
    return node?.keyRange ?? firstLine;
  };
  const rangeAt = (path: Path, on: 'key' | 'value' = 'value'): Range => {
    const found = locate(view, path);
    if (!found) {
      const anchor = anchorFor(view, path, exists);
      return anchor ? rawRange(anchor, 'key') : firstLine;
    }
    if (found.commaIndex !== undefined) {
      const node = exactSourceAt(parsed.root, found.path);
      if (node) return commaItemRange(parsed.text, node.valueRange, found.commaIndex);
    }
    return rawRange(found.path, on, path);
  };
  const written = (path: Path, text: string) => view.write(path, text);
  const setIn = (p: ParsedYaml, section: Path, key: string, valueText: string): TextEdit[] => {
    const w = written([...section, key], valueText);
    if (!w) return [];
    return setKey(p, w.path.slice(0, -1), String(w.path[w.path.length - 1]), w.text);
  };
  return {
    ...input,
    dialect: view.dialect,
    targetOs: input.targetOs,
    ...derived,
    config: view.value,
    has: (path) => !hidden(path) && valueAt(view.value, path) !== undefined,
    value: (path) => (hidden(path) ? undefined : valueAt(view.value, path)),
    rangeAt,
    fieldRange: (field, on = 'value') => {
      const where = plan.where[field];
      return where ? rawRange(where, on, undefined) : firstLine;
    },
    edit: {
      set: (section, key, valueText) => setIn(parsed, section, key, valueText),
      replace: (path, text) =>
        setIn(parsed, path.slice(0, -1), String(path[path.length - 1]), text),
      remove: (path) => {
        const found = locate(view, path);
        return found && found.commaIndex === undefined ? removeKey(parsed, found.path) : [];
      },
      setIn,
    },
  };
}

/** The range of the `index`-th item of a comma-separated scalar on one line. */
function commaItemRange(text: string, value: Range, index: number): Range {
  if (value.start.line !== value.end.line) return value;
  const line = text.split('\n')[value.start.line] ?? '';
  const raw = line.slice(value.start.character, value.end.character);
  const quote = /^["']/.test(raw) ? 1 : 0;
  let offset = value.start.character + quote;
  const parts = raw.slice(quote, raw.length - quote).split(',');
  for (let i = 0; i < parts.length; i++) {
    const lead = parts[i].length - parts[i].trimStart().length;
    if (i === index) {
      const start = offset + lead;
      const end = start + parts[i].trim().length;
      return {
        start: { line: value.start.line, character: start },
        end: { line: value.start.line, character: end },
      };
    }
    offset += parts[i].length + 1;
  }
  return value;
}

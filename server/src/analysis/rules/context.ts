// The small shared context every rule reads: the parsed config and its plan,
// the model architecture, the data summary and the GPU. Built once per analysis.

import { removeKey, replaceValue, setKey } from '../edits';
import type { GpuSpec } from '../hardware/types';
import type { ModelArchitecture } from '../models/types';
import { exactSourceAt, sourceAt, valueAt, type ParsedYaml } from '../parse';
import type { Plan } from '../plan';
import type { DataSummary } from '../data/types';
import type { MemoryEstimate } from '../estimate/types';
import type { Path, Range, TextEdit } from '../types';

export interface RuleContext {
  parsed: ParsedYaml;
  /** The config's top-level mapping. */
  config: Record<string, unknown>;
  plan: Plan;
  /** Undefined when the architecture is unknown: model-dependent rules stay silent. */
  model: ModelArchitecture | undefined;
  /** Why the architecture is unknown, when it is. */
  modelError: string | undefined;
  data: DataSummary;
  gpu: GpuSpec | undefined;
  /** Peak memory per GPU; undefined when the model's architecture is unknown. */
  estimate: MemoryEstimate | undefined;
  /** Launch target's OS when known ('windows' for a local launch from a Windows editor). */
  targetOs: 'linux' | 'windows' | 'darwin' | undefined;
  /** Directory of the config file (data paths are relative to it); undefined for unsaved files. */
  configDir: string | undefined;
  /** True when `path` exists in the config. */
  has(path: Path): boolean;
  value(path: Path): unknown;
  /**
   * Range to report at: the value (or key) when `path` exists; else the key of
   * the nearest enclosing section that exists; else the first line.
   */
  rangeAt(path: Path, on?: 'key' | 'value'): Range;
  /** Range of a plan field through `plan.where`. */
  fieldRange(field: string, on?: 'key' | 'value'): Range;
  edit: {
    set(section: Path, key: string, valueText: string): TextEdit[];
    replace(path: Path, text: string): TextEdit[];
    remove(path: Path): TextEdit[];
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
}): RuleContext {
  const { parsed, plan } = input;
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
    targetOs: input.targetOs,
    estimate: input.estimate,
    config,
    has: (path) => exactSourceAt(parsed.root, path) !== undefined,
    value: (path) => valueAt(config, path),
    rangeAt,
    fieldRange: (field, on) => rangeAt(plan.where[field] ?? [], on),
    edit: {
      set: (section, key, valueText) => setKey(parsed, section, key, valueText),
      replace: (path, text) => replaceValue(parsed, path, text),
      remove: (path) => removeKey(parsed, path),
    },
  };
}

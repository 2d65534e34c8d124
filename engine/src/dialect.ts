// Decides whether a YAML file is a fine-tuning config and in which dialect:
// Tunelab's own (native), Axolotl, LLaMA-Factory or TRL's CLI. Anything else
// (CI workflows, k8s manifests, ...) must get no diagnostics at all.

import { detectFromContent, mightBeDialectConfig, readModeline } from './dialects/detect';
import { isRecord } from './parse';
import type { Dialect } from './types';

const NATIVE_FILE_NAME = /\.finetune\.ya?ml$/i;
const METHODS = new Set(['full', 'lora', 'qlora']);

/** True when the file name alone marks a native config. */
export function isNativeFileName(fileName: string): boolean {
  return NATIVE_FILE_NAME.test(fileName);
}

/**
 * Cheap pre-check before parsing: a file whose name does not mark it, whose
 * text has no top-level `method:` line, no `base_model:` / `model_name_or_path:`
 * line and no `# tunelab:` modeline cannot be a config.
 */
export function mightBeConfig(fileName: string, text: string): boolean {
  return isNativeFileName(fileName) || /^method[ \t]*:/m.test(text) || mightBeDialectConfig(text);
}

/**
 * Detects the dialect. In order: the `override` (a setting), a
 * `# tunelab: dialect=...` modeline in `text`, a `.finetune.yaml` name, then
 * the content (native `method` + `model`, then the other tools' keys).
 */
export function detectDialect(
  fileName: string,
  value: unknown,
  text?: string,
  override?: Dialect,
): Dialect | null {
  if (override) return override;
  const modeline = text !== undefined ? readModeline(text).dialect : undefined;
  if (modeline) return modeline;
  if (isNativeFileName(fileName)) return 'native';
  if (!isRecord(value)) return null;
  const method = value.method;
  if (typeof method === 'string' && METHODS.has(method) && isRecord(value.model)) return 'native';
  return detectFromContent(value) ?? null;
}

// Decides whether a YAML file is a Tunelab config. Anything else (CI
// workflows, k8s manifests, ...) must get no diagnostics at all.

import { isRecord } from './parse';
import type { Dialect } from './types';

const NATIVE_FILE_NAME = /\.finetune\.ya?ml$/i;
const METHODS = new Set(['full', 'lora', 'qlora']);

/** True when the file name alone marks a native config. */
export function isNativeFileName(fileName: string): boolean {
  return NATIVE_FILE_NAME.test(fileName);
}

/**
 * Cheap pre-check before parsing: a file whose name does not mark it and whose
 * text has no top-level `method:` line cannot be a native config.
 */
export function mightBeConfig(fileName: string, text: string): boolean {
  return isNativeFileName(fileName) || /^method[ \t]*:/m.test(text);
}

/** Detects the dialect from the file name and the parsed top-level value. */
export function detectDialect(fileName: string, value: unknown): Dialect | null {
  if (isNativeFileName(fileName)) return 'native';
  if (!isRecord(value)) return null;
  const method = value.method;
  if (typeof method === 'string' && METHODS.has(method) && isRecord(value.model)) return 'native';
  return null;
}

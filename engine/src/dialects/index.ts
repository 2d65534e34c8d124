// Entry point of the dialect support: the native view of a parsed config of
// another tool, and the rewriting of rule messages into the tool's key names.

import { findGpu } from '../hardware/gpus';
import { isRecord, valueAt } from '../parse';
import type { Dialect, Finding, Path } from '../types';
import { axolotlView } from './axolotl';
import { readModeline } from './detect';
import { llamafactoryView } from './llamafactory';
import { trlView } from './trl';
import { anchorFor, locate, type DialectView } from './view';

/**
 * The native view of a config written for `dialect` (not native). The GPU
 * and GPU count come from a `# tunelab: gpu=... num_gpus=...` modeline, since
 * the tools' configs do not name the hardware.
 */
export function dialectView(
  dialect: Exclude<Dialect, 'native'>,
  value: unknown,
  text: string,
  gpuOverride?: string,
): DialectView {
  const config = isRecord(value) ? value : {};
  const modeline = readModeline(text);
  const gpuName = gpuOverride ?? modeline.gpu;
  const view =
    dialect === 'axolotl'
      ? axolotlView(config, { gpuBf16: gpuName ? findGpu(gpuName)?.bf16 : undefined })
      : dialect === 'llamafactory'
        ? llamafactoryView(config)
        : trlView(config);
  if (modeline.gpu || modeline.numGpus) {
    view.value.hardware = {
      ...(modeline.gpu ? { gpu: modeline.gpu } : {}),
      ...(modeline.numGpus ? { num_gpus: modeline.numGpus } : {}),
    };
  }
  return view;
}

/**
 * Rewrites the native key names inside backticks of a rule message into the
 * dialect's (`r: 8` → `lora_r: 8`, `data.max_length` → `sequence_len`),
 * translating a written value where the dialect spells it differently.
 */
export function rewriteMessage(view: DialectView, message: string): string {
  // Outside code spans, long native key names in prose (`(per_device_train_batch_size × ...)`).
  const words = Object.entries(view.keyNames).filter(([k]) => k.includes('_') && !k.includes('.'));
  const prose = (part: string) =>
    words.reduce(
      (text, [native, own]) => text.replace(new RegExp(`(?<![\\w.])${native}(?![\\w])`, 'g'), own),
      part,
    );
  const withProse = message
    .split(/(`[^`\n]*`)/)
    .map((part, i) => (i % 2 === 1 ? part : prose(part)))
    .join('');
  return withProse.replace(/`([^`\n]+)`/g, (whole, inner: string) => {
    const match = /^([A-Za-z_][\w.]*)(?::\s*(.*))?$/.exec(inner);
    if (!match) return whole;
    const [, name, value] = match;
    const dialectKey = view.keyNames[name];
    const nativePath = nativePathOf(name);
    // A value the config holds: show it as the user wrote it (`template: qwen`, not its family).
    const found = nativePath ? locate(view, nativePath) : undefined;
    if (value !== undefined && nativePath && found && found.commaIndex === undefined) {
      const shown = valueAt(view.value, nativePath);
      const raw = valueAt(view.config, found.path);
      if (isScalar(shown) && String(shown) === value && isScalar(raw))
        return `\`${found.path.map(String).join('.')}: ${String(raw)}\``;
    }
    if (value !== undefined && nativePath) {
      const written = view.write(nativePath, value);
      if (written) return `\`${written.path.map(String).join('.')}: ${written.text}\``;
    }
    // A dotted native path (`data.train_file`) names the key the value came from.
    if (!dialectKey && value === undefined && name.includes('.') && found)
      return `\`${formatPath(found.path)}\``;
    if (!dialectKey) return whole;
    return value === undefined ? `\`${dialectKey}\`` : `\`${dialectKey}: ${value}\``;
  });
}

/** `['datasets', 0, 'path']` → `datasets[0].path`. */
function formatPath(path: Path): string {
  return path.map((s, i) => (typeof s === 'number' ? `[${s}]` : i ? `.${s}` : s)).join('');
}

/** Native sections of bare key names that rules write in messages. */
const SECTION_OF: Record<string, string> = {
  r: 'lora',
  lora_alpha: 'lora',
  lora_dropout: 'lora',
  target_modules: 'lora',
  modules_to_save: 'lora',
  use_rslora: 'lora',
  max_length: 'data',
  chat_template: 'data',
  bnb_4bit_compute_dtype: 'quantization',
  bnb_4bit_quant_type: 'quantization',
  attn_implementation: 'model',
  dtype: 'model',
};

function isScalar(v: unknown): v is string | number | boolean {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
}

function nativePathOf(name: string): string[] | undefined {
  if (name.includes('.')) return name.split('.');
  if (SECTION_OF[name]) return [SECTION_OF[name], name];
  return ['training', name];
}

/** A finding of a rule, in the dialect's words; fixes that cannot be written are dropped. */
export function adaptFinding(view: DialectView, finding: Finding): Finding {
  const fixes = finding.fixes
    ?.filter((f) => f.edits.length > 0)
    .map((f) => ({ ...f, title: rewriteMessage(view, f.title) }));
  return {
    ...finding,
    message: rewriteMessage(view, finding.message),
    fixes: fixes?.length ? fixes : undefined,
  };
}

export type { DialectView } from './view';

/**
 * `plan.where` in the dialect's own paths: the key each plan field came from,
 * or the key that decides it when the tool's default applies.
 */
export function dialectWhere(
  view: DialectView,
  where: Record<string, Path>,
  exists: (p: Path) => boolean,
): Record<string, Path> {
  const result: Record<string, Path> = {};
  for (const [field, nativePath] of Object.entries(where)) {
    const found = locate(view, nativePath);
    const path = found && exists(found.path) ? found.path : anchorFor(view, nativePath, exists);
    if (path) result[field] = path;
  }
  return result;
}

// Writes the estimator's suggested plan changes back into the config text.

import { convertMethodEdits } from '../../convert/method';
import { chainEdits, setKey } from '../../edits';
import type { PlanChange } from '../../estimate/types';
import type { ParsedYaml } from '../../parse';
import type { Method } from '../../plan';
import type { Path, TextEdit } from '../../types';

/** Writes native `section.key: value` into a parsed text (the dialect's spelling for other dialects). */
type SetKey = (parsed: ParsedYaml, section: Path, key: string, valueText: string) => TextEdit[];

function stepFor(
  change: PlanChange,
  set: SetKey,
  native: boolean,
): (parsed: ParsedYaml) => TextEdit[] {
  const value = String(change.value);
  switch (change.field) {
    case 'training.gradientCheckpointing':
      return (p) => set(p, ['training'], 'gradient_checkpointing', value);
    case 'training.microBatch':
      return (p) => set(p, ['training'], 'per_device_train_batch_size', value);
    case 'training.evalBatch':
      return (p) => set(p, ['training'], 'per_device_eval_batch_size', value);
    case 'training.gradAccum':
      return (p) => set(p, ['training'], 'gradient_accumulation_steps', value);
    case 'method':
      return (p) => (native ? convertMethodEdits(p, change.value as Method) : []);
    case 'hardware.numGpus':
      return (p) => (native ? setKey(p, ['hardware'], 'num_gpus', value) : []);
    case 'distributed.backend':
      return (p) => (native ? setKey(p, ['launch', 'distributed'], 'backend', value) : []);
    case 'distributed.zeroStage':
      return (p) => (native ? setKey(p, ['launch', 'distributed'], 'zero_stage', value) : []);
    case 'quantization.quantStorage':
      return (p) => (native ? setKey(p, ['quantization'], 'bnb_4bit_quant_storage', value) : []);
    case 'export.dtype':
      return (p) => (native ? setKey(p, ['export'], 'dtype', value) : []);
  }
}

/**
 * The edits of the estimator's changes. `set` writes a native key in the
 * config's dialect; when one change cannot be written there (another tool's
 * method or GPU count), there is no fix at all rather than half of one.
 */
export function planChangeEdits(
  parsed: ParsedYaml,
  changes: readonly PlanChange[],
  set: SetKey = setKey,
  native = true,
): TextEdit[] {
  const steps = changes.map((c) => stepFor(c, set, native));
  if (!native && steps.some((step) => step(parsed).length === 0)) return [];
  return chainEdits(parsed.text, steps);
}

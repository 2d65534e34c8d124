// Writes the estimator's suggested plan changes back into the config text.

import { convertMethodEdits } from '../../convert/method';
import { chainEdits, setKey } from '../../edits';
import type { PlanChange } from '../../estimate/types';
import type { ParsedYaml } from '../../parse';
import type { Method } from '../../plan';
import type { TextEdit } from '../../types';

function stepFor(change: PlanChange): (parsed: ParsedYaml) => TextEdit[] {
  const value = String(change.value);
  switch (change.field) {
    case 'training.gradientCheckpointing':
      return (p) => setKey(p, ['training'], 'gradient_checkpointing', value);
    case 'training.microBatch':
      return (p) => setKey(p, ['training'], 'per_device_train_batch_size', value);
    case 'training.gradAccum':
      return (p) => setKey(p, ['training'], 'gradient_accumulation_steps', value);
    case 'method':
      return (p) => convertMethodEdits(p, change.value as Method);
    case 'hardware.numGpus':
      return (p) => setKey(p, ['hardware'], 'num_gpus', value);
    case 'distributed.backend':
      return (p) => setKey(p, ['launch', 'distributed'], 'backend', value);
    case 'distributed.zeroStage':
      return (p) => setKey(p, ['launch', 'distributed'], 'zero_stage', value);
  }
}

export function planChangeEdits(parsed: ParsedYaml, changes: readonly PlanChange[]): TextEdit[] {
  return chainEdits(parsed.text, changes.map(stepFor));
}

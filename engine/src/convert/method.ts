// Converts a native config from one method to another (full ⇄ LoRA ⇄ QLoRA):
// the sections the method needs or forbids, and the learning rate and
// optimizer that suit it. Used by the memory quick fix and the "convert"
// code actions.

import { chainEdits, removeKey, setKey, yamlScalar } from '../edits';
import { isRecord, valueAt, type ParsedYaml } from '../parse';
import type { Method } from '../plan';
import type { TextEdit } from '../types';

const LORA_LR = 2e-4;
const FULL_LR = 2e-5;

function learningRate(parsed: ParsedYaml): number | undefined {
  const lr = valueAt(parsed.value, ['training', 'learning_rate']);
  return typeof lr === 'number' ? lr : undefined;
}

function ensureLoraSection(parsed: ParsedYaml): TextEdit[] {
  if (isRecord(valueAt(parsed.value, ['lora']))) return [];
  return setKey(
    parsed,
    [],
    'lora',
    '\n  r: 16\n  lora_alpha: 32\n  lora_dropout: 0.05\n  target_modules: all-linear',
  );
}

export function convertMethodEdits(parsed: ParsedYaml, target: Method): TextEdit[] {
  type Step = (p: ParsedYaml) => TextEdit[];
  const steps: Step[] = [(p) => setKey(p, [], 'method', target)];
  if (target === 'qlora') {
    steps.push(
      (p) =>
        isRecord(valueAt(p.value, ['quantization']))
          ? []
          : setKey(
              p,
              [],
              'quantization',
              '\n  load_in_4bit: true\n  bnb_4bit_quant_type: nf4\n  bnb_4bit_compute_dtype: bfloat16\n  bnb_4bit_use_double_quant: true',
            ),
      (p) =>
        valueAt(p.value, ['prepare_model_for_kbit_training'])
          ? []
          : setKey(p, [], 'prepare_model_for_kbit_training', 'true'),
      ensureLoraSection,
      (p) => setKey(p, ['training'], 'optim', 'paged_adamw_8bit'),
    );
  } else {
    steps.push(
      (p) => removeKey(p, ['quantization']),
      (p) => removeKey(p, ['prepare_model_for_kbit_training']),
    );
  }
  if (target === 'lora') {
    steps.push(ensureLoraSection, (p) => {
      const optim = valueAt(p.value, ['training', 'optim']);
      return typeof optim === 'string' && optim.startsWith('paged')
        ? setKey(p, ['training'], 'optim', 'adamw_torch_fused')
        : [];
    });
  }
  if (target === 'full') {
    steps.push(
      (p) => removeKey(p, ['lora']),
      (p) => setKey(p, ['training'], 'gradient_checkpointing', 'true'),
    );
  }
  steps.push((p) => {
    const lr = learningRate(p);
    const wanted = target === 'full' ? FULL_LR : LORA_LR;
    const fits =
      lr !== undefined && (target === 'full' ? lr >= 1e-6 && lr <= 1e-4 : lr >= 5e-5 && lr <= 1e-3);
    return fits ? [] : setKey(p, ['training'], 'learning_rate', yamlScalar(wanted));
  });
  return chainEdits(parsed.text, steps);
}

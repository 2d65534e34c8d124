// Converts a native config from one method to another (full ⇄ LoRA ⇄ QLoRA):
// the sections the method needs or forbids, and the learning rate and
// optimizer that suit it. Used by the memory quick fix, the method
// recommendation and the "convert" code actions.
//
// `convertMethodEdits` changes the text; `planWithMethod` is the same change on
// a Plan, for the estimator's fix search (no text there). Both read the same
// default sections below, and the consistency test re-estimates the edited text
// against the plan, so the two cannot drift apart unnoticed.

import { chainEdits, removeKey, setKey, yamlScalar } from '../edits';
import { buildNativePlan } from '../nativePlan';
import { isRecord, valueAt, type ParsedYaml } from '../parse';
import type { Method, Plan } from '../plan';
import type { TextEdit } from '../types';

const LORA_LR = 2e-4;
const FULL_LR = 2e-5;
const QLORA_OPTIMIZER = 'paged_adamw_8bit';
/** The optimizer a paged (QLoRA) optimizer becomes without a quantized base. */
const UNPAGED_OPTIMIZER = 'adamw_torch_fused';

/** The `lora` section written when a config has none. */
const DEFAULT_LORA_SECTION = {
  r: 16,
  lora_alpha: 32,
  lora_dropout: 0.05,
  target_modules: 'all-linear',
} as const;

/** The `quantization` section written for QLoRA when a config has none. */
const DEFAULT_QUANTIZATION_SECTION = {
  load_in_4bit: true,
  bnb_4bit_quant_type: 'nf4',
  bnb_4bit_compute_dtype: 'bfloat16',
  bnb_4bit_use_double_quant: true,
} as const;

function blockText(section: Record<string, string | number | boolean>): string {
  return Object.entries(section)
    .map(([key, value]) => `\n  ${key}: ${yamlScalar(value)}`)
    .join('');
}

function learningRate(parsed: ParsedYaml): number | undefined {
  const lr = valueAt(parsed.value, ['training', 'learning_rate']);
  return typeof lr === 'number' ? lr : undefined;
}

function ensureLoraSection(parsed: ParsedYaml): TextEdit[] {
  if (isRecord(valueAt(parsed.value, ['lora']))) return [];
  return setKey(parsed, [], 'lora', blockText(DEFAULT_LORA_SECTION));
}

export function convertMethodEdits(parsed: ParsedYaml, target: Method): TextEdit[] {
  type Step = (p: ParsedYaml) => TextEdit[];
  const steps: Step[] = [(p) => setKey(p, [], 'method', target)];
  if (target === 'qlora') {
    steps.push(
      (p) =>
        isRecord(valueAt(p.value, ['quantization']))
          ? []
          : setKey(p, [], 'quantization', blockText(DEFAULT_QUANTIZATION_SECTION)),
      (p) =>
        valueAt(p.value, ['prepare_model_for_kbit_training'])
          ? []
          : setKey(p, [], 'prepare_model_for_kbit_training', 'true'),
      ensureLoraSection,
      (p) => setKey(p, ['training'], 'optim', QLORA_OPTIMIZER),
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
        ? setKey(p, ['training'], 'optim', UNPAGED_OPTIMIZER)
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

const DEFAULT_SECTIONS_PLAN = buildNativePlan({
  method: 'qlora',
  lora: DEFAULT_LORA_SECTION,
  quantization: DEFAULT_QUANTIZATION_SECTION,
});

/** The plan of the config `convertMethodEdits(…, target)` writes, without the text. */
export function planWithMethod(plan: Plan, target: Method): Plan {
  const training = { ...plan.training };
  let { quantization, prepareKbit, lora } = plan;
  if (target === 'qlora') {
    quantization ??= DEFAULT_SECTIONS_PLAN.quantization;
    prepareKbit = true;
    lora ??= DEFAULT_SECTIONS_PLAN.lora;
    training.optimizer = QLORA_OPTIMIZER;
  } else {
    quantization = undefined;
    prepareKbit = false;
  }
  if (target === 'lora') {
    lora ??= DEFAULT_SECTIONS_PLAN.lora;
    if (training.optimizer.startsWith('paged')) training.optimizer = UNPAGED_OPTIMIZER;
  }
  if (target === 'full') {
    lora = undefined;
    training.gradientCheckpointing = true;
  }
  return {
    ...plan,
    method: target,
    quantization: quantization && { ...quantization },
    prepareKbit,
    lora: lora && { ...lora, modulesToSave: [...lora.modulesToSave] },
    training,
  };
}

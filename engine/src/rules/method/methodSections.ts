import { isRecord } from '../../parse';
import type { Method } from '../../plan';
import type { RuleContext } from '../context';
import type { Rule, RuleHit } from '../rule';

/** The method the sections present describe, or undefined when they fit none. */
export function describedMethod(ctx: RuleContext): Method | undefined {
  const quantization = ctx.has(['quantization']);
  const lora = ctx.has(['lora']);
  const kbit = prepareKbitOn(ctx);
  if (quantization) return lora ? 'qlora' : undefined;
  if (kbit) return undefined;
  return lora ? 'lora' : 'full';
}

/** `prepare_model_for_kbit_training` given and switched on (true or an options mapping). */
function prepareKbitOn(ctx: RuleContext): boolean {
  const v = ctx.value(['prepare_model_for_kbit_training']);
  return v === true || isRecord(v);
}

export const methodSections: Rule = {
  code: 'method-sections',
  severity: 'error',
  // Native-only: reads keys (or runner behaviour) the other dialects do not have.
  dialects: ['native'],
  doc: {
    title: 'Sections that do not match the method',
    why: 'The runner builds the model from `method` and passes each section through as keyword arguments: `quantization` to BitsAndBytesConfig, `lora` to peft.LoraConfig. A `quantization` section with `method: lora` loads a quantized base under a plan (and an estimate) for 16-bit LoRA; a `lora` section with `method: full` is ignored while every weight trains, with about ten times the memory; `method: qlora` without `quantization` loads the base in 16 bits; lora and qlora need the adapter settings of a `lora` section.',
    fix: 'Change `method` to what the sections describe (quantization + lora: qlora; lora alone: lora; neither: full), or add / remove the section.',
    thresholds:
      'The table "Sections by method" of config.md: `quantization` only with qlora (required there); `prepare_model_for_kbit_training` only with qlora (switched on: true or an options mapping; `false` is harmless anywhere; missing or false under qlora is `qlora-prepare-kbit`); `lora` required with lora and qlora, not allowed with full.',
  },
  check(ctx) {
    const method = ctx.plan.method;
    if (!method) return [];
    const problems: { message: string; range: RuleHit['range'] }[] = [];
    const hasQuantization = ctx.has(['quantization']);
    const hasLora = ctx.has(['lora']);

    if (hasQuantization && method !== 'qlora') {
      problems.push({
        message:
          method === 'lora'
            ? '`quantization` is not allowed with `method: lora`: the base model would load quantized while the plan and the memory estimate assume 16-bit LoRA (LoRA on a 4-bit or 8-bit base is QLoRA). Use `method: qlora`, or remove `quantization`.'
            : '`quantization` is not allowed with `method: full`: full fine-tuning cannot update quantized weights (training fails or the quantized layers stay frozen). Use `method: qlora` with a `lora` section, or remove `quantization`.',
        range: ctx.rangeAt(['quantization'], 'key'),
      });
    }
    if (prepareKbitOn(ctx) && method !== 'qlora') {
      problems.push({
        message: `\`prepare_model_for_kbit_training\` is only for a quantized base (\`method: qlora\`); with \`method: ${method}\` it casts norms and embeddings to fp32 for nothing and costs memory. Remove it, or use \`method: qlora\`.`,
        range: ctx.rangeAt(['prepare_model_for_kbit_training'], 'key'),
      });
    }
    if (hasLora && method === 'full') {
      problems.push({
        message:
          'A `lora` section with `method: full`: the adapter settings are ignored and every weight of the model trains, with about ten times the memory of LoRA. Use `method: lora` to train the adapter, or remove the section.',
        range: ctx.rangeAt(['lora'], 'key'),
      });
    }
    if (!hasQuantization && method === 'qlora') {
      problems.push({
        message:
          '`method: qlora` needs a `quantization` section (`load_in_4bit: true`, `bnb_4bit_quant_type: nf4`, `bnb_4bit_compute_dtype: bfloat16`): without it the base model loads in 16 bits, four times the weight memory QLoRA is chosen to save. Add the section, or use `method: lora`.',
        range: ctx.rangeAt(['method']),
      });
    }
    if (!hasLora && method !== 'full') {
      problems.push({
        message: `\`method: ${method}\` needs a \`lora\` section (\`r\`, \`lora_alpha\`, \`target_modules\`): without it there are no adapter settings and peft falls back to r 8, alpha 8 on its default modules (or fails for an architecture it does not know). Add the section, or use \`method: full\`.`,
        range: ctx.rangeAt(['method']),
      });
    }
    if (problems.length === 0) return [];

    const target = describedMethod(ctx);
    const fixes =
      target && target !== method
        ? [
            {
              title: `Change \`method\` to \`${target}\``,
              edits: ctx.edit.replace(['method'], target),
              preferred: true,
            },
          ]
        : undefined;
    return problems.map((p) => (fixes ? { ...p, fixes } : p));
  },
};

import type { TextEdit } from '../../types';
import type { RuleContext } from '../context';
import type { Rule } from '../rule';

export const bf16Unsupported: Rule = {
  code: 'bf16-unsupported',
  severity: 'error',
  doc: {
    title: '`bf16: true` on a GPU without bfloat16',
    why: 'bfloat16 needs an Ampere or newer GPU (compute capability 8.0: A100, A10G, L4, RTX 30xx and later). On a T4 or V100, TrainingArguments stops at start-up ("Your setup doesn\'t support bf16/gpu"), after the model has loaded.',
    fix: 'Use fp16 mixed precision (`fp16: true`) instead. The quick fix also switches `model.dtype` and `bnb_4bit_compute_dtype` away from bfloat16: to float16 for LoRA / QLoRA, to float32 for full fine-tuning (fp16 mixed precision needs fp32 master weights; fp16 weights fail with "Attempting to unscale FP16 gradients").',
    thresholds:
      "The GPU's bf16 support comes from `hardware.gpu` (catalog: compute capability ≥ 8.0) or its `bf16` field; silent when no GPU is given.",
  },
  check(ctx) {
    const gpu = ctx.gpu;
    if (!gpu || gpu.bf16 || ctx.value(['training', 'bf16']) !== true) return [];
    const full = ctx.plan.method === 'full';
    const modelDtype = full ? 'float32' : 'float16';
    const also: string[] = [];
    if (ctx.value(['model', 'dtype']) === 'bfloat16') also.push(`\`model.dtype: ${modelDtype}\``);
    if (ctx.value(['quantization', 'bnb_4bit_compute_dtype']) === 'bfloat16')
      also.push('`bnb_4bit_compute_dtype: float16`');
    const alsoText = also.length ? ` and ${also.join(' and ')}` : '';
    const edits = fp16Edits(ctx, modelDtype);
    return [
      {
        message: `${gpu.name} (compute capability ${gpu.computeCapability}) has no bfloat16: training stops at start-up with \`bf16: true\`. Use \`fp16: true\`${alsoText}.`,
        range: ctx.rangeAt(['training', 'bf16']),
        fixes: edits.length
          ? [{ title: `Use fp16: \`fp16: true\`${alsoText}`, edits, preferred: true }]
          : undefined,
      },
    ];
  },
};

/** `bf16: true` becomes `fp16: true` (in place, or bf16 removed when fp16 already exists), bfloat16 dtypes follow. */
function fp16Edits(ctx: RuleContext, modelDtype: string): TextEdit[] {
  const text = ctx.parsed.text.split('\n');
  const bf16Key = ctx.rangeAt(['training', 'bf16'], 'key');
  const edits: TextEdit[] = [];
  if (!ctx.has(['training', 'fp16'])) {
    // Rename in place: keeps the line's position and comment.
    const keyText = (text[bf16Key.start.line] ?? '').slice(
      bf16Key.start.character,
      bf16Key.end.character,
    );
    if (keyText !== 'bf16') return [];
    edits.push({ range: bf16Key, newText: 'fp16' });
  } else {
    const fp16Key = ctx.rangeAt(['training', 'fp16'], 'key');
    const trainingKey = ctx.rangeAt(['training'], 'key');
    // Removing a line is only safe in block style (one key per line).
    if (fp16Key.start.line === bf16Key.start.line || bf16Key.start.line === trainingKey.start.line)
      return [];
    edits.push(...ctx.edit.remove(['training', 'bf16']));
    if (ctx.value(['training', 'fp16']) !== true)
      edits.push(...ctx.edit.replace(['training', 'fp16'], 'true'));
  }
  if (ctx.value(['model', 'dtype']) === 'bfloat16')
    edits.push(...ctx.edit.replace(['model', 'dtype'], modelDtype));
  if (ctx.value(['quantization', 'bnb_4bit_compute_dtype']) === 'bfloat16')
    edits.push(...ctx.edit.replace(['quantization', 'bnb_4bit_compute_dtype'], 'float16'));
  return edits;
}

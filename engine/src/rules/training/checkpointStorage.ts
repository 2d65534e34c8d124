import { countLoraParameters } from '../../models/params';
import type { RuleContext } from '../context';
import type { Rule } from '../rule';
import {
  formatGB,
  formatParams,
  modelName,
  numberAt,
  reportRange,
  setValue,
} from '../method/shared';

/** Storage above which the rule speaks: 100 GB (decimal, as disks are sold). */
const LIMIT_BYTES = 100e9;
const KEEP = 2;

/**
 * Bytes of optimizer state per trainable parameter (about: low-rank and
 * factored optimizers are counted like their full-state relatives).
 * `stateBytes` is the width of torch optimizers' states, the parameter's dtype.
 */
export function optimizerStateBytes(optim: string, stateBytes: number): number {
  const name = optim.toLowerCase();
  const states = name.includes('ademamix')
    ? 3
    : /lion|rmsprop|adagrad/.test(name)
      ? 1
      : /sgd|lomo|adafactor/.test(name)
        ? 0
        : 2;
  if (name.includes('4bit')) return states * 0.5;
  if (name.includes('8bit')) return states;
  // bitsandbytes keeps fp32 states (paged_*_32bit, rmsprop_bnb, lion_32bit, ademamix).
  if (name.includes('32bit') || name.includes('bnb') || name === 'ademamix') return states * 4;
  return states * stateBytes;
}

interface CheckpointSize {
  bytes: number;
  /** How the size was reached, for the message. */
  formula: string;
}

/** The size of one Trainer checkpoint, or undefined when the model is unknown. */
export function checkpointSize(ctx: RuleContext): CheckpointSize | undefined {
  const model = ctx.model;
  if (!model) return undefined;
  const optim = ctx.plan.training.optimizer;
  const onlyModel = ctx.value(['training', 'save_only_model']) === true;
  const weight = ctx.plan.model.dtype === 'float32' ? 4 : 2;
  const weightName = weight === 4 ? 'fp32' : '16-bit';
  if (ctx.plan.method === 'full') {
    const sharded =
      ctx.plan.distributed.backend === 'fsdp' ||
      ctx.plan.distributed.backend === 'deepspeed' ||
      ctx.plan.training.deepspeed !== undefined;
    const mixed = ctx.plan.training.bf16 || ctx.plan.training.fp16;
    let perParam: number;
    let parts: string;
    if (sharded && mixed) {
      // fp32 master weights with fp32 states; DeepSpeed also writes the 16-bit module weights.
      const deepspeed = ctx.plan.distributed.backend !== 'fsdp';
      const states = onlyModel ? 0 : optimizerStateBytes(optim, 4);
      perParam = 4 + states + (deepspeed ? 2 : 0);
      parts = `fp32 master weights 4${deepspeed ? ' + 16-bit weights 2' : ''}${onlyModel ? '' : ` + ${optim} states ${states}`}`;
    } else {
      const states = onlyModel ? 0 : optimizerStateBytes(optim, weight);
      perParam = weight + states;
      parts = `${weightName} weights ${weight}${onlyModel ? '' : ` + ${optim} states ${states}`}`;
    }
    return {
      bytes: model.paramsTotal * perParam,
      formula: `${formatParams(model.paramsTotal)} parameters × ${perParam} bytes: ${parts}`,
    };
  }
  const lora = ctx.plan.lora;
  if (!lora) return undefined;
  const targets =
    lora.targetModules ?? (model.family === 'phi3' ? ['qkv_proj'] : ['q_proj', 'v_proj']);
  const adapter = countLoraParameters(model, lora.r, targets);
  const saved = lora.modulesToSave.filter((m) => m === 'embed_tokens' || m === 'lm_head').length;
  const copies = saved * model.vocabSize * model.hiddenSize;
  // peft keeps LoRA A/B in fp32; modules_to_save copies keep the base dtype.
  const adapterPerParam = 4 + (onlyModel ? 0 : optimizerStateBytes(optim, 4));
  const copyPerParam = weight + (onlyModel ? 0 : optimizerStateBytes(optim, weight));
  const bytes = adapter * adapterPerParam + copies * copyPerParam;
  return {
    bytes,
    formula: `adapter ${formatParams(adapter)} parameters × ${adapterPerParam} bytes${copies ? ` + modules_to_save ${formatParams(copies)} × ${copyPerParam} bytes` : ''}`,
  };
}

/** How many checkpoints the run writes, from the rows of the training file; undefined when unknown. */
export function estimatedSaves(ctx: RuleContext): number | undefined {
  const train = ctx.data.train;
  if (!train || !train.exists || train.error || train.partial || train.rows === 0) return undefined;
  const { microBatch, gradAccum, epochs } = ctx.plan.training;
  const perEpoch = Math.max(
    1,
    Math.ceil(train.rows / (microBatch * gradAccum * ctx.plan.hardware.numGpus)),
  );
  const maxSteps = numberAt(ctx, ['training', 'max_steps']);
  const total = maxSteps !== undefined && maxSteps > 0 ? maxSteps : Math.ceil(epochs * perEpoch);
  const strategy = ctx.value(['training', 'save_strategy']) ?? 'steps';
  if (strategy === 'epoch') return Math.ceil(total / perEpoch);
  if (strategy !== 'steps') return undefined;
  let every = numberAt(ctx, ['training', 'save_steps']) ?? 500;
  if (every > 0 && every < 1) every = Math.max(1, Math.ceil(every * total));
  if (every <= 0) return undefined;
  // One save every `every` steps, plus the final one at the end of training.
  return Math.ceil(total / every);
}

export const checkpointStorage: Rule = {
  code: 'checkpoint-storage',
  severity: 'info',
  doc: {
    title: 'Checkpoints that fill the disk',
    why: "The Trainer writes a checkpoint every `save_steps` (or epoch) and, without `save_total_limit`, keeps all of them. A full fine-tuning checkpoint holds the weights and the optimizer states, several times the model's own size, so a long run fills the disk and fails at a save hours in (or leaves hundreds of GB behind). LoRA checkpoints hold only the adapter and are small.",
    fix: 'Set `save_total_limit: 2` (the latest and one before it), or `save_only_model: true` when resuming is not needed.',
    thresholds:
      "Fires when checkpoint size × kept checkpoints is above 100 GB, or `save_total_limit` is unset with full fine-tuning. Size per checkpoint: full = parameters × (weight bytes + optimizer state bytes): 16-bit weights 2 (4 for `model.dtype: float32`); torch AdamW keeps two states in the weights' dtype (4 bytes for bf16 weights: torch allocates them like the parameter), bitsandbytes 32-bit AdamW 8, 8-bit 2, 4-bit 1, Lion / RMSprop / Adagrad one state, AdEMAMix three, Adafactor / SGD / LOMO about 0; FSDP or DeepSpeed with bf16 / fp16 save fp32 master weights and fp32 states (4 + 8, DeepSpeed + 2 for the 16-bit weights); `save_only_model: true` drops the states. LoRA = adapter parameters × (4 + states in fp32), plus the `modules_to_save` copies of embed_tokens / lm_head at the weights' dtype. Kept = `save_total_limit`, else the number of saves (rows, batch and epochs give the steps; one save per `save_steps`, default 500, plus the final one). Silent on a size it cannot compute (unknown model, unknown rows) except the full-fine-tuning case.",
  },
  check(ctx) {
    const method = ctx.plan.method;
    if (!method) return [];
    if (ctx.value(['training', 'save_strategy']) === 'no') return [];
    const limitRaw = numberAt(ctx, ['training', 'save_total_limit']);
    const limit = limitRaw !== undefined && limitRaw >= 1 ? Math.floor(limitRaw) : undefined;
    const size = checkpointSize(ctx);
    const saves = estimatedSaves(ctx);
    const kept =
      limit !== undefined ? (saves !== undefined ? Math.min(limit, saves) : limit) : saves;
    const total = size && kept !== undefined ? size.bytes * kept : undefined;
    const unsetFull = method === 'full' && limit === undefined;
    const sizeAlone = size && kept === undefined && size.bytes > LIMIT_BYTES;
    if (!unsetFull && !(total !== undefined && total > LIMIT_BYTES) && !sizeAlone) return [];

    const each = size
      ? `each checkpoint is ≈ ${formatGB(size.bytes)} for ${modelName(ctx)} (${size.formula})`
      : "each checkpoint holds the full weights and the optimizer states, several times the model's size";
    let message: string;
    if (limit === undefined) {
      const count =
        saves !== undefined
          ? ` This run writes about ${saves} checkpoint${saves === 1 ? '' : 's'}${total !== undefined ? `: ≈ ${formatGB(total)}` : ''}.`
          : '';
      message = `\`save_total_limit\` is not set, so every checkpoint is kept, and ${each}.${count} Set \`save_total_limit: ${KEEP}\`${size ? ` (≈ ${formatGB(size.bytes * Math.min(KEEP, saves ?? KEEP))})` : ''}.`;
    } else {
      message = `Checkpoints will take ≈ ${formatGB(total ?? size!.bytes)}: ${kept} kept × ${formatGB(size!.bytes)} (${size!.formula}), above 100 GB.`;
      message +=
        limit > KEEP
          ? ` Set \`save_total_limit: ${KEEP}\` (≈ ${formatGB(size!.bytes * KEEP)}).`
          : ' Make sure the disk holds it, or set `save_only_model: true` to drop the optimizer states when resuming is not needed.';
    }
    const fixable = limit === undefined || limit > KEEP;
    return [
      {
        message,
        range: reportRange(ctx, ['training', 'save_total_limit']),
        fixes: fixable
          ? [
              {
                title: `Set \`save_total_limit: ${KEEP}\``,
                edits: setValue(ctx, ['training'], 'save_total_limit', String(KEEP)),
                preferred: true,
              },
            ]
          : undefined,
      },
    ];
  },
};

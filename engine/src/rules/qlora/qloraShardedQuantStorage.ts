import { zeroStage } from '../../dialects/view';
import type { Path } from '../../types';
import type { RuleContext } from '../context';
import { reportRange } from '../method/shared';
import type { Rule } from '../rule';

const FLOAT_DTYPES = ['bfloat16', 'float16', 'float32'];

/** True when `training.fsdp` turns FSDP on: `true`, option words, or a list of them. */
function fsdpOn(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  return value === true || (typeof value === 'string' && value.trim() !== '');
}

/**
 * How the config shards the model's parameters (FSDP or ZeRO-3), in words
 * naming the key that says so; undefined when it does not, or when the
 * DeepSpeed stage cannot be read from the config (a JSON file the engine does
 * not open, with no stage in its name and no `launch.distributed.zero_stage`).
 * Shared by the QLoRA rules that change under sharding (qlora-prepare-kbit).
 */
export function sharding(ctx: RuleContext): string | undefined {
  if (fsdpOn(ctx.value(['training', 'fsdp']))) return 'FSDP (`training.fsdp`)';
  if (ctx.plan.distributed.backend === 'fsdp') return 'FSDP (`launch.distributed.backend: fsdp`)';
  const deepspeed = ctx.value(['training', 'deepspeed']);
  if (deepspeed === undefined && ctx.plan.distributed.backend !== 'deepspeed') return undefined;
  const written = zeroStage(deepspeed);
  if (written === 3) {
    return typeof deepspeed === 'string'
      ? `DeepSpeed ZeRO-3 (\`training.deepspeed: ${deepspeed}\`, stage 3 by its name)`
      : 'DeepSpeed ZeRO-3 (`training.deepspeed`)';
  }
  if (written === undefined && ctx.plan.distributed.zeroStage === 3)
    return 'DeepSpeed ZeRO-3 (`launch.distributed.zero_stage: 3`)';
  return undefined;
}

/**
 * The dtype to store the 4-bit weights in: the model's `dtype` when given;
 * for `auto` (config.json decides) the training precision's, float32 under
 * fp16 mixed precision as the peft FSDP-QLoRA guide says. `pinModel`: the
 * fix also writes it as `model.dtype`, which the guide sets to the same value.
 */
function storageTarget(ctx: RuleContext): { dtype: string; pinModel: boolean } {
  const model = ctx.plan.model.dtype;
  if (model !== 'auto') return { dtype: model, pinModel: false };
  const fp16Run = ctx.plan.training.fp16 && !ctx.plan.training.bf16;
  const noBf16Gpu = ctx.gpu !== undefined && !ctx.gpu.bf16;
  return { dtype: fp16Run || noBf16Gpu ? 'float32' : 'bfloat16', pinModel: true };
}

export const qloraShardedQuantStorage: Rule = {
  code: 'qlora-sharded-quant-storage',
  severity: 'error',
  // Native-only: Axolotl, LLaMA-Factory and TRL set the storage dtype themselves for FSDP and ZeRO-3.
  dialects: ['native'],
  doc: {
    title: 'A QLoRA base sharded by FSDP or ZeRO-3 without a matching storage dtype',
    why: 'FSDP and DeepSpeed ZeRO-3 flatten each block\'s parameters into shards of one floating-point dtype. bitsandbytes packs 4-bit weights into uint8 by default, which cannot be flattened with the model\'s bf16 parameters: FSDP stops at the wrap ("Must flatten tensors with uniform dtype"; FSDP2: "only Tensors of floating point dtype can require gradients", or, where that is bypassed, a loss of 0 and NaN gradients), ZeRO-3 at its partitioning. The peft guides "Use PEFT QLoRA and FSDP" and "Use PEFT QLoRA and DeepSpeed with ZeRO3" (huggingface.co/docs/peft/accelerate/fsdp and .../deepspeed) therefore set `bnb_4bit_quant_storage` to the dtype the model is loaded in (`bfloat16`; float32 under fp16 mixed precision). The storage dtype only changes how the 4-bit values are packed, not their memory. 8-bit (LLM.int8) weights are int8 with no storage option and do not shard (FSDP fails to flatten them; ZeRO-3 fails or trains with a wrong loss). Tunelab passes DeepSpeed through `TrainingArguments`, not an accelerate config, so there is no `zero3_init_flag` to set.',
    fix: "Set `quantization.bnb_4bit_quant_storage` to the model's dtype (quick fix; with `model.dtype: auto` it also sets `model.dtype`); for 8-bit, use `load_in_4bit` or DDP / ZeRO-2.",
    thresholds:
      'QLoRA with FSDP (`training.fsdp`, or `launch.distributed.backend: fsdp`) or DeepSpeed ZeRO-3 (stage 3 in an inline `training.deepspeed`, in its file name such as `ds_z3_config.json`, or `launch.distributed.zero_stage: 3`): 4-bit with `bnb_4bit_quant_storage` (default uint8) unlike `model.dtype`, or uint8 with `model.dtype: auto`; or 8-bit. The engine does not open a DeepSpeed JSON file: when neither its name nor `launch.distributed.zero_stage` gives the stage, the rule stays silent.',
  },
  check(ctx) {
    const q = ctx.plan.quantization;
    if (ctx.plan.method !== 'qlora' || !q) return [];
    const sharded = sharding(ctx);
    if (!sharded) return [];
    if (q.bits === 8) {
      const path: Path = ['quantization', 'load_in_8bit'];
      return [
        {
          message: `8-bit quantization with ${sharded}: LLM.int8 weights are int8 with no storage option, so they cannot be sharded with the model's floating-point parameters (FSDP fails to flatten them; ZeRO-3 fails or trains with a wrong loss). Use \`load_in_4bit: true\` with \`bnb_4bit_quant_storage\` set to the model's dtype, or DDP / ZeRO-2.`,
          range: reportRange(ctx, path),
        },
      ];
    }
    const storagePath: Path = ['quantization', 'bnb_4bit_quant_storage'];
    const storage = ctx.value(storagePath);
    const current = typeof storage === 'string' ? storage : 'uint8';
    const target = storageTarget(ctx);
    // With `model.dtype: auto` a float storage was chosen on purpose: the loaded dtype is unknown here.
    if (target.pinModel ? FLOAT_DTYPES.includes(current) : current === target.dtype) return [];
    const written = ctx.has(storagePath)
      ? `\`bnb_4bit_quant_storage: ${current}\``
      : '`bnb_4bit_quant_storage` is missing (uint8 by default)';
    const loaded = target.pinModel
      ? `\`model.dtype\` is ${ctx.has(['model', 'dtype']) ? '`auto`' : 'missing (auto)'}, so config.json decides what the rest of the model is loaded in`
      : `the rest of the model is loaded in ${target.dtype}`;
    const set = target.pinModel
      ? `Set \`bnb_4bit_quant_storage: ${target.dtype}\` and \`model.dtype: ${target.dtype}\``
      : `Set \`bnb_4bit_quant_storage: ${target.dtype}\``;
    return [
      {
        message: `${written} with ${sharded} while ${loaded}: the packed 4-bit weights cannot be flattened into one shard dtype with the other parameters, so the run fails when the model is wrapped (FSDP: "Must flatten tensors with uniform dtype"). ${set}, as peft's FSDP-QLoRA and ZeRO-3 QLoRA guides do.`,
        range: reportRange(ctx, storagePath),
        fixes: [
          {
            title: target.pinModel
              ? `Set \`bnb_4bit_quant_storage\` and \`model.dtype\` to ${target.dtype}`
              : `Set \`bnb_4bit_quant_storage: ${target.dtype}\``,
            edits: [
              ...ctx.edit.set(['quantization'], 'bnb_4bit_quant_storage', target.dtype),
              ...(target.pinModel ? ctx.edit.set(['model'], 'dtype', target.dtype) : []),
            ],
            preferred: true,
          },
        ],
      },
    ];
  },
};

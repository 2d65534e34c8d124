import type { Rule } from '../rule';
import { sharding } from './qloraShardedQuantStorage';

export const qloraPrepareKbit: Rule = {
  code: 'qlora-prepare-kbit',
  severity: 'error',
  // Native-only: reads keys (or runner behaviour) the other dialects do not have.
  dialects: ['native'],
  doc: {
    title: 'QLoRA without `prepare_model_for_kbit_training`',
    why: "peft's `prepare_model_for_kbit_training` casts the layer norms, embeddings and lm_head of a 4-bit model to fp32 and makes gradient checkpointing work with frozen inputs. Without it, QLoRA training is numerically fragile (loss spikes, NaN) or silently trains nothing through checkpointed layers. It costs memory (about +2 GiB on an 8B model), which the estimate shows, and is still the recommended step. Not when FSDP or DeepSpeed ZeRO-3 shards the model: the fp32 cast leaves each block with fp32 norms next to 4-bit weights stored in `bnb_4bit_quant_storage`, mixed dtypes that FSDP and ZeRO-3 cannot flatten into one shard. TRL skips the call for sharded QLoRA and peft's FSDP-QLoRA guide does not make it; the runner then does only the rest of it (frozen base, gradient checkpointing with its kwargs, input grads for reentrant checkpointing) and says so in a warning.",
    fix: 'Set `prepare_model_for_kbit_training: true` (or `{ use_gradient_checkpointing: true }`).',
    thresholds:
      "`method: qlora` without `prepare_model_for_kbit_training` (or with `false`), unless the run shards: FSDP (`training.fsdp`, or `launch.distributed.backend: fsdp`) or DeepSpeed ZeRO-3 (stage 3 in an inline `training.deepspeed`, in its file name, or `launch.distributed.zero_stage: 3`), read as `qlora-sharded-quant-storage` reads it. The runner's Trainer shards only with `training.fsdp` or a ZeRO-3 `training.deepspeed`: with `launch.distributed.backend: fsdp` alone it runs DDP, keeps the call when it is set, and warns.",
  },
  check(ctx) {
    if (ctx.plan.method !== 'qlora' || ctx.plan.prepareKbit) return [];
    // Sharded, the call is skipped on purpose: its fp32 cast gives FSDP / ZeRO-3 mixed dtypes.
    if (sharding(ctx)) return [];
    const present = ctx.has(['prepare_model_for_kbit_training']);
    return [
      {
        message: present
          ? "`prepare_model_for_kbit_training` is false with `method: qlora`: the 4-bit model's norms and embeddings stay in low precision and checkpointed layers may not train. Set it to true."
          : 'QLoRA needs `prepare_model_for_kbit_training: true`: it casts norms and embeddings to fp32 and makes gradient checkpointing work with the frozen 4-bit base. Without it training is fragile (loss spikes, NaN).',
        range: present ? ctx.rangeAt(['prepare_model_for_kbit_training']) : ctx.rangeAt(['method']),
        fixes: [
          {
            title: 'Set `prepare_model_for_kbit_training: true`',
            edits: ctx.edit.set([], 'prepare_model_for_kbit_training', 'true'),
            preferred: true,
          },
        ],
      },
    ];
  },
};

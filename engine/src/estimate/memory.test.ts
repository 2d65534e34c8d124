import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { estimateMemory, MEMORY_PARTS, makePlan } from './index';
import { findGpu } from '../hardware/gpus';
import { findCatalogModel } from '../models/catalog';
import { nf4BytesPerParam } from './states';

function model(id: string) {
  const m = findCatalogModel(id);
  if (!m) throw new Error(`${id} is not in the catalog`);
  return m;
}
const FIXTURE_H100 = findGpu('H100-80GB')!;
const GiB = 1024 ** 3;
const NO_SLACK = { varyingLogits: 0, mlpIntermediate: 0, fullVaryingRows: 0, accumulatedHole: 0 };
const qwen05 = model('Qwen/Qwen2.5-0.5B');
const llama1 = model('meta-llama/Llama-3.2-1B');
const qwen7 = model('Qwen/Qwen2.5-7B');
const llama8 = model('meta-llama/Llama-3.1-8B');
const models = [qwen05, llama1, qwen7, llama8];

describe('estimateMemory', () => {
  it('parts add up to the per-GPU total, every method and parallelism', () => {
    for (const model of models) {
      for (const method of ['full', 'lora', 'qlora'] as const) {
        for (const numGpus of [1, 2, 4]) {
          for (const backend of ['ddp', 'fsdp', 'deepspeed'] as const) {
            const plan = makePlan({
              method,
              numGpus,
              backend: numGpus > 1 ? backend : 'none',
              zeroStage: 3,
            });
            const est = estimateMemory(plan, model, FIXTURE_H100);
            const sum = MEMORY_PARTS.reduce((a, p) => a + est.bytes[p], 0);
            assert.ok(
              Math.abs(sum - est.perGpuBytes) < 1,
              `${model.id} ${method} ${numGpus} ${backend}`,
            );
            for (const p of MEMORY_PARTS) {
              assert.ok(est.bytes[p] >= 0, `${p} non-negative`);
              assert.ok(est.notes[p].length > 0, `${p} has a note`);
            }
          }
        }
      }
    }
  });

  it('QLoRA with upcast_to_fp32: false keeps lm_head and embeddings in 16 bits: less memory', () => {
    const llama8 = findCatalogModel('meta-llama/Llama-3.1-8B')!;
    const upcast = estimateMemory(makePlan({ method: 'qlora' }), llama8, undefined);
    const kept = estimateMemory(
      { ...makePlan({ method: 'qlora' }), kbitUpcast: false },
      llama8,
      undefined,
    );
    // two 525M-parameter matrices (embeddings and lm_head) at 2 B instead of 4: about 2 GiB
    const saved = (upcast.bytes.weights - kept.bytes.weights) / 1024 ** 3;
    assert.ok(saved > 1.8 && saved < 2.2, `${saved} GiB`);
    assert.ok(kept.perGpuBytes < upcast.perGpuBytes);
  });

  it('counts parameters and LoRA parameters exactly (peft figures)', () => {
    const lora = estimateMemory(
      makePlan({ method: 'lora', targets: 'all-linear' }),
      qwen05,
      undefined,
    );
    assert.equal(lora.paramsTrainable, 8798208);
    assert.equal(lora.paramsTotal, 502830976);
    const qv = estimateMemory(
      makePlan({ method: 'lora', r: 8, targets: ['q_proj', 'v_proj'] }),
      llama8,
      undefined,
    );
    assert.equal(qv.paramsTrainable, 3407872);
    const full = estimateMemory(makePlan({ method: 'full' }), qwen7, undefined);
    assert.equal(full.paramsTrainable, 7615616512);
  });

  it('peak depends on tokens per step only (max_length × micro-batch)', () => {
    const a = estimateMemory(
      makePlan({ maxLength: 2048, microBatch: 1, checkpointing: false }),
      llama1,
      undefined,
    );
    const b = estimateMemory(
      makePlan({ maxLength: 512, microBatch: 4, checkpointing: false }),
      llama1,
      undefined,
    );
    assert.equal(a.perGpuBytes, b.perGpuBytes);
  });

  it('more tokens need more memory', () => {
    for (const model of models) {
      for (const method of ['full', 'lora', 'qlora'] as const) {
        let prev = 0;
        for (const maxLength of [256, 1024, 4096, 16384]) {
          const est = estimateMemory(makePlan({ method, maxLength }), model, undefined);
          assert.ok(est.perGpuBytes > prev, `${model.id} ${method} ${maxLength}`);
          prev = est.perGpuBytes;
        }
      }
    }
  });

  it('gradient checkpointing needs less', () => {
    for (const model of models) {
      for (const method of ['full', 'lora', 'qlora'] as const) {
        const on = estimateMemory(
          makePlan({ method, checkpointing: true, microBatch: 2 }),
          model,
          undefined,
        );
        const off = estimateMemory(
          makePlan({ method, checkpointing: false, microBatch: 2 }),
          model,
          undefined,
        );
        assert.ok(on.perGpuBytes < off.perGpuBytes, `${model.id} ${method}`);
      }
    }
  });

  it('QLoRA weights are smaller than LoRA weights; prepare_kbit costs memory', () => {
    for (const model of models) {
      const lora = estimateMemory(makePlan({ method: 'lora' }), model, undefined);
      const qlora = estimateMemory(makePlan({ method: 'qlora' }), model, undefined);
      const noPrep = estimateMemory(
        makePlan({ method: 'qlora', prepareKbit: false }),
        model,
        undefined,
      );
      assert.ok(qlora.bytes.weights < lora.bytes.weights, model.id);
      assert.ok(noPrep.perGpuBytes < qlora.perGpuBytes, model.id);
    }
    // Big models: about half the weights (fp32 embeddings included) and less in total. (On 0.5B the fp32
    // embeddings that prepare_model_for_kbit_training makes eat the saving:
    // measured QLoRA 6.2 GiB vs LoRA 6.2 GiB.)
    for (const model of [qwen7, llama8]) {
      const lora = estimateMemory(makePlan({ method: 'lora' }), model, undefined);
      const qlora = estimateMemory(makePlan({ method: 'qlora' }), model, undefined);
      assert.ok(qlora.bytes.weights < 0.6 * lora.bytes.weights, model.id);
      assert.ok(qlora.perGpuBytes < lora.perGpuBytes, model.id);
    }
    assert.ok(Math.abs(nf4BytesPerParam(true) - 0.5159) < 1e-3);
    assert.equal(nf4BytesPerParam(false), 0.5625);
  });

  it('LoRA all-linear with dropout and no checkpointing costs about as much as full FT (small model)', () => {
    const lora = estimateMemory(
      makePlan({ method: 'lora', checkpointing: false }),
      qwen05,
      undefined,
    );
    const full = estimateMemory(
      makePlan({ method: 'full', checkpointing: false }),
      qwen05,
      undefined,
    );
    assert.ok(Math.abs(lora.perGpuBytes - full.perGpuBytes) / full.perGpuBytes < 0.2);
  });

  it('logits are the biggest part for a small model', () => {
    const est = estimateMemory(
      makePlan({ method: 'lora', checkpointing: true }),
      qwen05,
      undefined,
    );
    for (const p of MEMORY_PARTS) if (p !== 'logits') assert.ok(est.bytes.logits > est.bytes[p], p);
  });

  it('rows measured out of memory do not fit 80 GB', () => {
    for (const model of [qwen7, llama8]) {
      const lora = makePlan({
        method: 'lora',
        maxLength: 2048,
        microBatch: 4,
        checkpointing: false,
      });
      const qlora = makePlan({
        method: 'qlora',
        maxLength: 2048,
        microBatch: 4,
        checkpointing: false,
        optimizer: 'paged_adamw_8bit',
      });
      assert.equal(estimateMemory(lora, model, FIXTURE_H100).fits, false, `${model.id} lora`);
      assert.equal(estimateMemory(qlora, model, FIXTURE_H100).fits, false, `${model.id} qlora`);
    }
  });

  it('measured 7B/8B QLoRA at 2048 tokens with checkpointing is 14-16 GiB, not 10-12', () => {
    for (const model of [qwen7, llama8]) {
      const est = estimateMemory(
        makePlan({ method: 'qlora', optimizer: 'paged_adamw_8bit', expandableSegments: false }),
        model,
        undefined,
      );
      assert.ok(
        est.perGpuBytes > 13.5 * GiB && est.perGpuBytes < 16.5 * GiB,
        `${model.id} ${est.perGpuBytes / GiB}`,
      );
    }
  });

  it('FSDP with bf16 mixed precision keeps fp32 masters: sharding 8B over 2 GPUs does not halve memory', () => {
    const single = estimateMemory(makePlan({ method: 'full' }), llama8, undefined);
    const fsdp = estimateMemory(
      makePlan({ method: 'full', numGpus: 2, backend: 'fsdp' }),
      llama8,
      undefined,
    );
    const pureBf16 = estimateMemory(
      makePlan({ method: 'full', numGpus: 2, backend: 'fsdp', bf16: false }),
      llama8,
      undefined,
    );
    assert.ok(fsdp.perGpuBytes > single.perGpuBytes);
    assert.ok(pureBf16.perGpuBytes < 0.75 * single.perGpuBytes);
  });

  it('DDP adds a gradient bucket copy and NCCL buffers; ZeRO stages shrink per-GPU memory', () => {
    const single = estimateMemory(makePlan({ method: 'full' }), llama1, undefined);
    const ddp = estimateMemory(makePlan({ method: 'full', numGpus: 2 }), llama1, undefined);
    assert.ok(ddp.perGpuBytes - single.perGpuBytes > 2 * llama1.paramsTotal);
    const z = [1, 2, 3].map(
      (zeroStage) =>
        estimateMemory(
          makePlan({
            method: 'full',
            numGpus: 8,
            backend: 'deepspeed',
            zeroStage: zeroStage as 1 | 2 | 3,
          }),
          llama8,
          undefined,
        ).perGpuBytes,
    );
    assert.ok(z[0]! > z[1]! && z[1]! > z[2]!, z.map((b) => (b / GiB).toFixed(1)).join(' '));
  });

  it('gradient accumulation keeps full-FT gradients alive during the forward', () => {
    const one = estimateMemory(
      makePlan({ method: 'full', gradAccum: 1, checkpointing: false }),
      qwen05,
      undefined,
    );
    const many = estimateMemory(
      makePlan({ method: 'full', gradAccum: 8, checkpointing: false }),
      qwen05,
      undefined,
    );
    assert.ok(many.perGpuBytes > one.perGpuBytes);
  });

  it('accumulating full fine-tuning on one shape keeps what its gradients leave of a logits block', () => {
    const minimum = (method: 'full' | 'lora', gradAccum: number, hole: number, liger = false) => {
      const plan = makePlan({
        method,
        gradAccum,
        maxLength: 2048,
        microBatch: 4,
        expandableSegments: false,
      });
      const training = { ...plan.training, useLigerKernel: liger };
      const slack = { ...NO_SLACK, accumulatedHole: hole };
      return estimateMemory({ ...plan, training }, qwen05, undefined, { slack }).minimumBytes;
    };
    const holeOf = (method: 'full' | 'lora', gradAccum: number, liger = false) =>
      minimum(method, gradAccum, 1, liger) - minimum(method, gradAccum, 0, liger);
    // Qwen2.5-0.5B, 8192 tokens: a 4.64 GiB fp32 logits block less 0.92 GiB of bf16 gradients
    const expected = 4 * 8192 * qwen05.vocabSize - 2 * qwen05.paramsTotal;
    const hole = holeOf('full', 2);
    assert.ok(Math.abs(hole - expected) < 0.02 * GiB, `${hole / GiB} GiB`);
    // zero_grad frees the gradients before the next forward without accumulation
    assert.equal(holeOf('full', 1), 0);
    // the adapters' gradients fit smaller cached blocks; the fused loss asks for no logits block
    assert.equal(holeOf('lora', 2), 0);
    assert.equal(holeOf('full', 2, true), 0);
  });

  it('eager attention costs more than sdpa and grows with the sequence length squared', () => {
    const sdpa = estimateMemory(makePlan({ checkpointing: false }), llama1, undefined);
    const eager = estimateMemory(
      makePlan({ checkpointing: false, attention: 'eager' }),
      llama1,
      undefined,
    );
    assert.ok(eager.bytes.activations > 1.5 * sdpa.bytes.activations);
  });

  it('without a GPU, fits is undefined', () => {
    assert.equal(estimateMemory(makePlan(), qwen05, undefined).fits, undefined);
  });

  it('fp32 master weights with checkpointing add allocator reserve for the fp32 gradients', () => {
    const frag = (dtype: 'float32' | 'bfloat16', checkpointing: boolean) => {
      const plan = makePlan({
        method: 'full',
        dtype,
        maxLength: 2048,
        microBatch: 4,
        checkpointing,
        expandableSegments: false,
      });
      return estimateMemory(plan, llama1, FIXTURE_H100).bytes.overhead;
    };
    // fp32 gradients of Llama-3.2-1B: 1.24B × 4 B ≈ 4.6 GiB; a large share lands in fresh segments.
    assert.ok(frag('float32', true) - frag('float32', false) > 3 * GiB);
    // bf16 gradients fit the holes the recomputed bf16 activations leave: no such term.
    assert.ok(frag('bfloat16', true) - frag('bfloat16', false) < 1 * GiB);
  });

  it('foreach AdamW temporaries take fresh reserve when the gradients took the freed blocks', () => {
    const overhead = (
      optimizer: string,
      gradAccum: number,
      microBatch: number,
      checkpointing = true,
    ) =>
      estimateMemory(
        makePlan({
          method: 'full',
          maxLength: 2048,
          microBatch,
          gradAccum,
          optimizer,
          checkpointing,
          expandableSegments: false,
        }),
        llama1,
        FIXTURE_H100,
      );
    // Llama-3.2-1B, 2048 tokens: the freed logits (2.9 GiB) barely exceed the
    // gradients (2.3 GiB), so most of the 2.3 GiB of temporaries is new reserve.
    const fused = overhead('adamw_torch_fused', 1, 1);
    const foreach = overhead('adamw_torch', 1, 1);
    assert.equal(foreach.peakPhase, 'optimizer-step');
    const temps = 1.235e9 * 2;
    const rise = foreach.bytes.overhead - fused.bytes.overhead;
    assert.ok(rise > 0.5 * temps && rise < temps, `${rise / GiB} GiB`);
    // With accumulation the gradients exist before the last backward: its freed blocks hold them.
    assert.equal(
      overhead('adamw_torch', 2, 1).bytes.overhead,
      overhead('adamw_torch_fused', 2, 1).bytes.overhead,
    );
    // Large logits (8192 tokens) leave room for the temporaries beyond the gradients
    // (without checkpointing: with it, fused AdamW's reserve is firstStepReserve.ts's).
    assert.equal(
      overhead('adamw_torch', 1, 4, false).bytes.overhead,
      overhead('adamw_torch_fused', 1, 4, false).bytes.overhead,
    );
  });
});

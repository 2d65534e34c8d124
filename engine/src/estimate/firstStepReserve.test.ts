// Full fine-tuning under checkpointing, whose first step sets the reserve
// (firstStepReserve.ts): where the rule holds, what it gives on the shared
// truth's rows it was read from, and that the estimate uses it exactly.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findGpu } from '../hardware/gpus';
import { findCatalogModel } from '../models/catalog';
import { type FirstStepInputs, firstStepReserveBytes } from './firstStepReserve';
import { estimateMemory, makePlan, type PlanOverrides } from './index';
import {
  CUDA_CONTEXT_BYTES,
  FRAGMENTATION,
  type FragmentationCoefficients,
  TRAINING_WORKSPACE_BYTES,
} from './overhead';

const GiB = 1024 ** 3;

/** Qwen2.5-0.5B (494M parameters, vocabulary 151936), bf16, fused AdamW, 2048 × 4 tokens. */
const qwen8192: FirstStepInputs = {
  method: 'full',
  checkpointing: true,
  accumulating: false,
  numGpus: 1,
  fusedAdamw16: true,
  fusedLoss: false,
  logitSoftcap: false,
  tokens: 8192,
  vocab: 151936,
  states: 4 * 494_032_768,
  gradients: 2 * 494_032_768,
};

describe('first step reserve', () => {
  it('2048 × 4 tokens: the states fit the freed 16-bit logits block, which is all that is left over (measured 0.81 GiB with the base)', () => {
    const block16 = 2 * 8192 * 151936;
    assert.equal(firstStepReserveBytes(qwen8192), block16 - qwen8192.states);
    assert.ok(Math.abs(firstStepReserveBytes(qwen8192)! / GiB - 0.478) < 0.001);
  });

  it('2048 × 1 tokens: the states split two fp32 blocks, which the next step makes again', () => {
    const x = { ...qwen8192, tokens: 2048 };
    assert.equal(firstStepReserveBytes(x), 2 * 2048 * 151936 + 2 * 4 * 2048 * 151936 - x.states);
  });

  it('Llama-3.2-1B at 2048 × 4 tokens splits one; at 2048 × 1 its states and gradients outgrow the cached blocks', () => {
    const llama = {
      ...qwen8192,
      vocab: 128256,
      states: 4 * 1_235_814_400,
      gradients: 2 * 1_235_814_400,
    };
    assert.equal(
      firstStepReserveBytes(llama),
      2 * 8192 * 128256 + 4 * 8192 * 128256 - llama.states,
    );
    assert.equal(firstStepReserveBytes({ ...llama, tokens: 2048 }), undefined);
  });

  it('holds only for one GPU, checkpointing, no accumulation, fused 16-bit AdamW and the plain loss', () => {
    assert.equal(firstStepReserveBytes({ ...qwen8192, method: 'lora' }), undefined);
    assert.equal(firstStepReserveBytes({ ...qwen8192, checkpointing: false }), undefined);
    assert.equal(firstStepReserveBytes({ ...qwen8192, accumulating: true }), undefined);
    assert.equal(firstStepReserveBytes({ ...qwen8192, numGpus: 2 }), undefined);
    assert.equal(firstStepReserveBytes({ ...qwen8192, fusedAdamw16: false }), undefined);
    assert.equal(firstStepReserveBytes({ ...qwen8192, fusedLoss: true }), undefined);
    assert.equal(firstStepReserveBytes({ ...qwen8192, logitSoftcap: true }), undefined);
  });
});

describe('the estimate uses it under the default allocator only', () => {
  const qwen = findCatalogModel('Qwen/Qwen2.5-0.5B')!;
  const h100 = findGpu('H100-80GB');
  const full: PlanOverrides = {
    method: 'full',
    maxLength: 2048,
    microBatch: 4,
    checkpointing: true,
    optimizer: 'adamw_torch_fused',
    expandableSegments: false,
  };
  const reserve = (o: PlanOverrides, c: FragmentationCoefficients = FRAGMENTATION) =>
    estimateMemory(makePlan(o), qwen, h100, { fragmentation: c, floorAtMinimum: false }).bytes
      .overhead;

  it("the reserve is the context, the base and the rule's figure, whatever the linear terms' coefficients", () => {
    const expected =
      CUDA_CONTEXT_BYTES +
      TRAINING_WORKSPACE_BYTES +
      FRAGMENTATION.base +
      firstStepReserveBytes(qwen8192)!;
    assert.ok(Math.abs(reserve(full) - expected) < 2, `${reserve(full)} vs ${expected}`);
    assert.equal(reserve(full, { ...FRAGMENTATION, logits: 1, recompute: 1 }), reserve(full));
  });

  it('without checkpointing, or under expandable segments, the rule is not used', () => {
    const noCkpt = { ...full, checkpointing: false };
    assert.notEqual(reserve(noCkpt, { ...FRAGMENTATION, logits: 1 }), reserve(noCkpt));
    const note = (o: PlanOverrides) => estimateMemory(makePlan(o), qwen, h100).notes.overhead;
    assert.match(note(full), /the first step's: it peaks before AdamW's states exist/);
    assert.doesNotMatch(note(noCkpt), /the first step's/);
    assert.doesNotMatch(note({ ...full, expandableSegments: true }), /the first step's/);
  });
});

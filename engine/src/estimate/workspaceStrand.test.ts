// The backward's cuBLAS workspace landing in a freed fp32 logits block
// (workspaceStrand.ts): which runs it predicts, and that the estimate's
// reserve carries exactly the fitted share of one logits block for them.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findGpu } from '../hardware/gpus';
import { findCatalogModel } from '../models/catalog';
import { estimateMemory, makePlan, type PlanOverrides } from './index';
import { FRAGMENTATION, type FragmentationCoefficients } from './overhead';
import {
  cublasWorkspaceBytes,
  largestFreedBlockBytes,
  type StrandInputs,
  strandedLogitsBytes,
} from './workspaceStrand';

const MiB = 1024 ** 2;

/** Qwen2.5-0.5B at 2048 tokens: MLP width 4864, vocabulary 151936. */
const qwenQv: StrandInputs = {
  method: 'lora',
  tokens: 2048,
  vocab: 151936,
  hidden: 896,
  mlpWidth: 4864,
  widestAdapterInput: 896, // q_proj and v_proj read the hidden state
  loraDropout: 0.05,
  prepareKbit: false,
  fusedLoss: false,
  computeCapability: 9.0,
};

describe('cuBLAS workspace size', () => {
  it('is 32 MiB from Hopper on and for an unknown GPU, 8 MiB and 128 KiB before', () => {
    assert.equal(cublasWorkspaceBytes(9.0), 32 * MiB);
    assert.equal(cublasWorkspaceBytes(10.0), 32 * MiB);
    assert.equal(cublasWorkspaceBytes(undefined), 32 * MiB);
    assert.equal(cublasWorkspaceBytes(8.0), 8 * MiB + 128 * 1024);
  });
});

describe('stranded logits block', () => {
  it('q/v LoRA on Qwen2.5-0.5B at 2048 tokens strands one fp32 logits block (the measured -9.9% row)', () => {
    assert.equal(largestFreedBlockBytes(qwenQv), 2 * 2048 * 4864); // one MLP intermediate, 19 MiB
    assert.equal(strandedLogitsBytes(qwenQv), 4 * 2048 * 151936);
  });

  it('QLoRA without prepare_model_for_kbit_training strands it too; with it, the freed embedding holds the workspace', () => {
    const noPrep: StrandInputs = { ...qwenQv, method: 'qlora', widestAdapterInput: 4864 };
    assert.equal(strandedLogitsBytes(noPrep), 4 * 2048 * 151936);
    assert.equal(strandedLogitsBytes({ ...noPrep, prepareKbit: true }), 0);
  });

  it("all-linear LoRA's dropout frees an fp32 copy of down_proj's input (38 MiB): no strand; without dropout, one", () => {
    const allLinear = { ...qwenQv, widestAdapterInput: 4864 };
    assert.equal(largestFreedBlockBytes(allLinear), 4 * 2048 * 4864);
    assert.equal(strandedLogitsBytes(allLinear), 0);
    assert.equal(strandedLogitsBytes({ ...allLinear, loraDropout: 0 }), 4 * 2048 * 151936);
  });

  it('a wider MLP or more tokens frees a block the workspace fits in', () => {
    assert.equal(strandedLogitsBytes({ ...qwenQv, mlpWidth: 8192 }), 0); // Llama-3.2-1B: 32 MiB
    assert.equal(strandedLogitsBytes({ ...qwenQv, tokens: 8192 }), 0);
  });

  it("an older GPU's 8 MiB workspace finds a block; full fine-tuning and the fused loss are not this term's", () => {
    assert.equal(strandedLogitsBytes({ ...qwenQv, computeCapability: 8.0 }), 0);
    assert.equal(strandedLogitsBytes({ ...qwenQv, method: 'full' }), 0);
    assert.equal(strandedLogitsBytes({ ...qwenQv, fusedLoss: true }), 0);
  });
});

describe('the estimate carries it under the default allocator only', () => {
  const qwen = findCatalogModel('Qwen/Qwen2.5-0.5B')!;
  const h100 = findGpu('H100-80GB');
  const qv: PlanOverrides = {
    method: 'lora',
    r: 8,
    targets: ['q_proj', 'v_proj'],
    maxLength: 2048,
    checkpointing: false,
    expandableSegments: false,
  };
  /** What the stranded-logits term alone adds to the reserve, at a coefficient of `share`. */
  const strandTerm = (o: PlanOverrides, share = 1) => {
    const reserve = (c: FragmentationCoefficients) =>
      estimateMemory(makePlan(o), qwen, h100, { fragmentation: c }).bytes.overhead;
    return (
      reserve({ ...FRAGMENTATION, strandedLogits: share }) -
      reserve({ ...FRAGMENTATION, strandedLogits: 0 })
    );
  };

  it('one fp32 logits block for q/v, none for all-linear, whose forward frees a 38 MiB block', () => {
    assert.equal(strandTerm(qv), 4 * 2048 * 151936);
    assert.equal(strandTerm({ ...qv, targets: 'all-linear' }), 0);
  });

  it('the shipped share of it is the fitted coefficient, and expandable segments strand nothing', () => {
    const shipped = strandTerm(qv, FRAGMENTATION.strandedLogits);
    assert.ok(
      Math.abs(shipped - FRAGMENTATION.strandedLogits * 4 * 2048 * 151936) < 1024,
      `${shipped}`,
    );
    assert.equal(strandTerm({ ...qv, expandableSegments: true }), 0);
  });

  it("the reserve's note names the block where it is counted", () => {
    const note = (o: PlanOverrides) => estimateMemory(makePlan(o), qwen, h100).notes.overhead;
    assert.match(note(qv), /of it for one more fp32 logits block: the backward's cuBLAS workspace/);
    assert.doesNotMatch(note({ ...qv, targets: 'all-linear' }), /cuBLAS workspace lands/);
    assert.doesNotMatch(note({ ...qv, expandableSegments: true }), /cuBLAS workspace lands/);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findGpu } from '../hardware/gpus';
import type { GpuSpec } from '../hardware/types';
import { findCatalogModel } from '../models/catalog';
import { planEvaluation } from '../nativePlan';
import type { Plan } from '../plan';
import { cheapestFix, estimateMemory, makePlan, type RunInputs } from './index';

const llama8 = findCatalogModel('meta-llama/Llama-3.1-8B')!;
const H100 = findGpu('H100-80GB')!;
const GiB = 1024 ** 3;
const gpuOf = (gb: number): GpuSpec => ({ ...H100, id: `GPU-${gb}GB`, memoryBytes: gb * GiB });

describe('cheapestFix: the eval batch first when evaluation sets the peak', () => {
  // 32 replies of up to 8,192 tokens to 642-token prompts: a 35.6 GiB KV cache after training.
  const plan: Plan = (() => {
    const p = makePlan({ method: 'lora', microBatch: 4, maxLength: 2048, packing: true });
    const data = { ...p.data, evalFile: 'data/eval.jsonl' };
    const section = { generation: { max_new_tokens: 8192 } };
    return { ...p, data, evaluation: planEvaluation(section, data.evalFile, undefined) };
  })();
  const run: RunInputs = {
    evaluates: false,
    evalBatch: 32,
    train: undefined,
    eval: { sorted: [120, 300, 642], partial: false },
    charsPerToken: 3.6,
  };

  it('the evaluation after training: halves per_device_eval_batch_size, training untouched', () => {
    const gpu = gpuOf(40);
    const before = estimateMemory(plan, llama8, gpu, { run });
    assert.equal(before.peakRunPhase, 'final-evaluation');
    assert.equal(before.fits, false);
    const fix = cheapestFix(plan, llama8, gpu, { run });
    assert.ok(fix);
    assert.deepEqual(fix.changes, [{ field: 'training.evalBatch', value: 16 }]);
    assert.match(fix.description, /^per-device eval batch 32 → 16 \(/);
    assert.equal(fix.estimate.fits, true);
    assert.equal(fix.estimate.run?.evalBatch, 16);
  });

  it('not when training sets the peak', () => {
    const training = { ...plan, evaluation: undefined };
    assert.equal(estimateMemory(training, llama8, gpuOf(24), { run }).peakRunPhase, 'training');
    const fix = cheapestFix(training, llama8, gpuOf(24), { run });
    assert.ok(fix);
    assert.doesNotMatch(fix.description, /^per-device eval batch/);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { GpuSpec } from '../hardware/types';
import type { ModelArchitecture } from '../models/types';
import { cheapestFix, estimateTrainTime, makePlan, recommendMethod } from './index';
import { findGpu } from '../hardware/gpus';
import { findCatalogModel } from '../models/catalog';

function model(id: string) {
  const m = findCatalogModel(id);
  if (!m) throw new Error(`${id} is not in the catalog`);
  return m;
}
const FIXTURE_H100 = findGpu('H100-80GB')!;
const GiB = 1024 ** 3;
const qwen05 = model('Qwen/Qwen2.5-0.5B');
const llama8 = model('meta-llama/Llama-3.1-8B');
const gpuOf = (gb: number): GpuSpec => ({
  ...FIXTURE_H100,
  id: `GPU-${gb}GB`,
  name: `${gb} GB GPU`,
  memoryBytes: gb * GiB,
});

describe('cheapestFix', () => {
  it('returns nothing when the run fits', () => {
    assert.equal(cheapestFix(makePlan(), qwen05, FIXTURE_H100), undefined);
  });

  it('enables gradient checkpointing first', () => {
    const plan = makePlan({ method: 'lora', microBatch: 4, checkpointing: false });
    const fix = cheapestFix(plan, llama8, FIXTURE_H100);
    assert.ok(fix);
    assert.deepEqual(fix.changes, [{ field: 'training.gradientCheckpointing', value: true }]);
    assert.equal(fix.estimate.fits, true);
    assert.match(fix.description, /gradient checkpointing/);
  });

  it('halves the micro-batch when checkpointing is already on', () => {
    const plan = makePlan({ method: 'lora', microBatch: 32, checkpointing: true });
    const fix = cheapestFix(plan, llama8, FIXTURE_H100);
    assert.ok(fix);
    assert.deepEqual(fix.changes, [
      { field: 'training.microBatch', value: 16 },
      { field: 'training.gradAccum', value: 2 },
    ]);
    assert.equal(fix.estimate.fits, true);
  });

  it('switches LoRA to QLoRA when batch and checkpointing cannot help', () => {
    const plan = makePlan({ method: 'lora', microBatch: 1, checkpointing: true });
    const fix = cheapestFix(plan, llama8, gpuOf(16));
    assert.ok(fix);
    assert.deepEqual(fix.changes, [{ field: 'method', value: 'qlora' }]);
  });

  it('switches full fine-tuning to LoRA before adding GPUs', () => {
    const plan = makePlan({ method: 'full', microBatch: 1, checkpointing: true });
    const fix = cheapestFix(plan, llama8, gpuOf(40));
    assert.ok(fix);
    assert.deepEqual(fix.changes, [{ field: 'method', value: 'lora' }]);
  });

  it('never adds GPUs: ZeRO-3 only over the GPUs the config declares', () => {
    // Llama-3.1-70B shape: QLoRA alone needs ~45 GiB.
    const llama70: ModelArchitecture = {
      ...llama8,
      id: 'meta-llama/Llama-3.1-70B',
      hiddenSize: 8192,
      numLayers: 80,
      numAttentionHeads: 64,
      numKeyValueHeads: 8,
      headDim: 128,
      intermediateSize: 28672,
      paramsTotal: 70553706496,
    };
    const single = makePlan({ method: 'qlora', microBatch: 1, checkpointing: true });
    assert.equal(cheapestFix(single, llama70, gpuOf(24)), undefined);
    const eight = makePlan({ method: 'qlora', microBatch: 1, checkpointing: true, numGpus: 32 });
    const fix = cheapestFix(eight, llama70, gpuOf(24));
    assert.ok(fix);
    assert.equal(
      fix.changes.find((c) => c.field === 'hardware.numGpus'),
      undefined,
    );
    assert.match(fix.description, /over the 32 GPUs with DeepSpeed ZeRO-3/);
  });

  it('keeps the method when asked to, and fits under a fraction of the GPU', () => {
    const plan = makePlan({ method: 'lora', microBatch: 1, checkpointing: true });
    assert.equal(cheapestFix(plan, llama8, gpuOf(16), { keepMethod: true }), undefined);
    const roomy = makePlan({ method: 'lora', microBatch: 8, checkpointing: true });
    const fix = cheapestFix(roomy, llama8, gpuOf(24), { maxFraction: 0.9 });
    assert.ok(fix);
    assert.ok(fix.estimate.perGpuBytes <= 0.9 * 24 * GiB);
  });

  it('combines changes when no single one is enough, naming the one that matters', () => {
    const plan = makePlan({ method: 'lora', microBatch: 4, checkpointing: false });
    const fix = cheapestFix(plan, llama8, gpuOf(24));
    assert.ok(fix);
    assert.ok(fix.changes.length > 1);
    assert.equal(fix.estimate.fits, true);
    assert.match(fix.description, /\(the largest saving\), with /);
    // Minimal: dropping any one of its changes no longer fits.
    assert.ok(!fix.description.includes('gradient checkpointing') || fix.changes.length >= 2);
  });
});

describe('estimateTrainTime', () => {
  it('states its assumptions and scales with tokens', () => {
    const plan = makePlan({ method: 'lora', packing: true });
    const a = estimateTrainTime(plan, llama8, FIXTURE_H100, 1e6);
    const b = estimateTrainTime(plan, llama8, FIXTURE_H100, 2e6);
    // The first step's warm-up is paid once, whatever the tokens.
    const w = a.warmupSeconds;
    assert.equal(b.warmupSeconds, w);
    assert.ok(Math.abs((b.seconds - w) / (a.seconds - w) - 2) < 1e-9);
    assert.ok(a.assumptions.length >= 3);
    // Computed by the step model now, not a fixed share of the peak.
    assert.ok(a.utilization > 0.1 && a.utilization < 0.6, String(a.utilization));
  });

  it('full costs more FLOPs per token than LoRA; checkpointing adds a forward', () => {
    const full = estimateTrainTime(
      makePlan({ method: 'full', checkpointing: false }),
      llama8,
      FIXTURE_H100,
      1e6,
    );
    const lora = estimateTrainTime(
      makePlan({ method: 'lora', checkpointing: false }),
      llama8,
      FIXTURE_H100,
      1e6,
    );
    const ckpt = estimateTrainTime(
      makePlan({ method: 'lora', checkpointing: true }),
      llama8,
      FIXTURE_H100,
      1e6,
    );
    assert.ok(full.flopsPerToken > lora.flopsPerToken);
    assert.ok(ckpt.flopsPerToken > lora.flopsPerToken);
    // ~6 × 8B for full.
    assert.ok(full.flopsPerToken / 8e9 > 5.5 && full.flopsPerToken / 8e9 < 7.5);
  });
});

describe('recommendMethod', () => {
  it('LoRA by default, full with a large dataset when it fits, QLoRA when LoRA does not fit', () => {
    assert.equal(recommendMethod(qwen05, FIXTURE_H100, 1, 5_000).method, 'lora');
    assert.equal(recommendMethod(qwen05, FIXTURE_H100, 1, 500_000).method, 'full');
    // 8B full fine-tuning in bf16 with checkpointing fits 80 GB (measured 62.3 GiB).
    assert.equal(recommendMethod(llama8, FIXTURE_H100, 1, 500_000).method, 'full');
    assert.equal(recommendMethod(llama8, gpuOf(40), 1, 500_000).method, 'lora');
    const small = recommendMethod(llama8, gpuOf(16), 1, 5_000);
    assert.equal(small.method, 'qlora');
    assert.match(small.reason, /QLoRA/);
  });
});

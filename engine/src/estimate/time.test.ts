import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findGpu } from '../hardware/gpus';
import { findCatalogModel } from '../models/catalog';
import { makePlan, type PlanOverrides } from './plan-defaults';
import { buildNativePlan } from '../nativePlan';
import { chatLikeLengths, expectedLongest, FITTED, groupedLongest } from './throughput';
import {
  estimateTrainTime,
  EXTRAPOLATED_UNCERTAINTY,
  HOST_PACED_UNCERTAINTY,
  MEASURED_UNCERTAINTY,
  type TrainTimeOptions,
} from './time';
import { FITTED_RUNS, predictRun, timeRatio } from './timeCalibration';

const H100 = findGpu('H100-80GB')!;
const llama1 = findCatalogModel('meta-llama/Llama-3.2-1B')!;
const llama8 = findCatalogModel('meta-llama/Llama-3.1-8B')!;
// Short chats, as the telecom template's: padding and per-micro-step costs matter.
const SHORT_CHATS = chatLikeLengths(450, 2048);
const TOKENS = SHORT_CHATS.reduce((a, b) => a + b, 0);

function seconds(o: PlanOverrides, options: TrainTimeOptions = {}, model = llama1): number {
  const plan = makePlan({
    maxLength: 2048,
    microBatch: 4,
    gradAccum: 8,
    checkpointing: true,
    ...o,
  });
  return estimateTrainTime(plan, model, H100, TOKENS, { tokenLengths: SHORT_CHATS, ...options })
    .seconds;
}

describe('estimateTrainTime: calibration', () => {
  for (const run of FITTED_RUNS) {
    it(`${run.id} (${run.tokensPerSecond} tok/s measured) is within 20%`, () => {
      const ratio = timeRatio(run);
      assert.ok(Math.abs(ratio - 1) <= 0.2, `predicted/measured time ${ratio.toFixed(3)}`);
    });
  }

  it('says ±25% on runs like the measured ones', () => {
    const run = FITTED_RUNS.find((r) => r.model.endsWith('8B') && r.packing)!;
    const t = predictRun(run);
    assert.equal(t.uncertainty, MEASURED_UNCERTAINTY);
    assert.deepEqual(t.extrapolations, []);
    assert.ok(Math.abs(t.secondsHigh / t.seconds - 1.25) < 1e-9);
  });

  it('says ±45% where the host paces the micro-steps, ±25% where the GPU does', () => {
    const time = (packing: boolean, model = llama1) =>
      estimateTrainTime(
        makePlan({ maxLength: 2048, microBatch: 4, gradAccum: 8, checkpointing: true, packing }),
        model,
        H100,
        TOKENS,
        { tokenLengths: SHORT_CHATS },
      );
    const padded = time(false);
    const m = padded.microStep;
    assert.ok(m.hostSeconds > m.computeSeconds + m.adapterSeconds, 'short padded 1B batches');
    assert.equal(padded.uncertainty, HOST_PACED_UNCERTAINTY);
    assert.match(padded.assumptions.at(-1)!, /^±45%: the host, not the GPU, paces/);
    const packed8b = time(true, llama8);
    assert.equal(packed8b.uncertainty, MEASURED_UNCERTAINTY);
    assert.match(packed8b.assumptions.at(-1)!, /^±25%: fitted on/);
  });
});

describe('estimateTrainTime: behaviour', () => {
  it('packing is faster than padding on short data', () => {
    for (const method of ['full', 'lora', 'qlora'] as const)
      assert.ok(
        seconds({ method, packing: true }) < seconds({ method, packing: false }) / 2,
        method,
      );
  });

  it("padded runs lose less to changing shapes without cuDNN's attention (the runner) than runs measured with it", () => {
    const layers = llama1.numLayers;
    const steps = { maxSteps: 10 };
    const micro = 8 * 10; // gradAccum × steps, checkpointing on: one pass per micro-step
    const runner = seconds({ packing: false }, steps);
    const before = seconds({ packing: false }, { ...steps, cudnnAttentionPlans: true });
    const perLayer = FITTED.cudnnAttentionPlanSecondsPerLayer - FITTED.variableShapeSecondsPerLayer;
    assert.ok(perLayer > 0);
    assert.ok(
      Math.abs(before - runner - micro * layers * perLayer) < 1e-6,
      `${before} − ${runner}`,
    );
    // packed rows have one shape: nothing to lose either way
    assert.equal(
      seconds({ packing: true }, steps),
      seconds({ packing: true }, { ...steps, cudnnAttentionPlans: true }),
    );
  });

  it('gradient checkpointing is slower', () => {
    const off = seconds({ packing: true, checkpointing: false });
    const on = seconds({ packing: true, checkpointing: true });
    assert.ok(on > off * 1.15 && on < off * 1.5, `${on} vs ${off}`);
  });

  it('QLoRA is slower than LoRA, packed or not', () => {
    for (const packing of [true, false])
      assert.ok(seconds({ method: 'qlora', packing }) > seconds({ method: 'lora', packing }));
  });

  it("QLoRA's fp32 upcast costs what the profile measured; upcast_to_fp32: false saves it", () => {
    // the profile's shape: 1B, one micro-step of 4 × 2048 packed tokens, checkpointing
    const step = (kbitUpcast: boolean | undefined, method: 'qlora' | 'lora' = 'qlora') => {
      const plan = {
        ...makePlan({ method, maxLength: 2048, microBatch: 4, gradAccum: 1, packing: true }),
        kbitUpcast,
      };
      return estimateTrainTime(plan, llama1, H100, TOKENS, { tokenLengths: SHORT_CHATS }).microStep;
    };
    const upcast = step(undefined);
    const kept = step(false);
    assert.ok(Math.abs(upcast.upcastSeconds - (0.414 - 0.295)) < 0.002, `${upcast.upcastSeconds}`);
    assert.equal(kept.upcastSeconds, 0);
    assert.ok(kept.seconds < upcast.seconds - 0.05, `${kept.seconds} vs ${upcast.seconds}`);
    assert.equal(step(undefined, 'lora').upcastSeconds, 0);
  });

  it('a bigger model takes longer', () => {
    assert.ok(seconds({ packing: true }, {}, llama8) > 3 * seconds({ packing: true }));
  });

  it('honours max_steps: time is steps × step time plus the first-step warm-up, whatever the epochs', () => {
    const plan = makePlan({ maxLength: 2048, microBatch: 4, gradAccum: 8, epochs: 3 });
    const opts = { tokenLengths: SHORT_CHATS };
    const ten = estimateTrainTime(plan, llama1, H100, TOKENS, { ...opts, maxSteps: 10 });
    const twenty = estimateTrainTime(plan, llama1, H100, TOKENS, { ...opts, maxSteps: 20 });
    const epochs = estimateTrainTime(plan, llama1, H100, TOKENS, opts);
    assert.equal(ten.steps, 10);
    assert.ok(Math.abs(ten.seconds - (10 * ten.secondsPerStep + ten.warmupSeconds)) < 1e-9);
    assert.ok(Math.abs(twenty.seconds - ten.seconds - 10 * ten.secondsPerStep) < 1e-9);
    // 3 epochs of 1,000 chats at 32 per step: 94 steps.
    assert.equal(epochs.steps, Math.ceil((3 * 1000) / 32));
    assert.match(ten.assumptions.join('\n'), /max_steps: 10 steps/);
  });

  it('padding follows the data: a longer tail pads more', () => {
    const even = Array.from({ length: 100 }, () => 450);
    assert.ok(Math.abs(expectedLongest(even, 4) - 450) < 1e-9);
    const skewed = [...Array.from({ length: 99 }, () => 400), 5400];
    // P(the long one is in a batch of 4) ≈ 4%: 400 + 0.0394 × 5000.
    assert.ok(Math.abs(expectedLongest(skewed, 4) - (400 + (1 - 0.99 ** 4) * 5000)) < 1e-6);
    const plan = makePlan({ maxLength: 8192, microBatch: 4 });
    const tokens = (lengths: number[]) => lengths.reduce((a, b) => a + b, 0);
    const evenRun = estimateTrainTime(plan, llama1, H100, tokens(even), { tokenLengths: even });
    const skewRun = estimateTrainTime(plan, llama1, H100, tokens(skewed), { tokenLengths: skewed });
    assert.ok(
      skewRun.tokensPerMicroStep.padded / skewRun.tokensPerMicroStep.real >
        evenRun.tokensPerMicroStep.padded / evenRun.tokensPerMicroStep.real,
    );
  });

  it('a cost line when a price per GPU-hour is given, for every GPU', () => {
    const plan = makePlan({ maxLength: 2048, numGpus: 2 });
    const t = estimateTrainTime(plan, llama8, H100, 1e7, {
      tokenLengths: SHORT_CHATS,
      pricePerGpuHour: 3,
    });
    assert.ok(t.cost);
    assert.ok(Math.abs(t.cost.total - (t.seconds / 3600) * 2 * 3) < 1e-9);
    assert.ok(t.cost.low < t.cost.total && t.cost.total < t.cost.high);
    assert.equal(estimateTrainTime(plan, llama8, H100, 1e7).cost, undefined);
  });

  it('widens the uncertainty where it extrapolates, and says why', () => {
    const rtx = findGpu('RTX4090-24GB')!;
    const t = estimateTrainTime(makePlan({ maxLength: 2048 }), llama1, rtx, 1e6);
    assert.equal(t.uncertainty, EXTRAPOLATED_UNCERTAINTY);
    assert.ok(t.extrapolations.some((e) => /RTX4090/.test(e)));
    assert.ok(t.extrapolations.some((e) => /lengths unknown/.test(e)));
    // A slower GPU takes longer.
    const h100 = estimateTrainTime(makePlan({ maxLength: 2048 }), llama1, H100, 1e6);
    assert.ok(t.seconds > h100.seconds);
  });
});

describe('group_by_length (issue 13)', () => {
  const planOf = (training: Record<string, unknown>) =>
    buildNativePlan({
      method: 'lora',
      model: { name_or_path: 'meta-llama/Llama-3.2-1B' },
      training,
    }).training.trainSamplingStrategy;

  it('the Plan carries train_sampling_strategy, and the old group_by_length: true as the same', () => {
    assert.equal(planOf({ train_sampling_strategy: 'group_by_length' }), 'group_by_length');
    assert.equal(planOf({ group_by_length: true }), 'group_by_length');
    assert.equal(planOf({ train_sampling_strategy: 'sequential' }), 'sequential');
    assert.equal(planOf({ group_by_length: false }), undefined);
    assert.equal(planOf({ train_sampling_strategy: 'shuffled' }), undefined);
  });

  it('pads a micro-batch to the longest of near-equal neighbours, not of random rows', () => {
    // Lengths 1..1000: a random 4 pad to ≈ 800; sorted mega-batches of 200 rows
    // cut into 50 groups of 4 pad to the mean of the groups' tops ≈ 508.
    const uniform = Array.from({ length: 1000 }, (_, i) => i + 1);
    assert.ok(Math.abs(expectedLongest(uniform, 4) - 800.8) < 1);
    assert.ok(Math.abs(expectedLongest(uniform, 4, 'group_by_length') - 507.99) < 0.1);
    assert.equal(groupedLongest([7, 7, 7], 4), 7);
    // One row per micro-batch: nothing to pad either way.
    const mean = SHORT_CHATS.reduce((a, b) => a + b, 0) / SHORT_CHATS.length;
    assert.ok(
      Math.abs(
        groupedLongest(
          [...SHORT_CHATS].sort((a, b) => a - b),
          1,
        ) /
          mean -
          1,
      ) < 0.02,
    );
    // Random strategies keep the random formula.
    assert.equal(expectedLongest(SHORT_CHATS, 8, 'random'), expectedLongest(SHORT_CHATS, 8));
  });
});

describe('group_by_length: runs shorter than a mega-batch', () => {
  it('see the first mega-batch longest first: its first groups pad to more than the epoch mean', () => {
    const uniform = Array.from({ length: 1000 }, (_, i) => i + 1);
    const epoch = groupedLongest(uniform, 4);
    // 12 micro-batches (6 steps × 2, the whole runs'): the top 12 of 50 groups.
    const short = groupedLongest(uniform, 4, 12);
    assert.ok(short > 850 && short < 900, `first 12 groups pad to ${short}`);
    assert.equal(groupedLongest(uniform, 4, 1), 1000);
    assert.equal(groupedLongest(uniform, 4, 50), epoch);
    assert.equal(expectedLongest(uniform, 4, 'group_by_length', 1e6), epoch);
  });
});

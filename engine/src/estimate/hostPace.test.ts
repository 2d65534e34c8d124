import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findGpu } from '../hardware/gpus';
import { findCatalogModel } from '../models/catalog';
import { HOST_PACE_RANGE, solveHostPace, withHostPace } from './hostPace';
import { makePlan } from './plan-defaults';
import { chatLikeLengths, FITTED } from './throughput';
import { estimateTrainTime, hostPaceOf } from './time';

const H100 = findGpu('H100-80GB')!;
const llama1 = findCatalogModel('meta-llama/Llama-3.2-1B')!;
const SHORT_CHATS = chatLikeLengths(450, 2048);
const TOKENS = SHORT_CHATS.reduce((a, b) => a + b, 0);
const plan = (packing: boolean) =>
  makePlan({ maxLength: 2048, microBatch: 4, gradAccum: 8, checkpointing: true, packing });
const time = (packing: boolean, hostPace = 1) =>
  estimateTrainTime(plan(packing), llama1, H100, TOKENS, {
    tokenLengths: SHORT_CHATS,
    constants: withHostPace(FITTED, hostPace),
  });

describe('host pace', () => {
  it('scales every host term of the model and leaves the GPU ones', () => {
    const paced = withHostPace(FITTED, 0.5);
    assert.equal(paced.hostSecondsPerLayer, FITTED.hostSecondsPerLayer * 0.5);
    assert.equal(paced.hostSecondsPerAdapter, FITTED.hostSecondsPerAdapter * 0.5);
    assert.equal(paced.variableShapeSecondsPerLayer, FITTED.variableShapeSecondsPerLayer * 0.5);
    assert.equal(paced.matmulEfficiency, FITTED.matmulEfficiency);
    assert.equal(paced.adapterSecondsPerTokenWidth, FITTED.adapterSecondsPerTokenWidth);
  });

  it('makes a host-paced padded run faster and barely moves a GPU-paced packed one', () => {
    const padded = time(false);
    assert.ok(padded.hostPaced, 'short padded 1B batches are host-paced');
    const fast = time(false, 0.6);
    assert.ok(
      fast.secondsPerStep < 0.7 * padded.secondsPerStep,
      `${fast.secondsPerStep} vs ${padded.secondsPerStep}`,
    );
    const packed = time(true);
    assert.ok(!packed.hostPaced, 'packed 2048-token rows keep the GPU busy');
    assert.ok(Math.abs(time(true, 0.6).secondsPerStep / packed.secondsPerStep - 1) < 0.05);
  });

  it('solves back the pace a host-paced step was estimated at', () => {
    const measured = time(false, 0.62).secondsPerStep;
    const pace = hostPaceOf(
      plan(false),
      llama1,
      H100,
      TOKENS,
      { tokenLengths: SHORT_CHATS },
      measured,
    );
    assert.ok(pace !== undefined && Math.abs(pace - 0.62) < 1e-3, String(pace));
  });

  it('reads no pace from a GPU-paced step, a step outside the range, or no step', () => {
    const packed = time(true).secondsPerStep;
    assert.equal(
      hostPaceOf(plan(true), llama1, H100, TOKENS, { tokenLengths: SHORT_CHATS }, packed),
      undefined,
    );
    const linear = (pace: number) => ({ seconds: pace, hostPaced: true });
    assert.equal(solveHostPace(HOST_PACE_RANGE.min / 2, linear), undefined);
    assert.equal(solveHostPace(HOST_PACE_RANGE.max * 2, linear), undefined);
    assert.equal(solveHostPace(0, linear), undefined);
    assert.ok(Math.abs(solveHostPace(1.5, linear)! - 1.5) < 1e-6);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findGpu } from '../hardware/gpus';
import { findCatalogModel } from '../models/catalog';
import {
  HOST_PACE_RANGE,
  hostPaceOfStep,
  launchTargetOf,
  learnHostPace,
  solveHostPace,
  stepAtPace,
  withHostPace,
} from './hostPace';
import { makePlan } from './plan-defaults';
import { chatLikeLengths, FITTED } from './throughput';
import {
  estimateTrainTime,
  HOST_PACED_UNCERTAINTY,
  LEARNT_PACE_UNCERTAINTY,
  MEASURED_UNCERTAINTY,
} from './time';

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
    const pace = hostPaceOfStep(time(false).stepParts, measured);
    assert.ok(pace !== undefined && Math.abs(pace - 0.62) < 1e-3, String(pace));
  });

  it('reads no pace from a GPU-paced step, a step outside the range, or no step', () => {
    const packed = time(true).secondsPerStep;
    assert.equal(hostPaceOfStep(time(true).stepParts, packed), undefined);
    const linear = (pace: number) => ({ seconds: pace, hostPaced: true });
    assert.equal(solveHostPace(HOST_PACE_RANGE.min / 2, linear), undefined);
    assert.equal(solveHostPace(HOST_PACE_RANGE.max * 2, linear), undefined);
    assert.equal(solveHostPace(0, linear), undefined);
    assert.ok(Math.abs(solveHostPace(1.5, linear)! - 1.5) < 1e-6);
  });
});

describe('a pace learnt from past runs', () => {
  it('steps at a pace as the estimate does with its host terms scaled', () => {
    const parts = time(false).stepParts;
    for (const pace of [0.5, 0.8, 1, 1.3]) {
      const at = stepAtPace(parts, pace);
      const estimated = time(false, pace);
      assert.ok(Math.abs(at.seconds / estimated.secondsPerStep - 1) < 1e-9, `${pace}`);
      assert.equal(at.hostPaced, estimated.hostPaced);
    }
    assert.ok(Math.abs(hostPaceOfStep(parts, time(false, 0.7).secondsPerStep)! - 0.7) < 1e-3);
  });

  it('takes the median of the same method, else of every run on the target', () => {
    const runs = [
      { pace: 0.6, method: 'full' as const },
      { pace: 0.62, method: 'full' as const },
      { pace: 0.9, method: 'full' as const },
      { pace: 0.75, method: 'qlora' as const },
    ];
    assert.deepEqual(learnHostPace(runs, 'full', 'local'), {
      pace: 0.62,
      runs: 3,
      target: 'local',
      basis: 'method',
    });
    assert.deepEqual(learnHostPace(runs, 'qlora', 'local'), {
      pace: 0.75,
      runs: 1,
      target: 'local',
      basis: 'method',
    });
    assert.deepEqual(learnHostPace(runs, 'lora', 'local'), {
      pace: 0.685,
      runs: 4,
      target: 'local',
      basis: 'any',
    });
    assert.equal(learnHostPace([], 'lora', 'local'), undefined);
    // the config's own probe (or run) there wins over the method's other configs
    const probed = [...runs, { pace: 1.04, method: 'qlora' as const, sameConfig: true }];
    assert.deepEqual(learnHostPace(probed, 'qlora', 'local'), {
      pace: 1.04,
      runs: 1,
      target: 'local',
      basis: 'config',
    });
    const twice = [...probed, { pace: 0.96, method: 'qlora' as const, sameConfig: true }];
    assert.equal(learnHostPace(twice, 'qlora', 'local')!.pace, 1.0);
    assert.equal(learnHostPace(twice, 'qlora', 'local')!.runs, 2);
  });

  it('names the launch target a config goes to', () => {
    assert.equal(launchTargetOf({}), 'local');
    assert.equal(
      launchTargetOf({ launch: { target: 'ssh', ssh: { host: 'gpu-box' } } }),
      'ssh gpu-box',
    );
    assert.equal(
      launchTargetOf({ launch: { target: 'slurm', slurm: { via_ssh: 'login' } } }),
      'slurm via login',
    );
    assert.equal(launchTargetOf({ launch: { target: 'slurm' } }), 'slurm');
    assert.equal(
      launchTargetOf({ launch: { target: 'ssh', ssh: { host: 'a' } } }, 'local'),
      'local',
    );
    assert.equal(launchTargetOf({ launch: 'oops' }), 'local');
  });

  it('estimates a host-paced run at the learnt pace, says where it was learnt, and keeps its parts at pace 1', () => {
    const learnt = { pace: 0.6, runs: 3, target: 'ssh gpu-box', basis: 'method' as const };
    const plain = time(false);
    const paced = estimateTrainTime(plan(false), llama1, H100, TOKENS, {
      tokenLengths: SHORT_CHATS,
      hostPace: learnt,
    });
    assert.ok(Math.abs(paced.secondsPerStep / time(false, 0.6).secondsPerStep - 1) < 1e-9);
    assert.deepEqual(paced.hostPace, learnt);
    assert.equal(paced.uncertainty, LEARNT_PACE_UNCERTAINTY);
    assert.equal(plain.uncertainty, HOST_PACED_UNCERTAINTY);
    assert.ok(
      paced.assumptions.some((a) =>
        /host pace ×0\.60 .*learnt on ssh gpu-box \(median of 3 timed runs/.test(a),
      ),
    );
    assert.ok(
      plain.assumptions.some((a) =>
        /a short probe on the launch target, `tunelab launch FILE --probe`, or the first 16 steps of any run there teach Tunelab/.test(
          a,
        ),
      ),
    );
    assert.deepEqual(paced.stepParts, plain.stepParts);
    const own = estimateTrainTime(plan(false), llama1, H100, TOKENS, {
      tokenLengths: SHORT_CHATS,
      hostPace: { ...learnt, runs: 1, basis: 'config' },
    });
    assert.ok(
      own.assumptions.some((a) =>
        /learnt on ssh gpu-box from this config's own timed run there \(a pace probe, or a training's first 16 steps or more\)/.test(
          a,
        ),
      ),
    );
  });

  it('leaves a GPU-paced run its band, and says the pace it took moves it little', () => {
    const learnt = { pace: 0.6, runs: 3, target: 'local', basis: 'any' } as const;
    const fitted = estimateTrainTime(plan(true), llama1, H100, TOKENS, {
      tokenLengths: SHORT_CHATS,
    });
    const packed = estimateTrainTime(plan(true), llama1, H100, TOKENS, {
      tokenLengths: SHORT_CHATS,
      hostPace: learnt,
    });
    assert.equal(packed.hostPaced, false);
    assert.deepEqual(packed.hostPace, learnt);
    assert.equal(packed.uncertainty, MEASURED_UNCERTAINTY);
    // the host's share of a GPU-paced step is small, but the figure is the paced one
    assert.ok(packed.seconds < fitted.seconds && packed.seconds > 0.9 * fitted.seconds);
    assert.ok(
      packed.assumptions.some((a) =>
        /host pace ×0\.60 .*learnt on local.*: the GPU paces these micro-steps, so it moves them little/.test(
          a,
        ),
      ),
    );
    assert.ok(!fitted.assumptions.some((a) => a.includes('host pace')));
  });
});

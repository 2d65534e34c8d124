import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { hostPaceOfStep, stepAtPace, type StepParts } from '../../engine/src/estimate/hostPace';
import {
  hostPacesNear,
  hostPacesPath,
  KEPT_PER_TARGET,
  launchEstimateOf,
  learnFromEnd,
  learnWhileRunning,
  LIVE_PACE_INTERVALS,
  PaceWhileRunning,
  pacedRunsReader,
  rememberHostPace,
  type LaunchEstimate,
} from './hostPaces';
import { loadLaunchSpec } from './launchConfig';
import { RunStore, type RunRecord } from './runRecord';
import { pacedProject as project } from '../../test/support/pacedProject';
import { completedRecord } from '../../test/support/runRecords';

function record(
  id: string,
  estimate: LaunchEstimate | undefined,
  state: RunRecord['state'],
): RunRecord {
  return completedRecord({ id, config: 'run.finetune.yaml', target: 'ssh', state, estimate });
}

test('a launch records the estimate in the parts a host pace moves, for its target', () => {
  const { config } = project('meta-llama/Llama-3.2-1B');
  const estimate = launchEstimateOf(loadLaunchSpec(config))!;
  assert.equal(estimate.target, 'ssh gpu-box');
  assert.equal(estimate.method, 'lora');
  assert.equal(estimate.stepParts.microSteps, 2);
  assert.ok(stepAtPace(estimate.stepParts, 1).hostPaced, 'short padded 1B batches: host-paced');
  assert.ok(
    Math.abs(stepAtPace(estimate.stepParts, 1).seconds / estimate.secondsPerStep - 1) < 1e-9,
  );
  assert.equal(launchEstimateOf(loadLaunchSpec(config, 'local'))!.target, 'local');
});

test('a completed run keeps the pace its steady step gives; a GPU-paced or unfinished one keeps none', () => {
  const { workspace, config } = project('meta-llama/Llama-3.2-1B');
  const estimate = launchEstimateOf(loadLaunchSpec(config))!;
  const steady = stepAtPace(estimate.stepParts, 0.6).seconds;
  const kept = rememberHostPace(workspace, record('r1', estimate, 'completed'), steady)!;
  assert.ok(Math.abs(kept.pace - 0.6) < 1e-3, String(kept.pace));
  assert.equal(kept.method, 'lora');
  const read = pacedRunsReader(workspace);
  assert.deepEqual(
    read('ssh gpu-box').map((r) => r.pace),
    [kept.pace],
  );
  assert.deepEqual(read('local'), []);

  assert.equal(rememberHostPace(workspace, record('r2', estimate, 'failed'), steady), undefined);
  assert.equal(
    rememberHostPace(workspace, record('r3', undefined, 'completed'), steady),
    undefined,
  );
  assert.equal(
    rememberHostPace(workspace, record('r4', estimate, 'completed'), undefined),
    undefined,
  );
  // packed 2048-token rows of an 8B model: the GPU's time hides the host's
  const big = project('meta-llama/Llama-3.1-8B', true);
  const packed = launchEstimateOf(loadLaunchSpec(big.config))!;
  assert.ok(!stepAtPace(packed.stepParts, 1).hostPaced);
  const gpuPaced = stepAtPace(packed.stepParts, 1).seconds;
  assert.equal(hostPaceOfStep(packed.stepParts, gpuPaced), undefined);
  assert.equal(
    rememberHostPace(big.workspace, record('r5', packed, 'completed'), gpuPaced),
    undefined,
  );
  assert.equal(fs.existsSync(hostPacesPath(big.workspace)), false);
});

test('the newest runs of a target are kept, a run once; the reader follows the file', () => {
  const { workspace, config } = project('meta-llama/Llama-3.2-1B');
  const estimate = launchEstimateOf(loadLaunchSpec(config))!;
  const read = pacedRunsReader(workspace);
  for (let i = 0; i < KEPT_PER_TARGET + 5; i++) {
    const steady = stepAtPace(estimate.stepParts, 0.5 + i * 0.01).seconds;
    rememberHostPace(workspace, record(`r${i}`, estimate, 'completed'), steady);
  }
  const paces = read('ssh gpu-box').map((r) => r.pace);
  assert.equal(paces.length, KEPT_PER_TARGET);
  assert.ok(Math.abs(paces[0]! - 0.55) < 1e-3, `oldest kept ${paces[0]}`);
  // the same run again replaces its sample
  rememberHostPace(
    workspace,
    record('r24', estimate, 'completed'),
    stepAtPace(estimate.stepParts, 0.9).seconds,
  );
  const again = read('ssh gpu-box').map((r) => r.pace);
  assert.equal(again.length, KEPT_PER_TARGET);
  assert.ok(Math.abs(again.at(-1)! - 0.9) < 1e-3);
  // junk and an oversized file teach nothing, and throw nothing
  fs.writeFileSync(
    hostPacesPath(workspace),
    '{"ssh gpu-box": [{"pace": "x"}, 3, null, {"pace": 1e308, "method": "lora"}, {"pace": -1, "method": "full"}]}',
  );
  assert.deepEqual(read('ssh gpu-box'), []);
  fs.writeFileSync(hostPacesPath(workspace), 'not json');
  assert.deepEqual(read('ssh gpu-box'), []);
  fs.writeFileSync(hostPacesPath(workspace), ' '.repeat(2 << 20));
  assert.deepEqual(read('ssh gpu-box'), []);
});

test('the end of a training run records its steady step; an evaluation run teaches nothing', () => {
  const { workspace, config } = project('meta-llama/Llama-3.2-1B');
  const estimate = launchEstimateOf(loadLaunchSpec(config))!;
  const store = new RunStore(workspace);
  store.save(record('train1', estimate, 'completed'));
  const steady = stepAtPace(estimate.stepParts, 0.7).seconds;
  const sample = learnFromEnd(store, store.load('train1')!, steady)!;
  assert.ok(Math.abs(sample.pace - 0.7) < 1e-3);
  assert.equal(store.load('train1')!.steadyStepSeconds, steady);
  // the next launch's estimate is the one shown, at the pace learnt; its parts stay at pace 1
  const next = launchEstimateOf(loadLaunchSpec(config))!;
  for (const [part, value] of Object.entries(estimate.stepParts))
    assert.ok(Math.abs(next.stepParts[part as keyof StepParts] - value) <= 1e-12, part);
  assert.ok(
    Math.abs(next.secondsPerStep / steady - 1) < 1e-3,
    `${next.secondsPerStep} vs ${steady}`,
  );
  store.save({ ...record('eval1', estimate, 'completed'), kind: 'eval', evalOf: 'train1' });
  assert.equal(learnFromEnd(store, store.load('eval1')!, steady), undefined);
  assert.equal(pacedRunsReader(workspace)('ssh gpu-box').length, 1);
});

test('a run teaches from its first 15 timed intervals on, while it runs, once; its end replaces that', () => {
  const { workspace, config } = project('meta-llama/Llama-3.2-1B');
  const estimate = launchEstimateOf(loadLaunchSpec(config))!;
  const store = new RunStore(workspace);
  const read = pacedRunsReader(workspace);
  const at = (pace: number) => stepAtPace(estimate.stepParts, pace).seconds;
  store.save(record('live', estimate, 'running'));

  const pace = new PaceWhileRunning(store, 'live');
  assert.equal(
    pace.note({ steadyStepSeconds: at(0.7), steadyStepIntervals: LIVE_PACE_INTERVALS - 1 }),
    undefined,
  );
  assert.deepEqual(read('ssh gpu-box'), [], 'fewer intervals than a probe times: nothing yet');
  const note = pace.note({ steadyStepSeconds: at(0.7), steadyStepIntervals: LIVE_PACE_INTERVALS })!;
  assert.match(
    note,
    /^pace of the steps so far \(15 timed\): steady step \d+\.\d\d s \(estimated \d+\.\d\d s\): host pace ×0\.70 kept for the next estimates on ssh gpu-box$/,
  );
  assert.equal(store.load('live')!.steadyStepSoFar, true);
  assert.equal(
    pace.note({ steadyStepSeconds: at(0.5), steadyStepIntervals: 30 }),
    undefined,
    'once',
  );
  // a replay of the same log from its start (another stream) keeps what was taught
  assert.equal(learnWhileRunning(store, 'live', at(0.5), 30), undefined);
  assert.deepEqual(
    read('ssh gpu-box').map((r) => Math.round(r.pace * 100) / 100),
    [0.7],
  );

  // the completed end, all its steps: the same run's sample is replaced, not added
  const ended = store.update('live', { state: 'completed' })!;
  learnFromEnd(store, ended, at(0.8), 60);
  assert.deepEqual(
    read('ssh gpu-box').map((r) => Math.round(r.pace * 100) / 100),
    [0.8],
  );
  assert.equal(store.load('live')!.steadyStepSoFar, undefined);
  assert.equal(learnWhileRunning(store, 'live', at(0.5), 30), undefined, 'an ended run');

  // a probe is left to its end; an unfinished run keeps none from too few intervals
  store.save({ ...record('probe', estimate, 'running'), probe: 16 });
  assert.equal(learnWhileRunning(store, 'probe', at(0.5), 15), undefined);
  assert.equal(
    rememberHostPace(workspace, record('r2', estimate, 'failed'), at(0.5), 14),
    undefined,
  );
});

test('a stopped or failed run keeps the pace of the steps it timed, when enough', () => {
  const { workspace, config } = project('meta-llama/Llama-3.2-1B');
  const estimate = launchEstimateOf(loadLaunchSpec(config))!;
  const store = new RunStore(workspace);
  const at = (pace: number) => stepAtPace(estimate.stepParts, pace).seconds;
  store.save(record('stopped', estimate, 'cancelled'));
  store.save(record('early', estimate, 'failed'));
  const kept = learnFromEnd(store, store.load('stopped')!, at(0.65), 40)!;
  assert.ok(Math.abs(kept.pace - 0.65) < 1e-3);
  assert.equal(learnFromEnd(store, store.load('early')!, at(0.9), 6), undefined);
  assert.equal(store.load('early')!.steadyStepSeconds, undefined);
  assert.equal(pacedRunsReader(workspace)('ssh gpu-box').length, 1);
});

test("a config's own runs (its pace probe) set its estimate before the target's other configs", () => {
  const { workspace, config } = project('meta-llama/Llama-3.2-1B');
  const other = path.join(workspace, 'other.finetune.yaml');
  fs.copyFileSync(config, other);
  const estimate = launchEstimateOf(loadLaunchSpec(config))!;
  const store = new RunStore(workspace);
  const runOf = (id: string, file: string, pace: number) => {
    store.save({ ...record(id, estimate, 'completed'), config: file });
    learnFromEnd(store, store.load(id)!, stepAtPace(estimate.stepParts, pace).seconds);
  };
  runOf('other1', other, 0.9);
  runOf('other2', other, 1.1);
  runOf('mine', config, 0.6);
  const near = hostPacesNear(config).pacedRuns('ssh gpu-box');
  assert.deepEqual(
    near.map((r) => [Math.round(r.pace * 100) / 100, r.sameConfig]),
    [
      [0.9, false],
      [1.1, false],
      [0.6, true],
    ],
  );
  // its own pace, not the median of the method's three (0.9)
  const mine = launchEstimateOf(loadLaunchSpec(config))!;
  assert.ok(Math.abs(mine.secondsPerStep / stepAtPace(estimate.stepParts, 0.6).seconds - 1) < 1e-3);
  const theirs = launchEstimateOf(loadLaunchSpec(other))!;
  assert.ok(
    Math.abs(theirs.secondsPerStep / stepAtPace(estimate.stepParts, 1.0).seconds - 1) < 1e-3,
  );
  // a config never run there takes the method's median
  const fresh = path.join(workspace, 'fresh.finetune.yaml');
  fs.copyFileSync(config, fresh);
  const median = launchEstimateOf(loadLaunchSpec(fresh))!;
  assert.ok(
    Math.abs(median.secondsPerStep / stepAtPace(estimate.stepParts, 0.9).seconds - 1) < 1e-3,
  );
});

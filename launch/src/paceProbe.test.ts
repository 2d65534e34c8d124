import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { stepAtPace } from '../../engine/src/estimate/hostPace';
import { pacedProject } from '../../test/support/pacedProject';
import { completedRecord } from '../../test/support/runRecords';
import { launchEstimateOf, learnFromEnd } from './hostPaces';
import { loadLaunchSpec } from './launchConfig';
import { launchRun } from './launcher';
import {
  probeEndMessage,
  probeHasNoModel,
  probeOutputDir,
  probeRefusal,
  probeTrainArgs,
  PROBE_STEPS,
} from './paceProbe';
import { RunStore } from './runRecord';
import { startRunnerCommand } from './runnerCommand';

test("a probe's runner options and output directory sit beside the run's own", () => {
  assert.deepEqual(probeTrainArgs(PROBE_STEPS), ['--probe', '16']);
  assert.equal(probeOutputDir('runs/out'), 'runs/out-pace-probe');
  assert.equal(probeOutputDir('runs/out/'), 'runs/out-pace-probe');
  assert.equal(probeOutputDir('C:\\runs\\out\\'), 'C:\\runs\\out-pace-probe');
  assert.equal(probeOutputDir(undefined), undefined);
  assert.equal(probeRefusal({ dialect: 'native', configPath: 'a.finetune.yaml' }), undefined);
  assert.match(
    probeRefusal({ dialect: 'axolotl', configPath: 'a.yml' })!,
    /runs Tunelab's runner .* axolotl config/,
  );
});

test("a probe's end says the pace it kept, or why it kept none", () => {
  const { workspace, config } = pacedProject('meta-llama/Llama-3.2-1B');
  const estimate = launchEstimateOf(loadLaunchSpec(config))!;
  const store = new RunStore(workspace);
  const probe = store.save(
    completedRecord({ id: 'p1', config, target: 'ssh', estimate, probe: PROBE_STEPS }),
  );
  const steady = stepAtPace(estimate.stepParts, 0.8).seconds;
  const sample = learnFromEnd(store, probe, steady);
  assert.ok(sample && Math.abs(sample.pace - 0.8) < 1e-3, 'a probe teaches like a run');
  assert.match(
    probeEndMessage(probe, steady, sample),
    /^pace probe: steady step \d+\.\d\d s \(estimated \d+\.\d\d s\): host pace ×0\.80 kept for the next estimates on ssh gpu-box$/,
  );
  assert.match(probeEndMessage(probe, undefined, undefined), /reported no steady step/);
  assert.match(
    probeEndMessage({ ...probe, estimate: undefined }, steady, undefined),
    /no time estimate to learn a pace against/,
  );
  // far slower than any host pace explains
  const stalled = stepAtPace(estimate.stepParts, 40).seconds;
  assert.equal(learnFromEnd(store, probe, stalled), undefined);
  assert.match(
    probeEndMessage(probe, stalled, undefined),
    /no host pace from ×0\.25 to ×4 explains it/,
  );
  // packed rows of an 8B model: the GPU paces them whatever the host
  const big = pacedProject('meta-llama/Llama-3.1-8B', true);
  const packed = launchEstimateOf(loadLaunchSpec(big.config))!;
  const gpuProbe = { ...probe, estimate: packed };
  const gpuStep = stepAtPace(packed.stepParts, 1).seconds;
  assert.equal(learnFromEnd(store, gpuProbe, gpuStep), undefined);
  assert.match(
    probeEndMessage(gpuProbe, gpuStep, undefined),
    /the GPU, not the host, paces this run, so no host pace moves its estimate; nothing was kept/,
  );
});

test('a probe kept no model: evaluating or exporting it is refused before anything starts', async () => {
  const { workspace, config } = pacedProject('meta-llama/Llama-3.2-1B');
  const probe = completedRecord({ id: 'p2', config, target: 'ssh', probe: 8 });
  assert.equal(
    probeHasNoModel(probe, 'evaluate'),
    'run p2 is a pace probe: it trained 8 steps to time its host and kept no model to evaluate; evaluate a training run',
  );
  await assert.rejects(
    startRunnerCommand(
      probe,
      { kind: 'eval', command: 'evaluate', args: [] },
      { workspaceDir: workspace },
    ),
    /run p2 is a pace probe: .* no model to evaluate/,
  );
  assert.deepEqual(new RunStore(workspace).list(), [], 'nothing was recorded or started');
});

test('a non-native config is not probed, and nothing is recorded', async () => {
  const { workspace } = pacedProject('meta-llama/Llama-3.2-1B');
  const axolotl = path.join(workspace, 'axolotl.yml');
  fs.writeFileSync(
    axolotl,
    'base_model: meta-llama/Llama-3.2-1B\nadapter: lora\ndatasets:\n  - path: data/train.jsonl\n    type: chat_template\n',
  );
  await assert.rejects(
    launchRun(axolotl, { workspaceDir: workspace, probeSteps: 16 }),
    /a pace probe runs Tunelab's runner/,
  );
  assert.deepEqual(new RunStore(workspace).list(), []);
});

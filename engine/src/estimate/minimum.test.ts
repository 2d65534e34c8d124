// The smallest memory a run completes in (minimumBytes) and its relation to
// the per-GPU figure: which runs carry allocator slack (overhead.ts SLACK),
// and nvidia-smi's figure never below the smallest memory.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { analyze } from '../engine';
import { estimateMemory } from './memory';
import {
  CUDA_CONTEXT_BYTES,
  EXPANDABLE_SLACK,
  type SlackCoefficients,
  TRAINING_WORKSPACE_BYTES,
} from './overhead';
import type { RunPhase } from './types';

const TEMPLATES = path.resolve(__dirname, '..', '..', '..', 'templates', 'telecom-support');
const NO_SLACK: SlackCoefficients = { varyingLogits: 0, mlpIntermediate: 0, fullVaryingRows: 0 };

/**
 * The telecom LoRA template as analysed (its data read), with packing and the
 * fused loss set; without its evaluation after training, whose own floor
 * (tensors + context, no slack) could hide training's slack.
 */
function loraRun(packing: boolean, liger = false) {
  const file = path.join(TEMPLATES, 'lora.finetune.yaml');
  const a = analyze(fs.readFileSync(file, 'utf8'), file, { gpu: 'H100-80GB' });
  const plan = {
    ...a.plan!,
    data: { ...a.plan!.data, packing },
    training: { ...a.plan!.training, useLigerKernel: liger },
    evaluation: undefined,
    // the slack below is the default allocator's; expandable segments have their own
    cudaAllocator: { expandableSegments: false },
  };
  return { plan, model: a.model!, run: a.estimate!.run };
}

/** The slack one coefficient set to 1 adds to the smallest memory. */
function slackOf(
  r: ReturnType<typeof loraRun>,
  key: keyof SlackCoefficients,
  withRun = true,
): number {
  const at = (slack: SlackCoefficients) =>
    estimateMemory(r.plan, r.model, undefined, { run: withRun ? r.run : undefined, slack })
      .minimumBytes;
  return at({ ...NO_SLACK, [key]: 1 }) - at(NO_SLACK);
}

describe('smallest memory', () => {
  it('rows of varying length lose a share of a logits block; packed or fixed-length rows do not', () => {
    const unpacked = loraRun(false);
    const e = estimateMemory(unpacked.plan, unpacked.model, undefined, { run: unpacked.run });
    const logitsBlock = 4 * e.tokensPerStep * unpacked.model.vocabSize;
    assert.ok(Math.abs(slackOf(unpacked, 'varyingLogits') - logitsBlock) <= 2);
    assert.equal(slackOf(loraRun(true), 'varyingLogits'), 0);
    // without its data the plan's rows are all max_length: nothing varies
    assert.equal(slackOf(unpacked, 'varyingLogits', false), 0);
  });

  it("Liger's fused loss never asks for a whole logits block: no slack", () => {
    assert.ok(slackOf(loraRun(true), 'mlpIntermediate') > 0);
    assert.equal(slackOf(loraRun(true, true), 'mlpIntermediate'), 0);
    assert.equal(slackOf(loraRun(false, true), 'varyingLogits'), 0);
  });

  it('the per-GPU figure is raised to the smallest memory where the reserve model says less', () => {
    const r = loraRun(true);
    const big: SlackCoefficients = { ...NO_SLACK, mlpIntermediate: 400 };
    const raw = estimateMemory(r.plan, r.model, undefined, {
      run: r.run,
      slack: big,
      floorAtMinimum: false,
    });
    assert.ok(raw.minimumBytes > raw.perGpuBytes, 'this slack puts the smallest memory above');
    const e = estimateMemory(r.plan, r.model, undefined, { run: r.run, slack: big });
    assert.equal(e.minimumBytes, raw.minimumBytes);
    assert.equal(e.perGpuBytes, e.minimumBytes);
    assert.equal(e.bytes.overhead - raw.bytes.overhead, e.perGpuBytes - raw.perGpuBytes);
    assert.match(e.notes.overhead, /to reach the smallest memory the run completes in/);
    assert.equal(e.runPhases[runPhaseKey(e.peakRunPhase)], e.perGpuBytes);
    // the shipped slack leaves the template's figure alone
    const shipped = estimateMemory(r.plan, r.model, undefined, { run: r.run });
    assert.ok(shipped.minimumBytes < shipped.perGpuBytes);
    assert.doesNotMatch(shipped.notes.overhead, /smallest memory/);
  });
});

describe("smallest memory with expandable segments (the runner's default)", () => {
  const file = path.join(TEMPLATES, 'lora.finetune.yaml');
  const text = fs.readFileSync(file, 'utf8');
  const estimateOf = (config: string) => analyze(config, file, { gpu: 'H100-80GB' }).estimate!;
  const withEnv = (setting: string) =>
    text.replace(/^launch:\n/m, `launch:\n  env: { PYTORCH_CUDA_ALLOC_CONF: "${setting}" }\n`);

  it('is the per-GPU figure: tensors, context and a small slack, no stranded blocks', () => {
    const e = estimateOf(text);
    assert.equal(e.perGpuBytes, e.minimumBytes);
    assert.equal(
      e.bytes.overhead,
      Math.round(CUDA_CONTEXT_BYTES + TRAINING_WORKSPACE_BYTES + EXPANDABLE_SLACK.fixedRows),
    );
    assert.match(e.notes.overhead, /expandable segments/);
  });

  it("launch.env choosing another setting brings back the default allocator's reserve", () => {
    const expandable = estimateOf(text);
    const cached = estimateOf(withEnv('max_split_size_mb:512'));
    assert.ok(
      cached.perGpuBytes > expandable.perGpuBytes + 1024 ** 3,
      'the reserve of a cached logits block',
    );
    assert.ok(cached.minimumBytes < cached.perGpuBytes);
    assert.equal(
      estimateOf(withEnv('expandable_segments:True')).perGpuBytes,
      expandable.perGpuBytes,
    );
  });
});

function runPhaseKey(phase: RunPhase) {
  return phase === 'final-evaluation' ? 'finalEvaluation' : phase;
}

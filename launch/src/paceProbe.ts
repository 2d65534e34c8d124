// A pace probe: `tunelab launch FILE --probe` runs the config on its target for a
// few steps (the runner's `train CONFIG --probe N`: no evaluation, checkpoints,
// export, tracker or push, in OUTPUT_DIR-pace-probe) so that the first estimate
// there is not a guess. Where the host paces a run, machines differ 0.57-1.31×
// from the estimate; the probe's steady step teaches the target's pace like any
// completed run (hostPaces.ts), before the real run starts, and the config's own
// probe sets its pace before other configs' runs. Measured on two H100s that had
// run nothing before (bench/TIME.md): nine runs, each after its own 16-step probe,
// all within 20% with the pace it taught (6 of 9 without).

import { HOST_PACE_RANGE, stepAtPace } from '../../engine/src/estimate/hostPace';
import type { LaunchSpec } from './launchConfig';
import { learnFromEnd, paceMessage, type PaceSample } from './hostPaces';
import type { RunProgress } from './progressModel';
import type { RunRecord, RunStore } from './runRecord';

/** Steps a probe trains unless told: 14-15 intervals for the median, about a minute on a 1B model. */
export const PROBE_STEPS = 16;
/** The runner's bounds (pace_probe.py): 5 steps give 4 intervals between step ends, one above the 3 its steady step needs. */
export const PROBE_STEPS_RANGE = { min: 5, max: 1000 } as const;
/** Where the runner writes a probe: beside the run's own output directory. */
export const PROBE_DIR_SUFFIX = '-pace-probe';

/** The runner's options of a probe of `steps` steps. */
export function probeTrainArgs(steps: number): string[] {
  return ['--probe', String(steps)];
}

/** Why the config cannot be probed, or undefined. */
export function probeRefusal(spec: Pick<LaunchSpec, 'dialect' | 'configPath'>): string | undefined {
  if (spec.dialect !== 'native')
    return `a pace probe runs Tunelab's runner (train --probe); this is a ${spec.dialect} config`;
  return undefined;
}

/** The probe's output directory as the config would give it, from the run's own. */
export function probeOutputDir(outputDir: string | undefined): string | undefined {
  return outputDir === undefined ? undefined : outputDir.replace(/[\\/]+$/, '') + PROBE_DIR_SUFFIX;
}

/** Why a probe run cannot be evaluated or exported: it kept no model. */
export function probeHasNoModel(record: RunRecord, what: string): string {
  return `run ${record.id} is a pace probe: it trained ${record.probe} steps to time its host and kept no model to ${what}; ${what} a training run`;
}

/**
 * What the user is told at a completed probe's end: the pace kept (`sample`), or why
 * there is none to keep. A check never goes silent: a probe that teaches nothing says so.
 */
export function probeEndMessage(
  record: RunRecord,
  steadyStepSeconds: number | undefined,
  sample: PaceSample | undefined,
): string {
  if (sample) return `pace probe: ${paceMessage(record, sample)}`;
  if (steadyStepSeconds === undefined)
    return 'pace probe: the runner reported no steady step (fewer than 3 steps were timed); nothing was learnt';
  const estimate = record.estimate;
  const steady = `pace probe: steady step ${steadyStepSeconds.toFixed(2)} s`;
  if (!estimate) return `${steady}; the config has no time estimate to learn a pace against`;
  const against = `${steady} (estimated ${estimate.secondsPerStep.toFixed(2)} s)`;
  const { min, max } = HOST_PACE_RANGE;
  const explained =
    steadyStepSeconds >= stepAtPace(estimate.stepParts, min).seconds &&
    steadyStepSeconds <= stepAtPace(estimate.stepParts, max).seconds;
  // within what a pace explains, yet no pace was kept: the GPU's time is the step's
  if (explained)
    return `${against}: the GPU, not the host, paces this run, so no host pace moves its estimate; nothing was kept`;
  return `${against}: no host pace from ×${min} to ×${max} explains it (another job on the GPU?); nothing was kept`;
}

/**
 * A run's end as a stream saw it (the CLI's or the editor's): its steady step learnt and
 * kept (learnFromEnd: all its steps when it completed, those it timed when it was
 * stopped or failed), and the line the user is told; undefined when a training taught
 * nothing (a probe always says what it did).
 */
export function paceNoteAtEnd(
  store: RunStore,
  record: RunRecord,
  progress: Pick<RunProgress, 'steadyStepSeconds' | 'steadyStepIntervals'>,
): string | undefined {
  const { steadyStepSeconds, steadyStepIntervals } = progress;
  // a probe that did not complete timed nothing worth keeping; its failure says the rest
  if (record.probe !== undefined && record.state !== 'completed') return undefined;
  const toldWhileRunning = record.steadyStepSoFar === true;
  const learnt = learnFromEnd(store, record, steadyStepSeconds, steadyStepIntervals);
  if (record.probe !== undefined) return probeEndMessage(record, steadyStepSeconds, learnt);
  // a stopped or failed run whose pace was told while it ran: its last figure replaced that one quietly
  if (toldWhileRunning && record.state !== 'completed') return undefined;
  return learnt ? paceMessage(record, learnt) : undefined;
}

// The host's pace: how fast the machine's CPU drives eager PyTorch against the
// time model's host constants. Runs the host paces (narrow models, short padded
// batches) spread 0.57-1.29× their estimate across seven H100 machines. Whether a
// pace read from one run on a machine estimates its next runs is what
// bench/hostPaceTransfer.ts measures (bench/TIME.md); no config key sets it yet.

import type { ThroughputConstants } from './throughputConstants';

/** The model's host seconds, all of them scaled by the pace (1 = the fitted host). */
export function withHostPace(constants: ThroughputConstants, pace: number): ThroughputConstants {
  return {
    ...constants,
    hostSecondsPerLayer: constants.hostSecondsPerLayer * pace,
    hostSecondsPerAdapter: constants.hostSecondsPerAdapter * pace,
    hostSecondsPerQuantizedModule: constants.hostSecondsPerQuantizedModule * pace,
    peftInputCastHostSecondsPerAdapter: constants.peftInputCastHostSecondsPerAdapter * pace,
    variableShapeSecondsPerLayer: constants.variableShapeSecondsPerLayer * pace,
    cudnnAttentionPlanSecondsPerLayer: constants.cudnnAttentionPlanSecondsPerLayer * pace,
  };
}

/** Paces a run is read at: outside, the step is not the host's (a stall, a GPU-paced run). */
export const HOST_PACE_RANGE = { min: 0.25, max: 4 } as const;

/**
 * The pace that makes `stepSeconds(pace)` equal a measured steady step, by bisection
 * (the step grows with the pace); undefined when no pace in HOST_PACE_RANGE does, or
 * when the run is not host-paced at its measured pace (the GPU's time hides the host's:
 * the step says nothing of it).
 */
export function solveHostPace(
  measuredStepSeconds: number,
  stepSeconds: (pace: number) => { seconds: number; hostPaced: boolean },
): number | undefined {
  if (!(measuredStepSeconds > 0)) return undefined;
  let low: number = HOST_PACE_RANGE.min;
  let high: number = HOST_PACE_RANGE.max;
  if (stepSeconds(low).seconds > measuredStepSeconds) return undefined;
  if (stepSeconds(high).seconds < measuredStepSeconds) return undefined;
  for (let i = 0; i < 50; i++) {
    const mid = Math.sqrt(low * high);
    if (stepSeconds(mid).seconds < measuredStepSeconds) low = mid;
    else high = mid;
  }
  const pace = Math.sqrt(low * high);
  return stepSeconds(pace).hostPaced ? pace : undefined;
}

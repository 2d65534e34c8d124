// The host's pace: how fast the machine's CPU drives eager PyTorch against the
// time model's host constants. Runs the host paces (narrow models, short padded
// batches) spread 0.57-1.31× their estimate across ten H100 machines, and keep
// close to one pace within a machine. So the estimate takes a pace learnt from the
// runs Tunelab launched on the same target (launch/src/hostPaces.ts): each run's
// estimated step parts, recorded at launch, and its measured steady step, which the
// runner reports in its step events (the steps so far) and at its end (all of them).
// bench/hostPaceTransfer.ts measures what that gives.

import { valueAt } from '../parse';
import type { Method } from '../plan';
import { pacedSeconds, type ThroughputConstants } from './throughput';

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

/**
 * An estimated optimizer step in the parts a host pace moves, at pace 1: enough to
 * solve a measured step's pace later without the config, its data or its model.
 */
export interface StepParts {
  /** Micro-steps per optimizer step (gradient accumulation). */
  microSteps: number;
  /** GPU seconds of one micro-step. */
  gpuSeconds: number;
  /** Host seconds of one micro-step, at pace 1. */
  hostSeconds: number;
  /** Host seconds a micro-step of a new shape adds, at pace 1 (0 when packed). */
  variableShapeSeconds: number;
  /** Seconds of the optimizer's update (the GPU's). */
  optimizerSeconds: number;
}

/** The step the parts make at a host pace, and whether the host then paces it. */
export function stepAtPace(
  parts: StepParts,
  pace: number,
): { seconds: number; hostPaced: boolean } {
  const host = pace * parts.hostSeconds;
  const variable = pace * parts.variableShapeSeconds;
  return {
    seconds:
      parts.microSteps * pacedSeconds(parts.gpuSeconds, host, variable) + parts.optimizerSeconds,
    hostPaced: host + variable > parts.gpuSeconds,
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

/** The pace of a run whose estimated step parts and measured steady step are known. */
export function hostPaceOfStep(parts: StepParts, measuredStepSeconds: number): number | undefined {
  return solveHostPace(measuredStepSeconds, (pace) => stepAtPace(parts, pace));
}

/** A pace the estimate takes, and where it was learnt (said beside the figure). */
export interface LearnedHostPace {
  pace: number;
  /** How many runs it is the median of. */
  runs: number;
  /** The target they ran on, as the user names it (`local`, `ssh gpu-box`, ...). */
  target: string;
  /** Which runs: the estimated config's own (a probe or a training), the same method's, or any. */
  basis: 'config' | 'method' | 'any';
}

/** A past run's pace on a target, with its method (QLoRA's host terms differ from full's). */
export interface PacedRun {
  pace: number;
  method: Method;
  /** A run (or pace probe) of the very config being estimated: its pace is the closest. */
  sameConfig?: boolean;
}

/**
 * The pace to estimate a `method` run with on a target: the median pace of the config's
 * own runs there (a pace probe of it: within 12% of its run on one machine where other
 * configs' paces spread 0.75-1.48), else of the target's runs of the same method (QLoRA's
 * host terms read a slower pace than full's), else of all its runs; undefined without any.
 */
export function learnHostPace(
  runs: readonly PacedRun[],
  method: Method,
  target: string,
): LearnedHostPace | undefined {
  const usable = runs.filter((r) => r.pace > 0);
  const own = usable.filter((r) => r.sameConfig);
  const same = usable.filter((r) => r.method === method);
  const [chosen, basis] = own.length
    ? ([own, 'config'] as const)
    : same.length
      ? ([same, 'method'] as const)
      : ([usable, 'any'] as const);
  if (!chosen.length) return undefined;
  const sorted = chosen.map((r) => r.pace).sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const pace = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { pace, runs: sorted.length, target, basis };
}

/**
 * The launch target a config names, as paces are learnt per target: `local`,
 * `ssh HOST`, `slurm` or `slurm via HOST` (`launch.target`, else `override`'s kind).
 */
export function launchTargetOf(config: unknown, override?: string): string {
  const written = valueAt(config, ['launch', 'target']);
  const target = override ?? (typeof written === 'string' ? written : 'local');
  if (target === 'ssh') {
    const host = valueAt(config, ['launch', 'ssh', 'host']);
    return typeof host === 'string' ? `ssh ${host}` : 'ssh';
  }
  if (target === 'slurm') {
    const via = valueAt(config, ['launch', 'slurm', 'via_ssh']);
    return typeof via === 'string' ? `slurm via ${via}` : 'slurm';
  }
  return 'local';
}

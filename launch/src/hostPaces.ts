// A launch target's host pace, learnt from the training runs Tunelab launched
// there. Runs the host paces (short padded batches, narrow models) take what
// the machine's CPU gives them: 0.57-1.31× their estimate across ten H100s,
// close to one pace within a machine. So a launch records the time estimate's
// step parts with the run, the runner reports its measured steady step (of the
// steps so far in its step events, of all at its end), and the pace that joins
// the two is kept per target in
// `.tunelab/host-paces.json`; the estimate of the next config for that target
// takes the median of its own runs' paces there, else of the method's, else of
// all (engine/src/estimate/hostPace.ts).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { analyze } from '../../engine/src/engine';
import {
  HOST_PACE_RANGE,
  hostPaceOfStep,
  launchTargetOf,
  type PacedRun,
  type StepParts,
} from '../../engine/src/estimate/hostPace';
import { hubOptionsFromEnv } from '../../engine/src/models/hub';
import { isRecord } from '../../engine/src/parse';
import type { Method } from '../../engine/src/plan';
import { reportTrainTime } from '../../engine/src/report/estimateReport';
import type { LaunchSpec } from './launchConfig';
import type { RunProgress } from './progressModel';
import { findWorkspace, isFinal, type RunRecord, type RunStore } from './runRecord';

/** What a launch records of the time estimate: enough to read the run's pace at its end. */
export interface LaunchEstimate {
  /** `local`, `ssh HOST`, `slurm` or `slurm via HOST` (launchTargetOf). */
  target: string;
  method: Method;
  stepParts: StepParts;
  /** The estimate's steady step at launch, seconds, as shown (for the user's comparison). */
  secondsPerStep: number;
}

/** A pace learnt from one run: its end, or the steps it had timed so far. */
export interface PaceSample extends PacedRun {
  runId: string;
  /** Absolute path of the run's config: its own later estimates take this pace first. */
  config?: string;
  steadyStepSeconds: number;
  at: string;
}

/**
 * A run teaches its pace once this many step intervals are timed, what a probe of
 * PROBE_STEPS (16, paceProbe.ts) times: a first run on a new host that is stopped or
 * fails later has still measured it. A completed run teaches whatever it timed.
 */
export const LIVE_PACE_INTERVALS = 15;

/** Samples kept per target: the newest, so a host that changed is followed. */
export const KEPT_PER_TARGET = 20;
/** A file larger than this is not ours to read (20 samples of each of many targets fit). */
const MAX_FILE_BYTES = 1 << 20;

/** `.tunelab/host-paces.json` of a workspace. */
export function hostPacesPath(workspaceDir: string): string {
  return path.join(workspaceDir, '.tunelab', 'host-paces.json');
}

/**
 * The time estimate of a training launch, as the editor shows it (a pace learnt for the
 * target included), with its step in the parts a host pace moves (at pace 1, whatever
 * was learnt); undefined when the config cannot be estimated (the launch goes on).
 */
export function launchEstimateOf(spec: LaunchSpec): LaunchEstimate | undefined {
  try {
    const text = fs.readFileSync(spec.configPath, 'utf8');
    const analysis = analyze(text, spec.configPath, {
      hubCacheDir: hubOptionsFromEnv().cacheDir,
      pacedRuns: hostPacesNear(spec.configPath).pacedRuns,
    });
    const time = reportTrainTime(analysis);
    const method = analysis.plan?.method;
    if (!time || !method) return undefined;
    return {
      target: launchTargetOf(spec.parsed.value, spec.target),
      method,
      stepParts: time.stepParts,
      secondsPerStep: time.secondsPerStep,
    };
  } catch {
    return undefined;
  }
}

type PaceFile = Record<string, PaceSample[]>;

function readPaces(file: string): PaceFile {
  try {
    const value = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
    return isRecord(value) ? (value as PaceFile) : {};
  } catch {
    return {};
  }
}

/**
 * The pace a training's measured steady step gives against the estimate its launch
 * recorded, kept for its target (replacing what the same run taught before). Undefined
 * (nothing kept) when the run recorded no estimate, the runner reported no steady step,
 * the run has not completed and timed fewer than LIVE_PACE_INTERVALS intervals, or the
 * GPU paced the run (its step says nothing of the host).
 */
export function rememberHostPace(
  workspaceDir: string,
  record: RunRecord,
  steadyStepSeconds: number | undefined,
  intervals?: number,
): PaceSample | undefined {
  const estimate = record.estimate;
  if (!estimate || steadyStepSeconds === undefined || !timedEnough(record, intervals))
    return undefined;
  const pace = hostPaceOfStep(estimate.stepParts, steadyStepSeconds);
  if (pace === undefined) return undefined;
  const sample: PaceSample = {
    runId: record.id,
    method: estimate.method,
    config: record.config,
    pace: Math.round(pace * 1000) / 1000,
    steadyStepSeconds,
    at: record.endedAt ?? new Date().toISOString(),
  };
  const file = hostPacesPath(workspaceDir);
  const paces = readPaces(file);
  const kept = (paces[estimate.target] ?? []).filter((s) => s.runId !== record.id);
  paces[estimate.target] = [...kept, sample].slice(-KEPT_PER_TARGET);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, JSON.stringify(paces, null, 2) + '\n', { mode: 0o600 });
  fs.renameSync(temp, file);
  return sample;
}

function timedEnough(record: RunRecord, intervals: number | undefined): boolean {
  return record.state === 'completed' || (intervals ?? 0) >= LIVE_PACE_INTERVALS;
}

/** Each paces file as last read, with its mtime and size: read again only when they change. */
const lastRead = new Map<string, { stamp: string; paces: PaceFile }>();

function currentPaces(file: string): { stamp: string; paces: PaceFile } {
  let stamp = '';
  try {
    const stat = fs.statSync(file);
    stamp = stat.size > MAX_FILE_BYTES ? 'too large' : `${stat.mtimeMs}:${stat.size}`;
  } catch {
    // no paces learnt in this workspace yet
  }
  let seen = lastRead.get(file);
  if (!seen || seen.stamp !== stamp) {
    seen = { stamp, paces: stamp && stamp !== 'too large' ? readPaces(file) : {} };
    lastRead.set(file, seen);
  }
  return seen;
}

/**
 * A target's samples that a pace can be learnt from (a hand-edited file teaches no junk),
 * those of `configPath`'s own runs marked.
 */
function pacedRunsIn(paces: PaceFile, target: string, configPath?: string): readonly PacedRun[] {
  const samples = paces[target];
  if (!Array.isArray(samples)) return [];
  const own = configPath === undefined ? undefined : path.resolve(configPath);
  return samples
    .filter(
      (s): s is PaceSample =>
        typeof s?.pace === 'number' &&
        s.pace >= HOST_PACE_RANGE.min &&
        s.pace <= HOST_PACE_RANGE.max &&
        ['full', 'lora', 'qlora'].includes(s.method),
    )
    .map((s) => ({
      pace: s.pace,
      method: s.method,
      sameConfig:
        own !== undefined && typeof s.config === 'string' && path.resolve(s.config) === own,
    }));
}

/** The paced runs of each target in a workspace, for the analysis (`pacedRuns`), as the file is now. */
export function pacedRunsReader(workspaceDir: string): (target: string) => readonly PacedRun[] {
  const file = hostPacesPath(workspaceDir);
  return (target) => pacedRunsIn(currentPaces(file).paces, target);
}

/**
 * The host paces of the workspace a config is in (findWorkspace), as they are now: the
 * analysis' `pacedRuns`, and a stamp that changes with them (a cached analysis made
 * under another stamp is stale). One directory walk and one stat: the typing path's cost.
 */
export function hostPacesNear(configPath: string): {
  stamp: string;
  pacedRuns: (target: string) => readonly PacedRun[];
} {
  const workspace = findWorkspace(path.dirname(path.resolve(configPath)));
  const { stamp, paces } = currentPaces(hostPacesPath(workspace));
  return { stamp, pacedRuns: (target) => pacedRunsIn(paces, target, configPath) };
}

/**
 * A training's end as a stream saw it (after its final state is recorded): the runner's
 * steady step kept with the run, and the pace it gives kept for the target. A completed
 * run's is of all its steps; a stopped or failed one's, of the steps it timed (kept when
 * LIVE_PACE_INTERVALS or more).
 */
export function learnFromEnd(
  store: RunStore,
  record: RunRecord,
  steadyStepSeconds: number | undefined,
  intervals?: number,
): PaceSample | undefined {
  if (steadyStepSeconds === undefined || (record.kind ?? 'train') !== 'train') return undefined;
  if (!timedEnough(record, intervals)) return undefined;
  const updated = store.update(record.id, { steadyStepSeconds, steadyStepSoFar: undefined });
  return updated
    ? rememberHostPace(store.workspaceDir, updated, steadyStepSeconds, intervals)
    : undefined;
}

/**
 * A training still running whose step events have timed LIVE_PACE_INTERVALS intervals:
 * the pace of its steps so far, kept for its target once (its end replaces it), so the
 * next estimate there is measured even if this run is stopped. A probe is left to its
 * end, which says what it taught.
 */
export function learnWhileRunning(
  store: RunStore,
  recordId: string,
  steadyStepSeconds: number | undefined,
  intervals: number | undefined,
): { record: RunRecord; sample: PaceSample } | undefined {
  if (steadyStepSeconds === undefined || (intervals ?? 0) < LIVE_PACE_INTERVALS) return undefined;
  const record = store.load(recordId);
  if (!record || (record.kind ?? 'train') !== 'train' || record.probe !== undefined)
    return undefined;
  // an ended run, or one that taught already (a stream replayed from its start): nothing new
  if (isFinal(record.state) || record.steadyStepSeconds !== undefined) return undefined;
  const updated = store.update(record.id, { steadyStepSeconds, steadyStepSoFar: true });
  const sample = updated
    ? rememberHostPace(store.workspaceDir, updated, steadyStepSeconds, intervals)
    : undefined;
  return updated && sample ? { record: updated, sample } : undefined;
}

/** What the user is told of a learnt pace: `steady step 0.41 s (estimated 0.69 s): …`. */
export function paceMessage(record: RunRecord, sample: PaceSample): string {
  const estimated = record.estimate?.secondsPerStep;
  const against = estimated ? ` (estimated ${estimated.toFixed(2)} s)` : '';
  return `steady step ${sample.steadyStepSeconds.toFixed(2)} s${against}: host pace ×${sample.pace.toFixed(2)} kept for the next estimates on ${record.estimate?.target ?? 'this target'}`;
}

/**
 * One stream's view of a training while it runs: once the steps so far are timed enough
 * (LIVE_PACE_INTERVALS), their pace is learnt (learnWhileRunning), asked once per
 * stream, and the line to tell the user is returned. The CLI's and the editor's streams.
 */
export class PaceWhileRunning {
  private asked = false;

  constructor(
    private readonly store: RunStore,
    private readonly recordId: string,
  ) {}

  /** After each line the stream's progress model applied; a line for the user once a pace is kept. */
  note(
    progress: Pick<RunProgress, 'steadyStepSeconds' | 'steadyStepIntervals'>,
  ): string | undefined {
    const intervals = progress.steadyStepIntervals;
    if (this.asked || intervals === undefined || intervals < LIVE_PACE_INTERVALS) return undefined;
    this.asked = true;
    const learnt = learnWhileRunning(
      this.store,
      this.recordId,
      progress.steadyStepSeconds,
      intervals,
    );
    return learnt
      ? `pace of the steps so far (${intervals} timed): ${paceMessage(learnt.record, learnt.sample)}`
      : undefined;
  }
}

// A training that no stream followed to its end (launched with --detach, then
// only polled by the Runs view or `tunelab stop`) still teaches its host pace:
// the runner's steady step is read from the end of its log, once (hostPaces.ts
// keeps the pace): a completed run's of all its steps, a stopped or failed
// one's of the steps it timed. A local log is read from the disk; a
// remote one (ssh, SLURM through a login node) through its target's own log
// reader, from the last 64 KB the poll reported.

import { logIsLocal, logTail } from './evalResult';
import { learnFromEnd, type PaceSample } from './hostPaces';
import { ProgressModel } from './progressModel';
import { isFinal, type RunRecord, type RunStore } from './runRecord';
import type { TargetAdapter } from './target';

/** The `end` event is among a log's last lines; this is far more than it needs. */
const TAIL_BYTES = 64 * 1024;
/** A remote read that takes longer is given up: the pace is not worth a hung poll. */
const REMOTE_READ_MS = 30_000;

function mayTeach(record: RunRecord): boolean {
  return (
    isFinal(record.state) &&
    (record.kind ?? 'train') === 'train' &&
    record.estimate !== undefined &&
    // nothing taught yet, or only its steps so far while it ran
    (record.steadyStepSeconds === undefined || record.steadyStepSoFar === true)
  );
}

function learnFromTail(store: RunStore, record: RunRecord, tail: string): PaceSample | undefined {
  const model = new ProgressModel();
  // the first line may be cut: the model ignores what is not a whole line it knows
  for (const line of tail.split('\n')) if (line) model.applyLine(line);
  const { steadyStepSeconds, steadyStepIntervals } = model.progress;
  return learnFromEnd(store, record, steadyStepSeconds, steadyStepIntervals);
}

/**
 * The pace an ended training's log tells, once: read from the disk where the log is
 * local, else its last TAIL_BYTES through the target's reader (`logSize` from the poll
 * that saw the end). Undefined when nothing is learnt; a failed or slow remote read is
 * given up, not an error of the poll.
 */
export async function learnFromLog(
  store: RunStore,
  record: RunRecord,
  adapter: TargetAdapter,
  logSize: number | undefined,
): Promise<PaceSample | undefined> {
  if (!mayTeach(record)) return undefined;
  if (logIsLocal(record)) {
    const tail = logTail(record.logPath, TAIL_BYTES);
    return tail === undefined ? undefined : learnFromTail(store, record, tail);
  }
  if (logSize === undefined || !record.runDir) return undefined;
  const chunks: Buffer[] = [];
  let bytes = 0;
  const reader = adapter.readLog(record, Math.max(0, logSize - TAIL_BYTES), (chunk) => {
    bytes += chunk.length;
    chunks.push(chunk);
    // a log that grew after the poll: its end is still what is wanted, keep it bounded
    while (bytes > 2 * TAIL_BYTES && chunks.length > 1) bytes -= chunks.shift()!.length;
  });
  const timer = setTimeout(() => reader.cancel(), REMOTE_READ_MS);
  try {
    if ((await reader.done) !== 'ended') return undefined;
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
  }
  return learnFromTail(store, record, Buffer.concat(chunks).toString('utf8'));
}

// A completed local training that no stream followed to its end (launched with
// --detach, then only polled) still teaches its host pace: the runner's steady
// step is read from the end of its log, once (hostPaces.ts keeps the pace).

import { logIsLocal, logTail } from './evalResult';
import { learnFromEnd, type PaceSample } from './hostPaces';
import { ProgressModel } from './progressModel';
import type { RunRecord, RunStore } from './runRecord';

/** The `end` event is among a log's last lines; this is far more than it needs. */
const TAIL_BYTES = 64 * 1024;

export function learnFromLocalLog(store: RunStore, record: RunRecord): PaceSample | undefined {
  if (record.state !== 'completed' || (record.kind ?? 'train') !== 'train') return undefined;
  if (!record.estimate || record.steadyStepSeconds !== undefined || !logIsLocal(record))
    return undefined;
  const tail = logTail(record.logPath, TAIL_BYTES);
  if (tail === undefined) return undefined;
  const model = new ProgressModel();
  for (const line of tail.split('\n')) if (line) model.applyLine(line);
  return learnFromEnd(store, record, model.progress.steadyStepSeconds);
}

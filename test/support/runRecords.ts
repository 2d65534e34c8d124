// A run record as a finished local run leaves it, for tests that build a
// workspace of runs without launching them (serve, compare, chat, artefacts).

import type { RunRecord } from '../../launch/src/runRecord';

export function completedRecord(
  fields: Pick<RunRecord, 'id' | 'config'> & Partial<RunRecord>,
): RunRecord {
  const now = fields.createdAt ?? new Date().toISOString();
  return {
    version: 1,
    target: 'local',
    runDir: '',
    logPath: '',
    logOffset: 0,
    state: 'completed',
    command: [],
    secretNames: [],
    createdAt: now,
    updatedAt: now,
    ...fields,
  };
}

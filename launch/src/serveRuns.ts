// The serving recipe of runs picked by the user (`tunelab serve`, the Runs
// view's Copy Serving Recipe): an eval or export record stands for its
// training run, a completed export named among them is the one served for a
// full fine-tune (else that run's newest), and each run's config is read from
// disk (the recipe needs no launch settings, nor a reachable target).

import * as path from 'node:path';
import { readRunConfig, type RunRecord, type RunStore } from './runRecord';
import { derivedFrom } from './runnerCommand';
import {
  buildServeRecipe,
  serveModelRunOf,
  serveRunOf,
  uniqueNames,
  type ServeRecipe,
} from './serveRecipe';

/** The runs cannot be served as asked (a run of another method, a training run gone). */
export class ServeRunsError extends Error {}

export function serveRecipeOfRuns(store: RunStore, picked: readonly RunRecord[]): ServeRecipe {
  const records: RunRecord[] = [];
  const namedExports = new Map<string, RunRecord>();
  for (const found of picked) {
    const of = derivedFrom(found);
    const training = of !== undefined ? store.load(of) : found;
    if (!training) throw new ServeRunsError(`run ${found.id} belongs to run ${of}, which is gone`);
    if (found.kind === 'export' && found.state === 'completed')
      namedExports.set(training.id, found);
    if (!records.some((r) => r.id === training.id)) records.push(training);
  }
  const names = uniqueNames(
    records.map((record) => ({ id: record.id, stem: path.basename(record.config) })),
  );
  let all: RunRecord[] | undefined; // the store's records, read once: a full run's exports
  const runs = records.map((record, i) => {
    const config = readRunConfig(record);
    const method = (config as { method?: unknown } | undefined)?.method;
    if (method === 'lora' || method === 'qlora') return serveRunOf(record, config, names[i]!);
    if (method === 'full') {
      const named = namedExports.get(record.id);
      return serveModelRunOf(record, config, names[i]!, named ? [named] : (all ??= store.list()));
    }
    throw new ServeRunsError(
      `run ${record.id} is method ${String(method)}: serve knows lora, qlora and full runs`,
    );
  });
  return buildServeRecipe(runs);
}

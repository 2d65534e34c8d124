// The CLI fetches a model's config.json from the Hub before checking a config
// whose model is neither in the catalog nor local (skipped with --offline).

import * as path from 'node:path';
import { analyze, type AnalyzeOptions } from '../../engine/src/engine';
import { hubOptionsFromEnv, looksLikeHubId } from '../../engine/src/models/hub';
import { fetchHubModel } from '../../launch/src/hub';
import { readConfigFile } from './readConfig';

export async function withHubModel(
  file: string,
  options: AnalyzeOptions,
  offline: boolean,
): Promise<AnalyzeOptions> {
  const hub = hubOptionsFromEnv();
  const withCache = { ...options, hubCacheDir: hub.cacheDir };
  if (offline) return withCache;
  const read = readConfigFile(file);
  if (!read.ok || 'encodingFinding' in read) return withCache;
  const analysis = analyze(read.text, path.resolve(file), withCache);
  const name = analysis.plan?.model.nameOrPath;
  if (!analysis.dialect || analysis.model || !name || !looksLikeHubId(name)) return withCache;
  const result = await fetchHubModel(name, { ...hub, revision: analysis.plan?.model.revision });
  if (!result.ok) process.stderr.write(`tunelab: ${result.error}\n`);
  return withCache;
}

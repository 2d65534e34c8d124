// Reads and analyses one config file for `lint` and `estimate`: read once,
// analyse once. Only when the model is neither in the catalog nor local, and
// its config.json could be fetched from the Hub (not with --offline), is the
// file analysed a second time, now with the model known.

import * as path from 'node:path';
import { analyze, type Analysis, type AnalyzeOptions } from '../../engine/src/engine';
import { hubOptionsFromEnv, missingHubModel } from '../../engine/src/models/hub';
import type { Finding } from '../../engine/src/types';
import { fetchHubModel } from '../../launch/src/hub';
import { say } from './output';
import { readConfigFile } from './readConfig';

export type FileAnalysis =
  /** The file could not be read at all: exit 2. */
  | { ok: false; error: string }
  /** Read, but not analysable as text (not UTF-8, too large): the finding says why. */
  | { ok: true; fileFinding: Finding }
  | { ok: true; text: string; analysis: Analysis };

/** Reads and analyses `file`, without the network. */
export function analyzeFile(file: string, options: AnalyzeOptions): FileAnalysis {
  const read = readConfigFile(file);
  if (!read.ok) return read;
  if ('encodingFinding' in read) return { ok: true, fileFinding: read.encodingFinding };
  return { ok: true, text: read.text, analysis: analyze(read.text, path.resolve(file), options) };
}

/**
 * `analyzeFile`, fetching a Hub model's config.json first when the analysis
 * needs it. A failed fetch is said on stderr and the first analysis stands
 * (its model-unknown finding tells the rest).
 */
export async function analyzeFileWithHub(
  file: string,
  options: AnalyzeOptions,
  offline: boolean,
): Promise<FileAnalysis> {
  const hub = hubOptionsFromEnv();
  const withCache: AnalyzeOptions = { ...options, hubCacheDir: hub.cacheDir };
  const first = analyzeFile(file, withCache);
  if (offline || !('analysis' in first)) return first;
  const { analysis } = first;
  const wanted = missingHubModel(analysis);
  if (!wanted) return first;
  const fetched = await fetchHubModel(wanted.id, { ...hub, revision: wanted.revision });
  if (!fetched.ok) {
    say(fetched.error);
    return first;
  }
  return { ...first, analysis: analyze(first.text, path.resolve(file), withCache) };
}

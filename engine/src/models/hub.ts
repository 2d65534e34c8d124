// The Hugging Face Hub as the last source of a model's architecture: where
// its config.json (and tokenizer_config.json) are cached on disk, so that
// resolveModel reads them synchronously. The download itself is network, so it
// lives outside the engine (launch/src/hub.ts).

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Analysis } from '../engine';

export interface HubOptions {
  /** `HF_ENDPOINT`, default https://huggingface.co. */
  endpoint?: string;
  /** `HF_TOKEN` for gated and private models; sent only to the endpoint. */
  token?: string;
  revision?: string;
  cacheDir: string;
  timeoutMs?: number;
}

/** The cache directory of Tunelab (TUNELAB_CACHE, else ~/.cache/tunelab). */
export function defaultCacheDir(): string {
  return process.env.TUNELAB_CACHE || path.join(os.homedir(), '.cache', 'tunelab');
}

export function hubOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): HubOptions {
  return {
    endpoint: env.HF_ENDPOINT || undefined,
    token: env.HF_TOKEN || env.HUGGING_FACE_HUB_TOKEN || undefined,
    cacheDir: path.join(env.TUNELAB_CACHE || path.join(os.homedir(), '.cache', 'tunelab'), 'hub'),
  };
}

/** `org/name` with the characters the Hub allows; not a path. */
export function looksLikeHubId(name: string): boolean {
  return /^[A-Za-z0-9][\w.-]*\/[A-Za-z0-9][\w.-]*$/.test(name) && !name.includes('..');
}

/** Where a model's Hub files are cached. */
export function hubModelDir(cacheDir: string, id: string, revision = 'main'): string {
  const safe = (s: string) => s.replace(/[^\w.-]/g, '_');
  return path.join(cacheDir, `${safe(id.replace('/', '--'))}`, safe(revision));
}

/** The cached directory when config.json was fetched before. */
export function cachedHubModelDir(
  cacheDir: string,
  id: string,
  revision = 'main',
): string | undefined {
  const dir = hubModelDir(cacheDir, id, revision);
  return fs.existsSync(path.join(dir, 'config.json')) ? dir : undefined;
}

/**
 * The Hub model an analysis lacks: a config whose model is neither in the
 * catalog nor local, named by a Hub id. What the server fetches in the
 * background and the CLI before checking.
 */
export function missingHubModel(
  analysis: Pick<Analysis, 'dialect' | 'model' | 'plan'>,
): { id: string; revision: string | undefined } | undefined {
  const id = analysis.plan?.model.nameOrPath;
  if (!analysis.dialect || analysis.model || !id || !looksLikeHubId(id)) return undefined;
  return { id, revision: analysis.plan?.model.revision };
}

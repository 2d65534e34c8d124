// The Hugging Face Hub as the last source of a model's architecture: fetch
// config.json (and tokenizer_config.json for the chat template) once, store
// them in a local cache directory, and let resolveModel read them from disk
// synchronously. Fetching is async and never on the typing path.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface HubOptions {
  /** `HF_ENDPOINT`, default https://huggingface.co. */
  endpoint?: string;
  /** `HF_TOKEN` for gated and private models; sent only to the endpoint. */
  token?: string;
  revision?: string;
  cacheDir: string;
  timeoutMs?: number;
}

export type HubFetchResult = { ok: true; dir: string } | { ok: false; error: string };

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

async function get(url: string, token: string | undefined, timeoutMs: number): Promise<Response> {
  return fetch(url, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
    signal: AbortSignal.timeout(timeoutMs),
    redirect: 'follow',
  });
}

/** Fetches config.json (required) and tokenizer_config.json (optional) into the cache. */
export async function fetchHubModel(id: string, options: HubOptions): Promise<HubFetchResult> {
  if (!looksLikeHubId(id)) return { ok: false, error: `${id} is not a Hub model id` };
  const endpoint = (options.endpoint ?? 'https://huggingface.co').replace(/\/+$/, '');
  const revision = options.revision ?? 'main';
  const base = `${endpoint}/${id}/resolve/${encodeURIComponent(revision)}`;
  const timeoutMs = options.timeoutMs ?? 10_000;
  try {
    const config = await get(`${base}/config.json`, options.token, timeoutMs);
    if (config.status === 401 || config.status === 403) {
      return {
        ok: false,
        error: `the Hub refused ${id} (HTTP ${config.status}): a gated or private model needs HF_TOKEN`,
      };
    }
    if (!config.ok)
      return { ok: false, error: `the Hub has no config.json for ${id} (HTTP ${config.status})` };
    const configText = await config.text();
    JSON.parse(configText); // refuse to cache anything but JSON
    const tokenizer = await get(`${base}/tokenizer_config.json`, options.token, timeoutMs).catch(
      () => undefined,
    );
    const tokenizerText = tokenizer?.ok ? await tokenizer.text() : undefined;

    const dir = hubModelDir(options.cacheDir, id, revision);
    fs.mkdirSync(dir, { recursive: true });
    writeAtomically(path.join(dir, 'config.json'), configText);
    if (tokenizerText) {
      try {
        JSON.parse(tokenizerText);
        writeAtomically(path.join(dir, 'tokenizer_config.json'), tokenizerText);
      } catch {
        // A broken tokenizer config only loses the chat template family.
      }
    }
    return { ok: true, dir };
  } catch (err) {
    const reason =
      err instanceof Error
        ? err.name === 'TimeoutError'
          ? 'timed out'
          : err.message
        : String(err);
    return { ok: false, error: `could not fetch ${id} from ${endpoint}: ${reason}` };
  }
}

function writeAtomically(file: string, text: string): void {
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, text);
  fs.renameSync(temp, file);
}

// Downloads a model's config.json (and tokenizer_config.json for the chat
// template, tokenizer.json to count the data's tokens) from the Hugging Face
// Hub into the engine's cache layout
// (engine/src/models/hub.ts). Async, never on the typing path: the language
// server starts it in the background, the CLI before checking a file.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { hubModelDir, looksLikeHubId, type HubOptions } from '../../engine/src/models/hub';

export type HubFetchResult = { ok: true; dir: string } | { ok: false; error: string };

/** tokenizer.json is not cached past this size (Llama 3's is 9 MB, Gemma's 33 MB); the engine reads up to 50 MB. */
const TOKENIZER_JSON_BYTES = 50 * 1024 * 1024;

async function get(
  url: string,
  authorization: string | undefined,
  timeoutMs: number,
): Promise<Response> {
  return fetch(url, {
    headers: authorization ? { authorization } : {},
    signal: AbortSignal.timeout(timeoutMs),
    redirect: 'follow',
  });
}

/**
 * The endpoint without credentials, and the Authorization header: HF_TOKEN as
 * a bearer token, else the `user:password@` of the endpoint as Basic (fetch
 * refuses URLs that carry credentials).
 */
export function endpointAndAuthorization(
  endpoint: string,
  token: string | undefined,
): { endpoint: string; authorization?: string } {
  let bare = endpoint.replace(/\/+$/, '');
  let basic: string | undefined;
  try {
    const url = new URL(bare);
    if (url.username || url.password) {
      const user = decodeURIComponent(url.username);
      const password = decodeURIComponent(url.password);
      basic = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
      url.username = '';
      url.password = '';
      bare = url.toString().replace(/\/+$/, '');
    }
  } catch {
    // Not a URL: fetch reports it with the endpoint's own text.
  }
  return { endpoint: bare, authorization: token ? `Bearer ${token}` : basic };
}

/** Fetches config.json (required), tokenizer_config.json and tokenizer.json (optional) into the cache. */
export async function fetchHubModel(id: string, options: HubOptions): Promise<HubFetchResult> {
  if (!looksLikeHubId(id)) return { ok: false, error: `${id} is not a Hub model id` };
  const { endpoint, authorization } = endpointAndAuthorization(
    options.endpoint ?? 'https://huggingface.co',
    options.token,
  );
  const revision = options.revision ?? 'main';
  const base = `${endpoint}/${id}/resolve/${encodeURIComponent(revision)}`;
  const timeoutMs = options.timeoutMs ?? 10_000;
  try {
    const config = await get(`${base}/config.json`, authorization, timeoutMs);
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
    const tokenizer = await get(`${base}/tokenizer_config.json`, authorization, timeoutMs).catch(
      () => undefined,
    );
    const tokenizerText = tokenizer?.ok ? await tokenizer.text() : undefined;
    // Larger than the configs: a longer timeout. Without it token counts fall back to the estimate.
    const tokenizerJson = await get(`${base}/tokenizer.json`, authorization, timeoutMs * 6)
      .then(async (r) => {
        const length = Number(r.headers.get('content-length') ?? 0);
        if (!r.ok || length > TOKENIZER_JSON_BYTES) return undefined;
        const text = await r.text();
        return text.length <= TOKENIZER_JSON_BYTES ? text : undefined;
      })
      .catch(() => undefined);

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
    if (tokenizerJson) {
      try {
        JSON.parse(tokenizerJson);
        writeAtomically(path.join(dir, 'tokenizer.json'), tokenizerJson);
      } catch {
        // A broken tokenizer.json only loses exact token counts.
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

// Finds the architecture of the model a config names, in the order of
// estimator.md: `model.architecture` from the config (laid over what follows),
// a local directory with config.json, the built-in catalog. Runs on every
// keystroke, so file reads are synchronous and cached by path, mtime and size.
// Never throws: every failure comes back as `error`.

import { shortText } from '../schema/messageText';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findCatalogModel } from './catalog';
import {
  architectureFromFields,
  fieldsFromConfigJson,
  mergeFields,
  type ArchitectureFields,
} from './configJson';
import { cachedHubModelDir, looksLikeHubId } from './hub';
import type { ModelArchitecture } from './types';

export interface ResolveModelOptions {
  /** `model.name_or_path`: a Hub id or a directory (absolute, or relative to configDir). */
  nameOrPath?: string;
  /** Directory of the config file, for relative paths. */
  configDir: string;
  /** `model.architecture`: config.json field names, laid over everything else. */
  architecture?: Record<string, unknown>;
  /** Directory of fetched Hub files (models/hub.ts); consulted after the catalog. */
  hubCacheDir?: string;
  /** `model.revision`, for the Hub cache. */
  revision?: string;
}

/**
 * `model` when the architecture is known. `error` says why it is not; with a
 * `model` as well, it reports a lesser problem (an unreadable tokenizer config).
 */
export interface ResolveModelResult {
  model?: ModelArchitecture;
  error?: string;
}

export function resolveModel(options: ResolveModelOptions): ResolveModelResult {
  try {
    return resolveUnsafe(options);
  } catch (err) {
    return { error: `could not read the model: ${(err as Error).message}` };
  }
}

function resolveUnsafe({
  nameOrPath,
  configDir,
  architecture,
  hubCacheDir,
  revision,
}: ResolveModelOptions): ResolveModelResult {
  const name = nameOrPath?.trim() || undefined;
  let override: ArchitectureFields | undefined;
  if (architecture !== undefined) {
    const parsed = fieldsFromConfigJson(architecture);
    if (parsed.error) return { error: `model.architecture: ${parsed.error}` };
    override = parsed.fields;
  }

  const local = name ? findLocalDirectory(name, configDir) : undefined;
  if (local?.error) return { error: local.error };
  if (local?.dir) return resolveLocal(local.dir, override);

  const fromCatalog = name ? findCatalogModel(name) : undefined;
  if (override) {
    const result = architectureFromFields(override, {
      id: fromCatalog?.id ?? name ?? 'model.architecture',
      source: 'config',
      names: name ? [name] : [],
    });
    return result.error ? { error: `model.architecture: ${result.error}` } : result;
  }
  if (fromCatalog)
    return { model: { ...fromCatalog, linearModules: [...fromCatalog.linearModules] } };
  if (!name) return { error: 'no model given: set model.name_or_path' };
  const fromHub =
    hubCacheDir && looksLikeHubId(name)
      ? cachedHubModelDir(hubCacheDir, name, revision)
      : undefined;
  if (fromHub) return resolveLocal(fromHub, undefined, { id: name, source: 'hub' });
  return {
    error: `${shortText(name)} is not in the built-in catalog and is not a local directory`,
  };
}

/** The directory `name` points at, an error when it looks like a path that is not there, or nothing (a Hub id). */
function findLocalDirectory(name: string, configDir: string): { dir?: string; error?: string } {
  const expanded = name.startsWith('~') ? path.join(os.homedir(), name.slice(1)) : name;
  const dir = path.resolve(configDir, expanded);
  const stat = statOrUndefined(dir);
  if (stat?.isDirectory()) return { dir };
  const looksLikePath =
    path.isAbsolute(expanded) ||
    /^\.{1,2}([\\/]|$)/.test(name) ||
    name.startsWith('~') ||
    name.includes('\\');
  if (!looksLikePath) return {};
  if (stat)
    return { error: `${dir} is a file; model.name_or_path must be a directory or a Hub id` };
  return { error: `model directory not found: ${dir}` };
}

function resolveLocal(
  dir: string,
  override: ArchitectureFields | undefined,
  identity?: { id: string; source: 'hub' },
): ResolveModelResult {
  const configPath = path.join(dir, 'config.json');
  const config = readJson(configPath);
  if (config.error) return { error: config.error };
  if (!config.value) return { error: `${dir} has no config.json` };

  const parsed = fieldsFromConfigJson(config.value);
  if (parsed.error) return { error: `${configPath}: ${parsed.error}` };
  const template = readChatTemplate(dir);

  const names = identity ? [identity.id] : [path.basename(dir)];
  if (typeof config.value._name_or_path === 'string') names.push(config.value._name_or_path);
  const result = architectureFromFields(mergeFields(parsed.fields, override), {
    id: identity?.id ?? dir,
    source: identity?.source ?? (override ? 'config' : 'config.json'),
    names,
    chatTemplateText: template.text,
  });
  if (result.error) return { error: `${configPath}: ${result.error}` };
  return template.error ? { model: result.model, error: template.error } : result;
}

/**
 * The tokenizer's chat template: `chat_template` in tokenizer_config.json (a
 * string, or a list of named templates), else chat_template.jinja, which
 * recent transformers versions write instead.
 */
function readChatTemplate(dir: string): { text?: string; error?: string } {
  const tokenizerConfig = readJson(path.join(dir, 'tokenizer_config.json'));
  const fromTokenizer = templateText(tokenizerConfig.value?.chat_template);
  if (fromTokenizer) return { text: fromTokenizer, error: tokenizerConfig.error };
  const jinja = readText(path.join(dir, 'chat_template.jinja'));
  return { text: jinja.text || undefined, error: tokenizerConfig.error ?? jinja.error };
}

function templateText(value: unknown): string | undefined {
  if (typeof value === 'string') return value || undefined;
  if (!Array.isArray(value)) return undefined;
  const named = value.filter(
    (entry): entry is { name?: unknown; template: string } =>
      typeof entry === 'object' && entry !== null && typeof entry.template === 'string',
  );
  return (named.find((entry) => entry.name === 'default') ?? named[0])?.template;
}

// --- cached file reads -------------------------------------------------------

interface CachedFile {
  mtimeMs: number;
  size: number;
  text: string;
  json?: { value?: Record<string, unknown>; error?: string };
}

const MAX_CACHED_FILES = 64;
const fileCache = new Map<string, CachedFile>();

/** Forget cached file contents (tests, or a file watcher that wants a hard reload). */
export function clearModelFileCache(): void {
  fileCache.clear();
}

function statOrUndefined(file: string): fs.Stats | undefined {
  try {
    return fs.statSync(file);
  } catch {
    return undefined;
  }
}

/** A file's text through the cache; no text when the file is absent. */
function readCached(file: string): { entry?: CachedFile; error?: string } {
  const stat = statOrUndefined(file);
  if (!stat || !stat.isFile()) {
    fileCache.delete(file);
    return {};
  }
  const cached = fileCache.get(file);
  if (cached && cached.mtimeMs === stat.mtimeMs && cached.size === stat.size)
    return { entry: cached };
  try {
    const entry: CachedFile = {
      mtimeMs: stat.mtimeMs,
      size: stat.size,
      text: fs.readFileSync(file, 'utf8'),
    };
    fileCache.delete(file);
    fileCache.set(file, entry);
    // Map keeps insertion order: the first key is the least recently read.
    if (fileCache.size > MAX_CACHED_FILES)
      fileCache.delete(fileCache.keys().next().value as string);
    return { entry };
  } catch (err) {
    return { error: `cannot read ${file}: ${(err as Error).message}` };
  }
}

function readText(file: string): { text?: string; error?: string } {
  const { entry, error } = readCached(file);
  return { text: entry?.text, error };
}

function readJson(file: string): { value?: Record<string, unknown>; error?: string } {
  const { entry, error } = readCached(file);
  if (!entry) return { error };
  if (!entry.json) {
    try {
      const parsed: unknown = JSON.parse(entry.text);
      entry.json =
        typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
          ? { value: parsed as Record<string, unknown> }
          : { error: `${file} does not hold a JSON object` };
    } catch (err) {
      entry.json = { error: `${file} is not valid JSON: ${(err as Error).message}` };
    }
  }
  return entry.json;
}

// The Tunelab language server: wires the pure analysis engine to LSP.
// Each open document is analysed once per version, after a short debounce,
// and the result is cached for hover, completion, symbols and quick fixes.

import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createConnection,
  DidChangeConfigurationNotification,
  ProposedFeatures,
  TextDocuments,
  TextDocumentSyncKind,
  type Diagnostic,
  type InitializeResult,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { analyze, type Analysis, type AnalyzeOptions } from '../../engine/src/engine';
import { hubOptionsFromEnv, missingHubModel } from '../../engine/src/models/hub';
import { hostPacesNear } from '../../launch/src/hostPaces';
import { fetchHubModel } from '../../launch/src/hub';
import type { Dialect } from '../../engine/src/types';
import {
  CODE_LENS_REFRESH,
  estimateBreakdownRequest,
  type DocumentParams,
} from '../../protocol/src/messages';
import {
  DEFAULT_SERVER_SETTINGS,
  readServerSettings,
  type DialectSetting,
  type ServerSettings,
} from '../../protocol/src/settings';
import { complete } from './features/completion';
import { quickFixes, tuneActions } from './features/codeActions';
import { dialectConversionActions } from './features/dialectConvert';
import { toDiagnostic } from './features/convert';
import { hover } from './features/hover';
import {
  estimateBreakdown,
  estimateCodeLenses,
  methodConversionActions,
} from './features/estimate';
import { documentSymbols } from './features/symbols';
import { createLog } from './log';

const hub = hubOptionsFromEnv();
/** Hub fetches started, by model id and revision: each is tried once per session. */
const hubFetches = new Set<string>();

const connection = createConnection(ProposedFeatures.all);
const log = createLog(connection);
const documents = new TextDocuments(TextDocument);
const analyses = new Map<string, { version: number; paces: string; analysis: Analysis }>();
type Pending = { timer?: NodeJS.Timeout; immediate?: NodeJS.Immediate };
const pending = new Map<string, Pending>();
/** Settings per document (resource scope: each workspace folder may set its own). */
const settingsByUri = new Map<string, ServerSettings>();
const settingsRequests = new Map<string, Promise<ServerSettings>>();
let canPullConfiguration = false;
let canRefreshCodeLens = false;

function fileNameOf(uri: string): string {
  if (uri.startsWith('file:')) {
    try {
      return fileURLToPath(uri);
    } catch {
      // fall through: a malformed file URI still has a usable last segment
    }
  }
  return decodeURIComponent(uri.slice(uri.lastIndexOf('/') + 1));
}

function settingsOf(uri: string): ServerSettings {
  return settingsByUri.get(uri) ?? DEFAULT_SERVER_SETTINGS;
}

/** The document's settings from the client, asked once per document and settings change. */
function fetchSettings(uri: string): Promise<ServerSettings> {
  if (!canPullConfiguration) return Promise.resolve(DEFAULT_SERVER_SETTINGS);
  let request = settingsRequests.get(uri);
  if (!request) {
    request = connection.workspace
      .getConfiguration({ scopeUri: uri, section: 'tunelab' })
      .then((section: unknown) => {
        const { settings, problems } = readServerSettings(section);
        for (const problem of problems) log.warn(`${problem} (ignored, default used)`);
        return settings;
      })
      .catch((err: unknown) => {
        log.error('reading the tunelab settings failed', err);
        return DEFAULT_SERVER_SETTINGS;
      })
      .then((settings) => {
        settingsByUri.set(uri, settings);
        analyses.delete(uri); // computed with the defaults while the settings were on their way
        return settings;
      });
    settingsRequests.set(uri, request);
  }
  return request;
}

const DIALECT_OF_SETTING: Record<DialectSetting, Dialect | undefined> = {
  auto: undefined,
  native: 'native',
  axolotl: 'axolotl',
  llamafactory: 'llamafactory',
  trl: 'trl',
};

function analysisOptions(settings: ServerSettings): AnalyzeOptions {
  return {
    ruleSeverity: settings.rules,
    hubCacheDir: settings.hub.enable ? hub.cacheDir : undefined,
    dialect: DIALECT_OF_SETTING[settings.dialect],
  };
}

/**
 * A model neither in the catalog nor local: fetch its config.json from the Hub
 * in the background, then re-check the open configs. Never awaited on the typing path.
 */
function fetchFromHubIfNeeded(analysis: Analysis, settings: ServerSettings): void {
  const wanted = settings.hub.enable ? missingHubModel(analysis) : undefined;
  if (!wanted) return;
  const name = wanted.id;
  const revision = wanted.revision ?? 'main';
  const key = `${name}@${revision}`;
  if (hubFetches.has(key)) return;
  hubFetches.add(key);
  void fetchHubModel(name, { ...hub, revision }).then((result) => {
    if (!result.ok) {
      log.info(result.error);
      return;
    }
    analyses.clear();
    for (const document of documents.all()) scheduleValidation(document.uri, 0);
    if (canRefreshCodeLens) void connection.sendRequest(CODE_LENS_REFRESH);
  });
}

/** The analysis of the document's current version, computed on demand. */
function analysisOf(document: TextDocument): Analysis {
  const fileName = fileNameOf(document.uri);
  // an unsaved document has no workspace of runs to learn a host pace from
  const hostPaces = path.isAbsolute(fileName) ? hostPacesNear(fileName) : undefined;
  const paces = hostPaces?.stamp ?? '';
  const cached = analyses.get(document.uri);
  if (cached && cached.version === document.version && cached.paces === paces)
    return cached.analysis;
  const settings = settingsOf(document.uri);
  const analysis = analyze(document.getText(), fileName, {
    ...analysisOptions(settings),
    previous: cached?.analysis.parsed,
    pacedRuns: hostPaces?.pacedRuns,
  });
  analyses.set(document.uri, { version: document.version, paces, analysis });
  fetchFromHubIfNeeded(analysis, settings);
  return analysis;
}

function validateNow(uri: string): void {
  pending.delete(uri);
  const document = documents.get(uri);
  if (!document) return;
  if (!settingsOf(uri).validate.enable) {
    void connection.sendDiagnostics({ uri, diagnostics: [] });
    return;
  }
  let diagnostics: Diagnostic[];
  try {
    diagnostics = analysisOf(document).findings.map(toDiagnostic);
  } catch (err) {
    // A bug in one rule must not take the server down for every file.
    log.error(`analysis of ${uri} failed`, err);
    diagnostics = [];
  }
  void connection.sendDiagnostics({ uri, version: document.version, diagnostics });
}

/** Validates once the document's settings are known (at once after the first time). */
function scheduleValidation(uri: string, delayMs: number): void {
  if (!settingsByUri.has(uri)) {
    void fetchSettings(uri).then(() => {
      if (documents.get(uri)) scheduleAfterDebounce(uri, delayMs);
    });
    return;
  }
  scheduleAfterDebounce(uri, delayMs);
}

function scheduleAfterDebounce(uri: string, delayMs: number): void {
  cancelPending(uri);
  // Without a debounce, the next turn of the event loop: setTimeout(0) would wait ≥ 1 ms.
  const handle: Pending =
    delayMs > 0
      ? { timer: setTimeout(() => validateNow(uri), delayMs) }
      : { immediate: setImmediate(() => validateNow(uri)) };
  pending.set(uri, handle);
}

function cancelPending(uri: string): void {
  const previous = pending.get(uri);
  if (previous?.timer) clearTimeout(previous.timer);
  if (previous?.immediate) clearImmediate(previous.immediate);
  pending.delete(uri);
}

connection.onInitialize((params): InitializeResult => {
  canPullConfiguration = !!params.capabilities.workspace?.configuration;
  canRefreshCodeLens = !!params.capabilities.workspace?.codeLens?.refreshSupport;
  return {
    capabilities: {
      textDocumentSync: TextDocumentSyncKind.Incremental,
      completionProvider: { triggerCharacters: [':', ' '], resolveProvider: false },
      hoverProvider: true,
      documentSymbolProvider: true,
      codeActionProvider: { codeActionKinds: ['quickfix', 'refactor.rewrite'] },
      codeLensProvider: { resolveProvider: false },
    },
    serverInfo: { name: 'tunelab', version: '0.1.0' },
  };
});

connection.onInitialized(async () => {
  // Compile the schemas now rather than on the first keystroke: ajv's code
  // generation is most of the first analysis (≈ 200 ms on a small machine).
  setImmediate(() =>
    analyze(
      'method: lora\nmodel: { name_or_path: warmup }\n',
      'warmup.finetune.yaml',
      analysisOptions(DEFAULT_SERVER_SETTINGS),
    ),
  );
  if (canPullConfiguration) {
    void connection.client.register(DidChangeConfigurationNotification.type, undefined);
    await refreshSettings();
  }
});

/** Settings changed: forget every document's settings and analysis, then re-check. */
async function refreshSettings(): Promise<void> {
  settingsByUri.clear();
  settingsRequests.clear();
  analyses.clear();
  for (const document of documents.all()) scheduleValidation(document.uri, 0);
}

connection.onDidChangeConfiguration(() => void refreshSettings());

documents.onDidOpen((event) => scheduleValidation(event.document.uri, 0));
documents.onDidChangeContent((event) =>
  scheduleValidation(event.document.uri, settingsOf(event.document.uri).validate.delayMs),
);
documents.onDidClose((event) => {
  cancelPending(event.document.uri);
  analyses.delete(event.document.uri);
  settingsByUri.delete(event.document.uri);
  settingsRequests.delete(event.document.uri);
  void connection.sendDiagnostics({ uri: event.document.uri, diagnostics: [] });
});

connection.onHover((params) => {
  const document = documents.get(params.textDocument.uri);
  if (!document) return null;
  const analysis = analysisOf(document);
  return analysis.dialect ? hover(analysis, params.position) : null;
});

connection.onCompletion((params) => {
  const document = documents.get(params.textDocument.uri);
  if (!document) return [];
  const dialect = analysisOf(document).dialect;
  if (!dialect) return [];
  // The dialect is known from the cached analysis: completion must not re-parse.
  return complete(document.getText(), params.position, dialect);
});

connection.onDocumentSymbol((params) => {
  const document = documents.get(params.textDocument.uri);
  if (!document) return [];
  const analysis = analysisOf(document);
  if (!analysis.dialect || !analysis.parsed) return [];
  return documentSymbols(analysis.parsed.root, analysis.parsed.value);
});

connection.onCodeAction((params) => {
  const document = documents.get(params.textDocument.uri);
  if (!document) return [];
  const analysis = analysisOf(document);
  return [
    ...quickFixes(document.uri, analysis.findings, params.context.diagnostics),
    ...methodConversionActions(document.uri, analysis, params.range),
    ...dialectConversionActions(document.uri, analysis),
    ...tuneActions(document.uri, analysis),
  ];
});

connection.onCodeLens((params) => {
  const document = documents.get(params.textDocument.uri);
  if (!document) return [];
  const analysis = analysisOf(document);
  return analysis.dialect ? estimateCodeLenses(document.uri, analysis) : [];
});

/** The full estimate breakdown as Markdown, for the client's "show estimate" view. */
connection.onRequest(estimateBreakdownRequest.method, (params: DocumentParams): string | null => {
  const document = documents.get(params.uri);
  if (!document) return null;
  const analysis = analysisOf(document);
  return analysis.dialect ? (estimateBreakdown(analysis) ?? null) : null;
});

documents.listen(connection);
connection.listen();

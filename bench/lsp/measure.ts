// One measured session: cold start to first diagnostics, incremental edits each
// timed to the diagnostics of that version, then completion and hover timings
// and the server's memory.

import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import type { Input } from './inputs';
import { type InputName, type Options, type ServerName, type Variant } from './options';
import { memoryOf, sleep, type MemoryStatus } from './processes';
import {
  CLIENT_CAPABILITIES,
  pulledBeforeOpen,
  pulledForTheDocument,
  pullError,
  Session,
  type ServerSpec,
} from './session';

export interface SessionResult {
  server: ServerName;
  variant: Variant;
  input: InputName;
  coldMs?: number;
  /** spawn → initialize result, part of coldMs. */
  initMs?: number;
  /** didOpen → first diagnostics, part of coldMs. */
  openMs?: number;
  /** Server memory once initialized and configured, before any document. */
  idleMemory?: MemoryStatus;
  coldDiagnostics?: number;
  latencies: number[];
  diagnosticCounts: Set<number>;
  /** Publishes beyond one per change (duplicates or stale versions). */
  extraPublishes: number;
  completionMs: number[];
  completionItems?: number;
  hoverMs: number[];
  hoverChars?: number;
  memory?: MemoryStatus;
  errors: string[];
}

export async function runSession(
  spec: ServerSpec,
  input: Input,
  options: Options,
  extras: boolean,
): Promise<SessionResult> {
  const result: SessionResult = {
    server: spec.server,
    variant: spec.variant,
    input: input.name,
    latencies: [],
    diagnosticCounts: new Set(),
    extraPublishes: 0,
    completionMs: [],
    hoverMs: [],
    errors: [],
  };
  const session = Session.start(spec);
  try {
    await session.request('initialize', {
      processId: process.pid,
      clientInfo: { name: 'tunelab-bench' },
      rootUri: pathToFileURL(path.dirname(input.file)).href,
      workspaceFolders: null,
      capabilities: CLIENT_CAPABILITIES,
    });
    result.initMs = performance.now() - session.spawnedAt;
    session.notify('initialized', {});
    session.notify('workspace/didChangeConfiguration', { settings: spec.didChangeSettings });
    // yaml-language-server pulls its settings on `initialized` and again on the
    // change: the file opens once both are answered, so its first diagnostics
    // have the schema association in place. Ours pulls per document once it is
    // open (checked after the first diagnostics).
    if (!(await pulledBeforeOpen(session, spec))) result.errors.push(pullError(session, spec));
    await sleep(0);
    result.idleMemory = memoryOf(session.pid);
    const openAt = performance.now();
    session.notify('textDocument/didOpen', {
      textDocument: { uri: input.uri, languageId: 'yaml', version: 1, text: input.text },
    });
    const first = await session.nextPublish(input.uri, undefined);
    if (!(await pulledForTheDocument(session, spec)))
      result.errors.push("the document's settings were never pulled");
    result.coldMs = first.at - session.spawnedAt;
    result.openMs = first.at - openAt;
    result.coldDiagnostics = first.diagnostics.length;
    const versioned = first.version !== undefined;

    // Anything else still coming from the open (or settings) must not be taken
    // for the answer to the first edit.
    await sleep(Math.min(3000, Math.max(300, 1.5 * result.openMs)));
    result.extraPublishes += session.drain().filter((p) => p.uri === input.uri).length;

    let version = 1;
    let current = input.edit.a;
    const started = performance.now();
    for (let i = 0; i < options.edits; i++) {
      if (i > 0 && performance.now() - started > options.budgetMs) break;
      version++;
      const next = current === input.edit.a ? input.edit.b : input.edit.a;
      const { line, character } = input.edit;
      const sentAt = performance.now();
      session.notify('textDocument/didChange', {
        textDocument: { uri: input.uri, version },
        contentChanges: [
          {
            range: { start: { line, character }, end: { line, character: character + 1 } },
            text: next,
          },
        ],
      });
      current = next;
      const published = await session.nextPublish(input.uri, versioned ? version : undefined);
      result.latencies.push(published.at - sentAt);
      result.diagnosticCounts.add(published.diagnostics.length);
      result.extraPublishes += published.skipped;
    }

    if (extras) {
      // Let any straggler land before timing requests.
      await sleep(50);
      result.extraPublishes += session.drain().filter((p) => p.uri === input.uri).length;
      for (let i = 0; i < options.samples; i++) {
        const t0 = performance.now();
        const items = await session.request<unknown>('textDocument/completion', {
          textDocument: { uri: input.uri },
          position: input.completion,
        });
        result.completionMs.push(performance.now() - t0);
        result.completionItems = Array.isArray(items)
          ? items.length
          : ((items as { items?: unknown[] } | null)?.items?.length ?? 0);
      }
      for (let i = 0; i < options.samples; i++) {
        const t0 = performance.now();
        const hover = await session.request<{ contents?: unknown } | null>('textDocument/hover', {
          textDocument: { uri: input.uri },
          position: input.hover,
        });
        result.hoverMs.push(performance.now() - t0);
        result.hoverChars = hover ? JSON.stringify(hover.contents ?? '').length : 0;
      }
    }
    result.memory = memoryOf(session.pid);
  } catch (err) {
    const why = session.describeFailure();
    result.errors.push(
      `${err instanceof Error ? err.message : String(err)}${why ? ` (${why})` : ''}`,
    );
    result.memory ??= memoryOf(session.pid);
  } finally {
    await session.stop();
  }
  return result;
}

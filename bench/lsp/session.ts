// One language server process driven over LSP on stdio: requests and
// notifications with time limits, publishDiagnostics recorded with their
// arrival time, workspace/configuration answered from the server's spec.

import { spawn, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import {
  createMessageConnection,
  StreamMessageReader,
  StreamMessageWriter,
  type MessageConnection,
  type PublishDiagnosticsParams,
} from 'vscode-languageserver-protocol/node';
import {
  PUBLISH_TIMEOUT_MS,
  REQUEST_TIMEOUT_MS,
  SETTINGS_TIMEOUT_MS,
  type ServerName,
  type Variant,
} from './options';
import { children, sleep, withTimeout } from './processes';

export interface Published {
  uri: string;
  version: number | undefined;
  diagnostics: PublishDiagnosticsParams['diagnostics'];
  at: number;
}

export interface ServerSpec {
  server: ServerName;
  variant: Variant;
  command: string[];
  cwd: string;
  /** The section whose pulls mark the settings as applied. */
  section: string;
  /**
   * Pulls of `section` to wait for before opening the file: yaml-language-server
   * pulls on `initialized` and on the change (2); ours pulls per document,
   * scoped to its URI, once it is open (0: checked after the first diagnostics).
   */
  pullsBeforeOpen: number;
  answer: (section: string | undefined) => unknown;
  didChangeSettings: unknown;
}

export class Session {
  readonly published: Published[] = [];
  private cursor = 0;
  private readonly wakers = new Set<() => void>();
  readonly pulls = new Map<string, number>();
  private exited: string | undefined;
  private stderr = '';

  private constructor(
    readonly spec: ServerSpec,
    readonly child: ChildProcess,
    readonly connection: MessageConnection,
    readonly spawnedAt: number,
  ) {}

  static start(spec: ServerSpec): Session {
    const spawnedAt = performance.now();
    const child = spawn(process.execPath, spec.command, {
      cwd: spec.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    children.add(child);
    const connection = createMessageConnection(
      new StreamMessageReader(child.stdout!),
      new StreamMessageWriter(child.stdin!),
    );
    const session = new Session(spec, child, connection, spawnedAt);
    child.stderr!.on('data', (chunk: Buffer) => {
      session.stderr = (session.stderr + chunk.toString()).slice(-4000);
    });
    child.on('exit', (code, signal) => {
      session.exited = `exited (code ${code}, signal ${signal})`;
      children.delete(child);
      session.wake();
    });
    child.stdin!.on('error', () => undefined);
    connection.onNotification(
      'textDocument/publishDiagnostics',
      (params: PublishDiagnosticsParams) => {
        session.published.push({
          uri: params.uri,
          version: params.version,
          diagnostics: params.diagnostics,
          at: performance.now(),
        });
        session.wake();
      },
    );
    connection.onRequest('workspace/configuration', (params: { items: { section?: string }[] }) =>
      params.items.map((item) => {
        const key = item.section ?? '';
        session.pulls.set(key, (session.pulls.get(key) ?? 0) + 1);
        return spec.answer(item.section);
      }),
    );
    // registerCapability, workDoneProgress/create, … : accept everything else.
    connection.onRequest(() => null);
    connection.onNotification(() => undefined);
    connection.onError(() => undefined);
    connection.onClose(() => session.wake());
    connection.listen();
    return session;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  describeFailure(): string {
    const tail = this.stderr.trim().split('\n').slice(-5).join(' | ');
    return [this.exited, tail && `stderr: ${tail}`].filter(Boolean).join('; ');
  }

  private wake(): void {
    for (const wake of [...this.wakers]) wake();
  }

  /** Resolves on the next publish/exit, or after `ms`. */
  private waitForEvent(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      this.wakers.add(done);
    });
  }

  request<R>(method: string, params: unknown, timeoutMs = REQUEST_TIMEOUT_MS): Promise<R> {
    if (this.exited) return Promise.reject(new Error(`server ${this.exited}`));
    return withTimeout(this.connection.sendRequest<R>(method, params), timeoutMs, method);
  }

  notify(method: string, params: unknown): void {
    if (this.exited) throw new Error(`server ${this.exited}`);
    void this.connection.sendNotification(method, params);
  }

  /**
   * The next publish for `uri` not yet consumed, with `version` when given
   * (publishes of other versions are skipped and counted in `skipped`).
   */
  async nextPublish(
    uri: string,
    version: number | undefined,
    timeoutMs = PUBLISH_TIMEOUT_MS,
  ): Promise<Published & { skipped: number }> {
    const deadline = performance.now() + timeoutMs;
    let skipped = 0;
    for (;;) {
      while (this.cursor < this.published.length) {
        const p = this.published[this.cursor++];
        if (p.uri !== uri) continue;
        if (version !== undefined && p.version !== version) {
          skipped++;
          continue;
        }
        return { ...p, skipped };
      }
      if (this.exited) throw new Error(`server ${this.exited} while waiting for diagnostics`);
      const left = deadline - performance.now();
      if (left <= 0)
        throw new Error(`no diagnostics for version ${version ?? '(next)'} within ${timeoutMs} ms`);
      await this.waitForEvent(left);
    }
  }

  /** Publishes received and not consumed so far, then marks them consumed. */
  drain(): Published[] {
    const rest = this.published.slice(this.cursor);
    this.cursor = this.published.length;
    return rest;
  }

  async waitForPulls(count: number, timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while ((this.pulls.get(this.spec.section) ?? 0) < count) {
      if (this.exited || performance.now() > deadline) return false;
      await sleep(2);
    }
    return true;
  }

  async stop(): Promise<void> {
    try {
      if (!this.exited) {
        await this.request('shutdown', null, 3000);
        this.notify('exit', null);
        const deadline = performance.now() + 2000;
        while (!this.exited && performance.now() < deadline) await sleep(20);
      }
    } catch {
      // killed below
    } finally {
      this.connection.dispose();
      if (this.child.exitCode === null && this.child.signalCode === null)
        this.child.kill('SIGKILL');
      children.delete(this.child);
    }
  }
}

export const CLIENT_CAPABILITIES = {
  workspace: {
    configuration: true,
    didChangeConfiguration: { dynamicRegistration: true },
    workspaceFolders: false,
  },
  textDocument: {
    synchronization: { dynamicRegistration: false, didSave: false },
    publishDiagnostics: {
      versionSupport: true,
      relatedInformation: true,
      codeDescriptionSupport: true,
    },
    completion: {
      completionItem: { snippetSupport: true, documentationFormat: ['markdown', 'plaintext'] },
    },
    hover: { contentFormat: ['markdown', 'plaintext'] },
  },
};

/** Waits for the pulls a server makes before a file is open (none for ours). */
export function pulledBeforeOpen(session: Session, spec: ServerSpec): Promise<boolean> {
  return spec.pullsBeforeOpen > 0
    ? session.waitForPulls(spec.pullsBeforeOpen, SETTINGS_TIMEOUT_MS)
    : Promise.resolve(true);
}

/** A server that pulls per document has pulled for the open one. */
export function pulledForTheDocument(session: Session, spec: ServerSpec): Promise<boolean> {
  return spec.pullsBeforeOpen === 0
    ? session.waitForPulls(1, SETTINGS_TIMEOUT_MS)
    : Promise.resolve(true);
}

export function pullError(session: Session, spec: ServerSpec): string {
  return `settings pulled ${session.pulls.get(spec.section) ?? 0}× before the open (expected ${spec.pullsBeforeOpen})`;
}

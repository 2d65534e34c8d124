// Drives a real VS Code (code-server + headless Chromium) with Tunelab installed
// from its .vsix, like a user would: the shared part of scripts/screenshots.ts
// and test/ui/walkthrough.test.ts.
//
//   packageVsix()      npx vsce package --no-dependencies (like scripts/start.sh)
//   makeWorkspace()    templates/telecom-support + mistakes.finetune.yaml in a temp dir
//   startWorkbench()   fresh user-data/extensions dirs, --install-extension, code-server
//                      on 127.0.0.1, Chromium (playwright-core) on the workbench
//   the helpers below  Quick Open, go to line, squiggles, Problems panel, hover,
//                      completion, quick fix, notifications
//
// Every wait is bounded. Workbench.close() kills Chromium's and code-server's
// process groups; they are also killed when this process exits or gets SIGINT /
// SIGTERM, so an interrupted run leaves nothing behind.

import { spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
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
  sleep,
  startCodeServer,
  tempDir,
  type CodeServerInstall,
} from '../support/codeServerProcess.ts';

export { CHROMIUM_ARGS, launchChromium, sleep, tempDir } from '../support/codeServerProcess.ts';

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

/** The example workspace: templates/telecom-support (when present) + the typo fixture. */
export function makeWorkspace(dest: string): string {
  mkdirSync(dest, { recursive: true });
  const template = path.join(repoRoot, 'templates', 'telecom-support');
  if (existsSync(template)) cpSync(template, dest, { recursive: true });
  cpSync(
    path.join(repoRoot, 'test', 'fixtures', 'lora-typos.finetune.yaml'),
    path.join(dest, 'mistakes.finetune.yaml'),
  );
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

// --- user actions -----------------------------------------------------------

/** Runs `fn` until it returns a truthy value or `timeoutMs` passes. */
export async function until<T>(
  what: string,
  fn: () => Promise<T | undefined | null | false>,
  timeoutMs = 15_000,
  everyMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`,
      );
    }
    await sleep(everyMs);
  }
}

/** Closes every notification toast (and the notification center). */
export async function dismissNotifications(page: Page): Promise<void> {
  for (let i = 0; i < 10; i++) {
    const toasts = page.locator('.notification-toast');
    if ((await toasts.count()) === 0) break;
    const closeButton = page.locator('.notification-toast .codicon-notifications-clear').first();
    if (await closeButton.isVisible().catch(() => false)) {
      await closeButton.click({ timeout: 2000 }).catch(() => undefined);
    } else {
      // Hidden clear buttons show on hover: hover the toast first.
      await toasts
        .first()
        .hover({ timeout: 2000 })
        .catch(() => undefined);
      await closeButton.click({ timeout: 2000 }).catch(() => undefined);
    }
    await sleep(150);
  }
}

/** Focuses the editor area (so keyboard shortcuts reach the editor). */
async function focusEditor(page: Page): Promise<void> {
  await page
    .locator('.editor-instance .monaco-editor .view-lines')
    .first()
    .click({ timeout: 5000 });
}

/** Opens a workspace file through Quick Open (Ctrl+P), waits for its editor tab. */
export async function quickOpen(page: Page, fileName: string): Promise<void> {
  const input = page.locator('.quick-input-widget input');
  await until(
    'Quick Open',
    async () => {
      await page.keyboard.press('Control+P');
      return input.isVisible();
    },
    10_000,
    500,
  );
  await input.fill(fileName);
  await until(
    `"${fileName}" in Quick Open`,
    async () =>
      (await page
        .locator('.quick-input-list .monaco-list-row', { hasText: fileName })
        .first()
        .isVisible()) || undefined,
    15_000,
  );
  await page.keyboard.press('Enter');
  await page
    .locator(`.tabs-container .tab.active[aria-label^="${fileName}"]`)
    .waitFor({ timeout: 10_000 });
  await page.locator('.editor-instance .monaco-editor .view-lines').first().waitFor();
}

/** Moves the cursor with Quick Open's go to line (Ctrl+P, `:line:col`), 1-based. */
export async function goTo(page: Page, line: number, column: number): Promise<void> {
  await focusEditor(page);
  const input = page.locator('.quick-input-widget input');
  await page.keyboard.press('Control+P');
  await input.waitFor({ state: 'visible', timeout: 5000 });
  await input.fill(`:${line}:${column}`);
  await until(
    'the go to line entry',
    async () =>
      (await page.locator('.quick-input-list .monaco-list-row').first().textContent())?.includes(
        `${line}`,
      ),
    5000,
  );
  await page.keyboard.press('Enter');
  await input.waitFor({ state: 'hidden', timeout: 5000 });
  await until(
    `cursor at ${line}:${column}`,
    async () => {
      const status = await page
        .locator('.statusbar-item[id="status.editor.selection"]')
        .first()
        .textContent();
      return status?.includes(`Ln ${line}, Col ${column}`);
    },
    5000,
  );
}

// The functions below run in the page: they reach the DOM through the
// elements playwright hands them (this project's tsconfig has no DOM lib).

const VIEW_LINES = '.editor-instance .monaco-editor .view-line';

/** Text of the active editor as rendered (view lines in order). */
export async function editorText(page: Page): Promise<string> {
  return page.locator(VIEW_LINES).evaluateAll((lines) =>
    lines
      .map((l) => ({ top: l.getBoundingClientRect().top, text: l.textContent ?? '' }))
      .sort((a, b) => a.top - b.top)
      .map((l) => l.text.replace(/\u00a0/g, ' '))
      .join('\n'),
  );
}

/** Waits until warning/error squiggles are drawn; returns how many. */
export async function waitForSquiggles(page: Page, timeoutMs = 20_000): Promise<number> {
  return until(
    'squiggles',
    async () => page.locator('.squiggly-warning, .squiggly-error').count(),
    timeoutMs,
  );
}

/** Opens the Problems panel (Ctrl+Shift+M) and returns its rows' text. */
export async function openProblems(page: Page): Promise<void> {
  const panel = page.locator('.markers-panel');
  if (!(await panel.isVisible().catch(() => false))) {
    await page.keyboard.press('Control+Shift+M');
  }
  await panel.waitFor({ state: 'visible', timeout: 10_000 });
}

/** The Problems panel's rows (aria labels: message, code, source, position). */
export async function problemRows(page: Page): Promise<string[]> {
  return page
    .locator('.markers-panel .monaco-list-row')
    .evaluateAll((rows) =>
      rows.map((r) => `${r.getAttribute('aria-label') ?? ''} ${r.textContent ?? ''}`),
    );
}

/** Pixel center of the first rendered occurrence of `text` in the editor. */
export async function tokenCenter(page: Page, text: string): Promise<{ x: number; y: number }> {
  const box = await page.locator(VIEW_LINES).evaluateAll((lines, needle) => {
    const SHOW_TEXT = 4; // NodeFilter.SHOW_TEXT
    lines.sort((a, b) => a.getBoundingClientRect().top - b.getBoundingClientRect().top);
    for (const line of lines) {
      const doc = line.ownerDocument;
      const walker = doc.createTreeWalker(line, SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        const i = (n.textContent ?? '').indexOf(needle);
        if (i < 0) continue;
        const range = doc.createRange();
        range.setStart(n, i);
        range.setEnd(n, i + needle.length);
        const r = range.getBoundingClientRect();
        return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
      }
    }
    return null;
  }, text);
  if (!box) throw new Error(`"${text}" is not shown in the editor`);
  return box;
}

/** Classes of the squiggles drawn under the first occurrence of `text` ([] when none). */
export async function squigglesOn(page: Page, text: string): Promise<string[]> {
  const at = await tokenCenter(page, text);
  return page
    .locator(
      ['error', 'warning', 'info']
        .map((level) => `.editor-instance .monaco-editor .squiggly-${level}`)
        .join(', '),
    )
    .evaluateAll(
      (squiggles, { x, y }) =>
        squiggles
          .filter((el) => {
            const r = el.getBoundingClientRect();
            return r.left <= x && x <= r.right && r.top - 4 <= y && y <= r.bottom + 4;
          })
          .map((el) => [...el.classList].filter((c) => c.startsWith('squiggly-')).join(' ')),
      at,
    );
}

/** Opens the quick fix menu (Ctrl+.) at the cursor; returns its entries. */
export async function openQuickFix(page: Page): Promise<string[]> {
  const rows = page.locator('.action-widget .monaco-list-row.action');
  await until(
    'the quick fix menu',
    async () => {
      if ((await rows.count()) > 0) return true;
      await page.keyboard.press('Control+.');
      await sleep(700);
      return (await rows.count()) > 0;
    },
    10_000,
    0,
  );
  return rows.evaluateAll((els) => els.map((e) => (e.textContent ?? '').trim()));
}

/** In the open quick fix menu, moves to the entry containing `title` and applies it with Enter. */
export async function applyQuickFix(page: Page, title: string): Promise<void> {
  const focused = page.locator('.action-widget .monaco-list-row.action.focused');
  for (let i = 0; i < 20; i++) {
    if (
      (
        (await focused
          .first()
          .textContent()
          .catch(() => '')) ?? ''
      ).includes(title)
    ) {
      await page.keyboard.press('Enter');
      await page
        .locator('.action-widget .monaco-list-row.action')
        .first()
        .waitFor({ state: 'hidden', timeout: 5000 });
      return;
    }
    await page.keyboard.press('ArrowDown');
    await sleep(100);
  }
  throw new Error(`no quick fix "${title}" in the menu`);
}

// Drives a real VS Code (code-server + headless Chromium) with Tunelab installed
// from its .vsix, like a user would: the shared part of scripts/screenshots.ts
// and the UI tests, all imported from here.
//
//   packageVsix()      npx vsce package --no-dependencies (like scripts/start.sh)
//   makeWorkspace()    templates/telecom-support + mistakes.finetune.yaml in a temp dir
//   startWorkbench()   fresh user-data/extensions dirs, --install-extension, code-server
//                      on 127.0.0.1, Chromium (playwright-core) on the workbench
//                      (workbenchStart.ts)
//   withTestWorkbench() a UI test's frame: temp dir, .vsix, workspace, workbench, the
//                      failure screenshot, clean-up (workbenchStart.ts)
//   until()            the bounded polling wait (until.ts)
//   runCommand()       F1, a command by its title, Enter (here)
//   webviewFrame()     the webview frame that holds a selector (here)
//   navigation.ts      notifications, Quick Open, go to line
//   editorView.ts      the editor's rendered text, where a token is drawn
//   diagnosticsView.ts squiggles, Problems panel, quick fix
//
// Every wait is bounded. Workbench.close() kills Chromium's and code-server's
// process groups; they are also killed when this process exits or gets SIGINT /
// SIGTERM, so an interrupted run leaves nothing behind.

import type { Frame, Page } from 'playwright-core';
import { sleep } from '../support/codeServerProcess.ts';
import { until } from './until.ts';

export { CHROMIUM_ARGS, launchChromium, sleep, tempDir } from '../support/codeServerProcess.ts';
export {
  DEMO_MISTAKES,
  QUIET_SETTINGS,
  makeWorkspace,
  packageVsix,
  repoRoot,
  startWorkbench,
  withTestWorkbench,
  type TestWorkbenchOptions,
  type Workbench,
  type WorkbenchOptions,
} from './workbenchStart.ts';
export { until } from './until.ts';
export { dismissNotifications, goTo, lineOf, quickOpen } from './navigation.ts';
export { editorText, tokenCenter } from './editorView.ts';
export {
  applyQuickFix,
  openProblems,
  openQuickFix,
  problemRows,
  squigglesOn,
  waitForSquiggles,
} from './diagnosticsView.ts';

export const PALETTE_INPUT = '.quick-input-widget .quick-input-box input';
export const PALETTE_FOCUSED_ROW = '.quick-input-list .monaco-list-row.focused';

/** Runs a command through the palette: F1, `>title` until it is the focused row, Enter. */
export async function runCommand(page: Page, title: string): Promise<void> {
  await findCommand(page, title);
  await page.keyboard.press('Enter');
}

/** F1, then `>title` until it is the palette's focused row (not run yet). */
export async function findCommand(page: Page, title: string): Promise<void> {
  await until(
    'the command palette',
    async () => {
      await page.keyboard.press('F1');
      return page.locator(PALETTE_INPUT).isVisible();
    },
    10_000,
    500,
  );
  await until(
    `"${title}" in the palette`,
    async () => {
      // Typed again until it is found: right after start the palette may list
      // the commands before the extension's contributions are registered.
      await page.keyboard.press('Control+A');
      await page.keyboard.type(`>${title}`);
      await sleep(300);
      return (await page.locator(PALETTE_FOCUSED_ROW).first().textContent())?.includes(title);
    },
    20_000,
    500,
  );
}

/** The webview's inner frame that holds `selector` (`what` names it in the timeout). */
export async function webviewFrame(page: Page, selector: string, what: string): Promise<Frame> {
  return until(
    what,
    async () => {
      for (const frame of page.frames())
        if (
          await frame
            .locator(selector)
            .count()
            .catch(() => 0)
        )
          return frame;
      return undefined;
    },
    30_000,
    500,
  );
}

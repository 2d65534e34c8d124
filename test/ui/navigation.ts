// Getting around the workbench like a user: notifications out of the way,
// files opened through Quick Open, the cursor moved with go to line.

import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { sleep } from '../support/codeServerProcess.ts';
import { until } from './until.ts';

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
  // On a loaded machine the workspace's file search may answer after the query
  // was typed and show nothing: type it again every few seconds.
  let polls = 0;
  await until(
    `"${fileName}" in Quick Open`,
    async () => {
      if (++polls % 40 === 0) {
        await input.fill('');
        await input.fill(fileName);
      }
      return (
        (await page
          .locator('.quick-input-list .monaco-list-row', { hasText: fileName })
          .first()
          .isVisible()) || undefined
      );
    },
    45_000,
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

/** The 1-based line of the first line of `file` matching `pattern` (for goTo). */
export function lineOf(file: string, pattern: RegExp): number {
  const index = readFileSync(file, 'utf8')
    .split('\n')
    .findIndex((line) => pattern.test(line));
  if (index < 0) throw new Error(`no line matching ${pattern} in ${file}`);
  return index + 1;
}

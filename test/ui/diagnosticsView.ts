// Diagnostics as the user meets them: squiggles in the editor, the Problems
// panel, and the quick fix menu.
//
// Functions passed to evaluateAll run in the page: they reach the DOM through
// the elements playwright hands them (this project's tsconfig has no DOM lib).

import type { Page } from 'playwright-core';
import { sleep } from '../support/codeServerProcess.ts';
import { tokenCenter } from './editorView.ts';
import { until } from './until.ts';

/** Waits until warning/error squiggles are drawn; returns how many. */
export async function waitForSquiggles(page: Page, timeoutMs = 20_000): Promise<number> {
  return until(
    'squiggles',
    async () => page.locator('.squiggly-warning, .squiggly-error').count(),
    timeoutMs,
  );
}

/** Opens the Problems panel (Ctrl+Shift+M) unless it is already open. */
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

// What the active editor shows, read from the rendered view lines.
//
// The functions below run in the page: they reach the DOM through the
// elements playwright hands them (this project's tsconfig has no DOM lib).

import type { Page } from 'playwright-core';

export const VIEW_LINES = '.editor-instance .monaco-editor .view-line';

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

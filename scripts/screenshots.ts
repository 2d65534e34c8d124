// Makes the README's images from a real VS Code (code-server + headless
// Chromium) with Tunelab installed from its .vsix, driven like a user would:
//
//   images/icon.png         the 128×128 extension icon (an SVG rendered in Chromium)
//   images/diagnostics.png  mistakes.finetune.yaml with squiggles and the Problems panel
//   images/hover.png        the hover documentation of `lora_alpha`
//   images/completion.png   key completion inside `lora:`
//   images/quickfix.png     Ctrl+. on `lora_rank`: "Rename to 'r'"
//
//   npm run build && node --import tsx scripts/screenshots.ts [--icon-only | --no-icon]
//
// Needs the install of scripts/setup-codeserver.sh and /usr/bin/chromium.
// Packages the extension like scripts/start.sh (vsce package --no-dependencies),
// installs it into fresh user-data/extensions dirs in a temp dir, and opens a
// copy of templates/telecom-support plus test/fixtures/lora-typos.finetune.yaml
// as mistakes.finetune.yaml. Every wait is bounded (whole run: 4 minutes);
// code-server and Chromium are killed at the end in every case.

import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import {
  dismissNotifications,
  goTo,
  launchChromium,
  makeWorkspace,
  openProblems,
  packageVsix,
  problemRows,
  quickOpen,
  repoRoot,
  sleep,
  startWorkbench,
  tempDir,
  tokenCenter,
  until,
  waitForSquiggles,
} from '../test/ui/workbench.ts';
import { findCodeServer } from '../test/vscode/codeserver.ts';

const IMAGES = path.join(repoRoot, 'images');
const TOTAL_LIMIT_MS = 240_000;

const log = (line: string) => process.stdout.write(`[screenshots] ${line}\n`);

// --- icon -------------------------------------------------------------------

/** A rounded square with "TL" over two tuning sliders. */
export const ICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="128" height="128" viewBox="0 0 128 128">
  <defs>
    <linearGradient id="bg" x1="0" y1="0" x2="1" y2="1">
      <stop offset="0" stop-color="#4f46e5"/>
      <stop offset="1" stop-color="#0e7490"/>
    </linearGradient>
  </defs>
  <rect x="4" y="4" width="120" height="120" rx="26" fill="url(#bg)"/>
  <text x="64" y="66" text-anchor="middle" font-family="DejaVu Sans, Arial, sans-serif"
        font-weight="bold" font-size="50" fill="#fff" letter-spacing="-1">TL</text>
  <g stroke-linecap="round" stroke-width="6">
    <line x1="28" y1="84" x2="100" y2="84" stroke="#fff" stroke-opacity="0.3"/>
    <line x1="28" y1="84" x2="76" y2="84" stroke="#fbbf24"/>
    <circle cx="76" cy="84" r="8" fill="#fff"/>
    <line x1="28" y1="104" x2="100" y2="104" stroke="#fff" stroke-opacity="0.3"/>
    <line x1="28" y1="104" x2="48" y2="104" stroke="#fbbf24"/>
    <circle cx="48" cy="104" r="8" fill="#fff"/>
  </g>
</svg>`;

async function makeIcon(): Promise<void> {
  const { browser, close } = await launchChromium();
  try {
    const page = await browser.newPage({
      viewport: { width: 128, height: 128 },
      deviceScaleFactor: 1,
    });
    await page.setContent(
      `<html><body style="margin:0;background:transparent">${ICON_SVG}</body></html>`,
    );
    const file = path.join(IMAGES, 'icon.png');
    await page.screenshot({
      path: file,
      omitBackground: true, // transparent corners
      clip: { x: 0, y: 0, width: 128, height: 128 },
    });
    log(`wrote ${path.relative(repoRoot, file)}`);
  } finally {
    await close();
  }
}

// --- screenshots --------------------------------------------------------------

async function shot(page: Page, name: string): Promise<void> {
  const file = path.join(IMAGES, name);
  await page.screenshot({ path: file });
  log(`wrote ${path.relative(repoRoot, file)}`);
}

/** Moves the mouse away and closes hovers, widgets and quick input. */
async function calm(page: Page): Promise<void> {
  await page.mouse.move(5, 420);
  await page.keyboard.press('Escape');
  await page.keyboard.press('Escape');
  await sleep(300);
}

async function makeScreenshots(): Promise<void> {
  const install = findCodeServer();
  if ('missing' in install) {
    throw new Error(`${install.missing}; run: bash scripts/setup-codeserver.sh`);
  }
  const tmp = tempDir('tunelab-screenshots-');
  try {
    const t0 = Date.now();
    const vsix = path.join(tmp, 'tunelab.vsix');
    packageVsix(vsix);
    log(`packaged ${vsix} in ${Date.now() - t0} ms`);
    const workspace = makeWorkspace(path.join(tmp, 'telecom-support'));
    const wb = await startWorkbench({
      install,
      vsix,
      workspace,
      viewport: { width: 1400, height: 850 },
      settings: {
        'workbench.colorTheme': 'Default Dark Modern',
        'editor.cursorBlinking': 'solid',
        'editor.lightbulb.enabled': 'on',
      },
      log,
    });
    const { page } = wb;
    try {
      await dismissNotifications(page);

      // (a) Diagnostics: squiggles and the Problems panel.
      await quickOpen(page, 'mistakes.finetune.yaml');
      const squiggles = await waitForSquiggles(page, 30_000);
      log(`${squiggles} squiggles`);
      await openProblems(page);
      const rows = await until(
        'the Problems panel rows',
        async () => {
          const r = await problemRows(page);
          return r.some((t) => t.includes('schema-unknown-key')) && r.length >= 6 ? r : undefined;
        },
        20_000,
      );
      log(`${rows.length - 1} problems listed`);
      // Back to the editor, cursor on the first line (the comment).
      await goTo(page, 1, 1);
      await dismissNotifications(page);
      await calm(page);
      await sleep(500);
      await shot(page, 'diagnostics.png');

      // Close the panel for the other shots: more room around the editor.
      await page.keyboard.press('Control+J');
      await page.locator('.markers-panel').waitFor({ state: 'hidden', timeout: 5000 });

      // (b) Hover documentation of a key.
      const at = await tokenCenter(page, 'lora_alpha');
      await page.mouse.move(at.x - 20, at.y);
      await page.mouse.move(at.x, at.y, { steps: 5 });
      await until(
        'the hover of lora_alpha',
        async () => {
          const hover = page.locator('.monaco-hover:visible').first();
          return (await hover.count()) && (await hover.innerText()).includes('lora_alpha');
        },
        10_000,
      );
      await sleep(600);
      await shot(page, 'hover.png');
      await calm(page);

      // (c) Quick fix on lora_rank.
      await goTo(page, 9, 3);
      await sleep(500);
      await page.keyboard.press('Control+.');
      await until(
        'the quick fix menu',
        async () =>
          (await page
            .locator('.action-widget .monaco-list-row', { hasText: 'Rename to' })
            .count()) > 0,
        10_000,
      );
      await sleep(600);
      await shot(page, 'quickfix.png');
      await calm(page);

      // (d) Completion inside lora: on a new line after target_modules.
      await goTo(page, 11, 3);
      await page.keyboard.press('End');
      await page.keyboard.press('Enter');
      await page.keyboard.press('Control+Space');
      const suggest = page.locator('.editor-widget.suggest-widget');
      await suggest.locator('.monaco-list-row').first().waitFor({ timeout: 10_000 });
      // A second Ctrl+Space shows the focused item's documentation beside the
      // list (opened first: the pane sizes itself to the items shown after).
      const details = page.locator('.suggest-details-container');
      await sleep(300);
      if (!(await details.isVisible().catch(() => false))) {
        await page.keyboard.press('Control+Space');
      }
      await details
        .waitFor({ state: 'visible', timeout: 5000 })
        .catch(() => log('no documentation pane beside the completion list'));
      // Walk down the list (keys not yet in the section, alphabetical) to a
      // well-known one, so that its documentation is the one shown.
      for (let i = 0; i < 40; i++) {
        const label = await suggest
          .locator('.monaco-list-row.focused')
          .first()
          .getAttribute('aria-label');
        if (label?.startsWith('lora_dropout')) break;
        await page.keyboard.press('ArrowDown');
        await sleep(80);
      }
      await sleep(1000);
      await shot(page, 'completion.png');
      await calm(page);
      log(`screenshots done in ${Date.now() - t0} ms`);
    } catch (e) {
      const failure = path.join(tmpdir(), 'tunelab-screenshots-failure.png');
      await page.screenshot({ path: failure }).catch(() => undefined);
      log(`failed; the screen is in ${failure}; code-server output (tail):`);
      log(wb.output().slice(-3000));
      throw e;
    } finally {
      await wb.close();
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const args = new Set(process.argv.slice(2));
  mkdirSync(IMAGES, { recursive: true });
  const timer = setTimeout(() => {
    log(`TIMEOUT after ${TOTAL_LIMIT_MS} ms`);
    process.exit(124); // the exit hook kills code-server and Chromium
  }, TOTAL_LIMIT_MS);
  timer.unref();
  if (!args.has('--no-icon')) await makeIcon();
  if (!args.has('--icon-only')) await makeScreenshots();
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    log(`error: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);

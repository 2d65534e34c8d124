// Makes the README's images from a real VS Code (code-server + headless
// Chromium) with Tunelab installed from its .vsix, driven like a user would:
//
//   images/icon.png         the 128×128 extension icon (an SVG rendered in Chromium)
//   images/diagnostics.png  mistakes.finetune.yaml with squiggles and the Problems panel
//   images/hover.png        the hover documentation of `lora_alpha`
//   images/completion.png   key completion inside `lora:`
//   images/quickfix.png     Ctrl+. on `lora_rank`: "Rename to 'r'"
//
// and a new user's path (test/ui/newUserPath.ts) in an empty project:
//
//   images/new-command.png   F1: "Tunelab: New fine-tuning config"
//   images/new-template.png  the template pick (step 1 of 5)
//   images/new-config.png    the new QLoRA config: estimate in the code lens, no problems
//   images/new-warning.png   after `r: 64`: the lora-alpha-ratio warning
//   images/new-quickfix.png  Ctrl+. on it: "Set lora_alpha: 128"
//   walkthrough/images/create.png, check.png: parts of new-config and new-warning
//                            for the Getting Started walkthrough
//
//   npm run build && node --import tsx scripts/screenshots.ts [--icon-only | --no-icon | --new-user-only]
//
// Needs the install of scripts/setup-codeserver.sh and /usr/bin/chromium.
// Packages the extension like scripts/start.sh (vsce package --no-dependencies),
// installs it into fresh user-data/extensions dirs in a temp dir, and opens a
// copy of templates/telecom-support plus scripts/demo/mistakes.finetune.yaml
// as mistakes.finetune.yaml. Every wait is bounded (whole run: 5 minutes);
// code-server and Chromium are killed at the end in every case.

import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { makeEmptyProject, walkNewUserPath, type Moment } from '../test/ui/newUserPath.ts';
import {
  DEMO_MISTAKES,
  dismissNotifications,
  goTo,
  launchChromium,
  lineOf,
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
const TOTAL_LIMIT_MS = 300_000;

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

const SCREENSHOT_SETTINGS = {
  'workbench.colorTheme': 'Default Dark Modern',
  'editor.cursorBlinking': 'solid',
  'editor.lightbulb.enabled': 'on',
};

function codeServerInstall() {
  const install = findCodeServer();
  if ('missing' in install) {
    throw new Error(`${install.missing}; run: bash scripts/setup-codeserver.sh`);
  }
  return install;
}

interface Shot {
  /** Relative to the repository. */
  file: string;
  /** Part of the window (the walkthrough's media column is narrow: crop to what matters). */
  clip?: { x: number; y: number; width: number; height: number };
}

const NEW_USER_SHOTS: Record<Moment, Shot[]> = {
  palette: [{ file: 'images/new-command.png' }],
  template: [{ file: 'images/new-template.png' }],
  config: [
    { file: 'images/new-config.png' },
    // The tab, the estimate's code lens and the first lines.
    { file: 'walkthrough/images/create.png', clip: { x: 353, y: 30, width: 720, height: 300 } },
  ],
  warning: [
    { file: 'images/new-warning.png' },
    // The hover with the warning over `r: 64` and `lora_alpha: 32`.
    { file: 'walkthrough/images/check.png', clip: { x: 353, y: 140, width: 960, height: 200 } },
  ],
  quickfix: [{ file: 'images/new-quickfix.png' }],
};

/** The new user's path from an empty project, one screenshot per moment. */
async function makeNewUserScreenshots(vsix: string, tmp: string): Promise<void> {
  const t0 = Date.now();
  const workspace = makeEmptyProject(path.join(tmp, 'support-bot'));
  const wb = await startWorkbench({
    install: codeServerInstall(),
    vsix,
    workspace,
    viewport: { width: 1400, height: 850 },
    // The lightbulb would sit on `r: 64` (two-space indent) in the warning shot.
    settings: { ...SCREENSHOT_SETTINGS, 'editor.lightbulb.enabled': 'off' },
    log,
  });
  const { page } = wb;
  try {
    await dismissNotifications(page);
    await walkNewUserPath(page, {
      workspace,
      log,
      onMoment: async (moment) => {
        // Let the list, lens or menu finish drawing.
        await sleep(600);
        for (const { file, clip } of NEW_USER_SHOTS[moment]) {
          const target = path.join(repoRoot, file);
          mkdirSync(path.dirname(target), { recursive: true });
          await page.screenshot({ path: target, clip });
          log(`wrote ${file}`);
        }
      },
    });
    log(`new-user screenshots done in ${Date.now() - t0} ms`);
  } catch (e) {
    await keepFailure(page, wb.output());
    throw e;
  } finally {
    await wb.close();
  }
}

async function keepFailure(page: Page, output: string): Promise<void> {
  const failure = path.join(tmpdir(), 'tunelab-screenshots-failure.png');
  await page.screenshot({ path: failure }).catch(() => undefined);
  log(`failed; the screen is in ${failure}; code-server output (tail):`);
  log(output.slice(-3000));
}

async function makeScreenshots(newUserOnly: boolean): Promise<void> {
  const install = codeServerInstall();
  const tmp = tempDir('tunelab-screenshots-');
  try {
    const t0 = Date.now();
    const vsix = path.join(tmp, 'tunelab.vsix');
    packageVsix(vsix);
    log(`packaged ${vsix} in ${Date.now() - t0} ms`);
    await makeNewUserScreenshots(vsix, tmp);
    if (newUserOnly) return;
    const workspace = makeWorkspace(path.join(tmp, 'telecom-support'));
    const wb = await startWorkbench({
      install,
      vsix,
      workspace,
      viewport: { width: 1400, height: 850 },
      settings: SCREENSHOT_SETTINGS,
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

      // (c) Quick fix on lora_rank (1-based lines of the demo file, wherever its comments put them).
      await goTo(page, lineOf(DEMO_MISTAKES, /^\s+lora_rank:/), 3);
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
      await goTo(page, lineOf(DEMO_MISTAKES, /^\s+target_modules:/), 3);
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
      await keepFailure(page, wb.output());
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
  const newUserOnly = args.has('--new-user-only');
  if (!args.has('--no-icon') && !newUserOnly) await makeIcon();
  if (!args.has('--icon-only')) await makeScreenshots(newUserOnly);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    log(`error: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);

// A new user's path in a real VS Code, keyboard first, shared by
// test/ui/newUser.test.ts (which times and asserts it) and
// scripts/screenshots.ts (which photographs its moments):
//
//   F1 → "Tunelab: New fine-tuning config" → telecom-support → Llama 3.1 8B
//   → RTX4090-24GB → QLoRA → folder "." → the config opens: no problems, the
//   estimate in the code lens above line 1 → `r: 16` becomes `r: 64` → the
//   lora-alpha-ratio warning (alpha 32 / r 64 = 0.5; with 1,200 rows the rank
//   rule stays quiet) → Ctrl+. → "Set lora_alpha: 128" → no problems left.
//
// Every wait is bounded; a failed wait throws with what it waited for.

import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import {
  applyQuickFix,
  dismissNotifications,
  editorText,
  findCommand,
  goTo,
  lineOf,
  openProblems,
  openQuickFix,
  PALETTE_FOCUSED_ROW,
  PALETTE_INPUT,
  problemRows,
  sleep,
  until,
} from './workbench.ts';

/** Where the path stops for a screenshot, in order. */
export type Moment = 'palette' | 'template' | 'config' | 'warning' | 'quickfix';

export interface PathOptions {
  /** The workspace folder on disk (the config is read back from it to find lines). */
  workspace: string;
  /** Called at each moment with the screen in that state; default: nothing. */
  onMoment?: (moment: Moment) => Promise<void>;
  /** Progress lines. */
  log?: (line: string) => void;
}

export interface PathResult {
  configPath: string;
  codeLens: string;
  warningRow: string;
  quickFixes: string[];
}

/** A project folder with nothing in it yet but a README (the Explorer needs one row). */
export function makeEmptyProject(dir: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'README.md'), '# Support bot\n\nFine-tuning a support assistant.\n');
  return dir;
}

async function placeholder(page: Page): Promise<string> {
  return (await page.locator(PALETTE_INPUT).getAttribute('placeholder')) ?? '';
}

/**
 * In the open quick input whose placeholder starts with `step`, types
 * `filter` and checks that the highlighted row matches `expected`; Enter is
 * left to the caller so a screenshot can be taken first.
 */
async function typeInPick(page: Page, step: string, filter: string, expected: RegExp) {
  await until(
    `the "${step}" pick`,
    async () =>
      (await page.locator(PALETTE_INPUT).isVisible()) && (await placeholder(page)).startsWith(step),
    15_000,
  );
  await page.keyboard.type(filter);
  return until(
    `"${filter}" highlighting ${expected}`,
    async () => {
      const label =
        (await page.locator(PALETTE_FOCUSED_ROW).first().getAttribute('aria-label')) ?? '';
      return expected.test(label) ? label : undefined;
    },
    10_000,
  );
}

export async function walkNewUserPath(page: Page, options: PathOptions): Promise<PathResult> {
  const moment = options.onMoment ?? (async () => undefined);
  const log = options.log ?? (() => undefined);

  // F1, the command by its name.
  await findCommand(page, 'Tunelab: New fine-tuning config');
  await moment('palette');
  await page.keyboard.press('Enter');
  log('command started');

  await typeInPick(page, 'Template', 'telecom', /^telecom-support/);
  await moment('template');
  await page.keyboard.press('Enter');
  await typeInPick(page, 'Base model', 'Llama 3.1 8B', /^Llama 3\.1 8B · 8\.0 B params/);
  await page.keyboard.press('Enter');
  await typeInPick(page, 'GPU', 'RTX4090', /^RTX4090-24GB/);
  await page.keyboard.press('Enter');
  await typeInPick(page, 'Method', 'QLoRA', /^QLoRA/);
  await page.keyboard.press('Enter');
  // The folder box proposes the workspace root ("."): the project has no template files yet.
  await until(
    'the folder box with "."',
    async () =>
      (await page
        .locator(PALETTE_INPUT)
        .inputValue()
        .catch(() => '')) === '.',
    10_000,
  );
  await page.keyboard.press('Enter');
  log('answers given');

  await page
    .locator('.tabs-container .tab.active[aria-label^="qlora.finetune.yaml"]')
    .waitFor({ timeout: 15_000 });
  const configPath = path.join(options.workspace, 'qlora.finetune.yaml');
  const lens = page.locator('.editor-instance .monaco-editor .codelens-decoration').first();
  const codeLens = await until(
    'the estimate code lens',
    async () => {
      const text = (await lens.textContent().catch(() => '')) ?? '';
      return /≈.*GiB\/GPU on 1× RTX4090-24GB · fits/.test(text) ? text : undefined;
    },
    30_000,
  );
  const lensTop = (await lens.boundingBox())?.y ?? Infinity;
  // By its line number: the editor reuses line elements, so DOM order is not line order.
  const firstLineTop = await page
    .locator('.editor-instance .monaco-editor .line-numbers')
    .evaluateAll(
      (numbers) =>
        numbers.find((n) => n.textContent?.trim() === '1')?.getBoundingClientRect().top ?? null,
    );
  if (firstLineTop === null) throw new Error('line 1 is not shown');
  if (!(lensTop < firstLineTop)) throw new Error('the code lens is not above line 1');
  await openProblems(page);
  // Diagnostics come with the analysis that made the lens; give their push a moment.
  await sleep(1000);
  const rowsAtStart = await problemRows(page);
  if (rowsAtStart.length > 0)
    throw new Error(`problems on the new config:\n${rowsAtStart.join('\n')}`);
  await moment('config');
  log(`config open, ${codeLens}`);
  await dismissNotifications(page);

  // r: 16 → r: 64, typed over the value.
  const rankLine = lineOf(configPath, /^ {2}r: 16\b/);
  await goTo(page, rankLine, 6);
  await page.keyboard.press('Shift+ArrowRight');
  await page.keyboard.press('Shift+ArrowRight');
  await page.keyboard.type('64');
  await until('r: 64 in the editor', async () => /^ {2}r: 64\b/m.test(await editorText(page)));
  const warningRow = await until(
    'the lora-alpha-ratio warning for r: 64',
    // Typing "64" passes through "r: 6", whose own warning may be listed first.
    async () =>
      (await problemRows(page)).find(
        (row) => row.includes('lora-alpha-ratio') && row.includes('/ 64 ='),
      ),
    20_000,
  );
  const others = (await problemRows(page)).filter(
    (row) => !row.includes('lora-alpha-ratio') && !row.includes('qlora.finetune.yaml'),
  );
  if (others.length > 0) throw new Error(`unexpected problems after r: 64:\n${others.join('\n')}`);
  // The cursor to the warning, its message in a hover (Ctrl+K Ctrl+I).
  const alphaLine = lineOf(configPath, /^ {2}lora_alpha: 32\b/);
  await goTo(page, alphaLine, 15);
  await page.keyboard.press('Control+K');
  await page.keyboard.press('Control+I');
  await until(
    'the hover with the warning',
    async () =>
      ((await page.locator('.monaco-hover:visible').first().textContent()) ?? '').includes(
        'LoRA updates are scaled',
      ),
    10_000,
  ).catch(() => log('no hover shown for the warning'));
  await moment('warning');
  log('warning shown');
  await page.keyboard.press('Escape');

  const quickFixes = await openQuickFix(page);
  const fix = quickFixes.find((title) => /lora_alpha: 128/.test(title));
  if (!fix) throw new Error(`no "lora_alpha: 128" fix among ${JSON.stringify(quickFixes)}`);
  await moment('quickfix');
  await applyQuickFix(page, 'lora_alpha: 128');
  await until('lora_alpha: 128 in the editor', async () =>
    /^ {2}lora_alpha: 128\b/m.test(await editorText(page)),
  );
  await until(
    'the Problems panel to empty',
    async () => (await problemRows(page)).length === 0,
    15_000,
  );
  log('quick fix applied, no problems left');
  return { configPath, codeLens, warningRow, quickFixes };
}

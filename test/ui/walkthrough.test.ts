// The README's walkthrough as a UI test in a real VS Code: code-server with
// Tunelab installed from its .vsix (packaged here like scripts/start.sh does),
// driven through headless Chromium with the keyboard like a user:
//
//   Quick Open mistakes.finetune.yaml -> squiggles under `lora_rank`
//   Ctrl+Shift+M -> the Problems panel lists `schema-unknown-key`
//   cursor on `lora_rank`, Ctrl+. -> "Rename to 'r'", Enter
//   -> the line reads `r: 16` and the problem is gone (the others stay)
//
//   bash scripts/setup-codeserver.sh     # once per machine
//   npm run build
//   node --import tsx --test test/ui/walkthrough.test.ts
//
// Skips (saying why) when the code-server install is absent, unless
// TUNELAB_REQUIRE_CODESERVER is set (CI), in which case it fails. Takes
// ~30-40 s. TUNELAB_KEEP_TMP=1 keeps code-server's user-data dir (logs).

import * as assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { codeServerForTest } from '../support/codeServerSkip.ts';
import {
  applyQuickFix,
  DEMO_MISTAKES,
  editorText,
  goTo,
  lineOf,
  makeWorkspace,
  openProblems,
  openQuickFix,
  packageVsix,
  problemRows,
  quickOpen,
  squigglesOn,
  startWorkbench,
  tempDir,
  until,
  waitForSquiggles,
  type Workbench,
} from './workbench.ts';

const codeServer = codeServerForTest();

test(
  'walkthrough in a real VS Code: squiggles, Problems panel, quick fix',
  { skip: codeServer.skip, timeout: 120_000 },
  async (t) => {
    const install = codeServer.installed();
    const started = Date.now();
    const step = (what: string) => t.diagnostic(`${Date.now() - started} ms: ${what}`);
    const tmp = tempDir('tunelab-ui-test-');
    let wb: Workbench | undefined;
    try {
      const vsix = path.join(tmp, 'tunelab.vsix');
      packageVsix(vsix);
      step('packaged');
      const workspace = makeWorkspace(path.join(tmp, 'telecom-support'));
      wb = await startWorkbench({ install, vsix, workspace, startTimeoutMs: 60_000 });
      const { page } = wb;
      step('workbench ready');

      await quickOpen(page, 'mistakes.finetune.yaml');
      await waitForSquiggles(page, 30_000);
      const onKey = await until('a squiggle under lora_rank', async () => {
        const s = await squigglesOn(page, 'lora_rank');
        return s.length ? s : undefined;
      });
      assert.ok(
        onKey.some((c) => c.includes('squiggly-warning')),
        `expected a warning squiggle under lora_rank, got ${onKey.join(', ')}`,
      );
      step('squiggles drawn');

      await openProblems(page);
      const before = await until(
        'schema-unknown-key in the Problems panel',
        async () => {
          const rows = await problemRows(page);
          return rows.some((r) => r.includes('schema-unknown-key')) ? rows : undefined;
        },
        20_000,
      );
      const unknownKey = before.find((r) => r.includes('schema-unknown-key'))!;
      assert.match(unknownKey, /lora_rank/);
      assert.match(unknownKey, /Did you mean `r`\?/);
      const others = before.filter((r) => /schema-(enum|type)/.test(r));
      assert.ok(others.length >= 2, `expected the schema errors too:\n${before.join('\n')}`);
      step(`${before.length - 1} problems listed`);

      await goTo(page, lineOf(DEMO_MISTAKES, /^\s+lora_rank:/), 3);
      const actions = await openQuickFix(page);
      assert.ok(
        actions.some((a) => a.includes("Rename to 'r'")),
        `quick fixes offered: ${JSON.stringify(actions)}`,
      );
      await applyQuickFix(page, "Rename to 'r'");
      step('quick fix applied');

      const text = await until(
        'the renamed key',
        async () => {
          const s = await editorText(page);
          return /^ {2}r: 16$/m.test(s) ? s : undefined;
        },
        10_000,
      );
      assert.doesNotMatch(text, /lora_rank/);
      const after = await until(
        'schema-unknown-key to leave the Problems panel',
        async () => {
          const rows = await problemRows(page);
          return rows.length > 1 && !rows.some((r) => r.includes('schema-unknown-key'))
            ? rows
            : undefined;
        },
        15_000,
      );
      assert.ok(
        after.some((r) => r.includes('schema-enum')),
        `the other problems should stay:\n${after.join('\n')}`,
      );
      step('problem gone');
    } catch (e) {
      if (wb) console.log(`code-server output (tail):\n${wb.output().slice(-2000)}`);
      throw e;
    } finally {
      await wb?.close();
      rmSync(tmp, { recursive: true, force: true });
    }
  },
);

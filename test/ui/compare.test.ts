// Compare runs in a real VS Code (code-server + headless Chromium, Tunelab
// installed from its .vsix): a workspace with two recorded, evaluated runs
// (the eval fixtures of test/fixtures/eval and their configs), F1 → "Tunelab:
// Compare Runs", both picked; the webview must show the metrics table with
// the fixtures' metrics and the config diff. Takes images/compare-view.png.
//
//   bash scripts/setup-codeserver.sh && npm run build
//   node --import tsx --test test/ui/compare.test.ts

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { RunStore } from '../../launch/src/runRecord.ts';
import { codeServerForTest } from '../support/codeServerSkip.ts';
import { completedRecord } from '../support/runRecords.ts';
import {
  dismissNotifications,
  repoRoot,
  runCommand,
  sleep,
  webviewFrame,
  withTestWorkbench,
} from './workbench.ts';

const codeServer = codeServerForTest();
const FIXTURES = path.join(repoRoot, 'test', 'fixtures', 'eval');
const SCREENSHOT = path.join(repoRoot, 'images', 'compare-view.png');

/** TMP/project holding the lora and full runs, each evaluated, the lora one with a loss curve. */
function workspaceWithRuns(tmp: string): string {
  const dir = path.join(tmp, 'project');
  fs.mkdirSync(dir);
  const store = new RunStore(dir);
  ['lora', 'full'].forEach((name, index) => {
    const config = path.join(dir, `${name}.finetune.yaml`);
    fs.copyFileSync(path.join(FIXTURES, `${name}.finetune.yaml`), config);
    const logPath = path.join(store.runDir(name), 'log');
    fs.mkdirSync(path.dirname(logPath), { recursive: true });
    const steps = Array.from({ length: 20 }, (_, i) => {
      const loss = 2.4 / (1 + i * (index ? 0.12 : 0.08));
      return `@tunelab {"event":"step","time":1,"v":1,"step":${(i + 1) * 10},"loss":${loss}}`;
    });
    fs.writeFileSync(logPath, steps.join('\n') + '\n');
    const created = new Date(Date.parse('2026-12-06T10:00:00Z') + index * 3600_000).toISOString();
    store.save(
      completedRecord({
        id: `${name}-run`,
        config,
        runDir: path.dirname(logPath),
        logPath,
        exitCode: 0,
        createdAt: created,
      }),
    );
    fs.copyFileSync(
      path.join(FIXTURES, `${name}.eval.json`),
      path.join(store.dir, `${name}-run.eval.json`),
    );
  });
  return dir;
}

test(
  'Compare Runs: two evaluated runs → metrics table with deltas and the config diff',
  { skip: codeServer.skip, timeout: 150_000 },
  (t) =>
    withTestWorkbench(
      { install: codeServer.installed(), name: 'compare', workspace: workspaceWithRuns },
      async (wb) => {
        const page = wb.page;
        await dismissNotifications(page);
        await runCommand(page, 'Tunelab: Compare Runs');
        // The pick lists the evaluated runs with their verdicts: tick both, accept.
        for (const id of ['lora-run', 'full-run'])
          await page.locator('.quick-input-list .monaco-list-row', { hasText: id }).click();
        await page.locator('.quick-input-widget', { hasText: '2 Selected' }).waitFor();
        await page.keyboard.press('Enter');

        const frame = await webviewFrame(page, '#metrics', 'the Compare runs webview');
        const metrics = await frame.locator('#metrics').innerText();
        const lora = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'lora.eval.json'), 'utf8'));
        for (const name of Object.keys(lora.task.generation.metrics))
          assert.match(metrics, new RegExp(`generation: ${name}`));
        assert.match(metrics, /training: last train loss/);
        const header = await frame.locator('#metrics thead').innerText();
        assert.match(header, /lora-run[\s\S]*full-run/);
        const diff = await frame.locator('#config-diff').innerText();
        assert.match(diff, /method\s+lora\s+full/);
        const forgetting = await frame.locator('#forgetting').innerText();
        assert.match(forgetting, new RegExp(lora.forgetting.verdict));
        // The Runs view shows each run's verdict in its description.
        const runsHeader = page.locator('.pane-header', { hasText: 'Tunelab Runs' });
        await runsHeader.click();
        const row = page
          .locator('.pane', { has: runsHeader })
          .locator('.monaco-list-row', { hasText: 'lora-run' });
        await row.waitFor();
        const mark = { pass: '✓', warn: '⚠', fail: '✗' }[
          lora.forgetting.verdict as 'pass' | 'warn' | 'fail'
        ];
        const change = `${lora.forgetting.change >= 0 ? '+' : ''}${(100 * lora.forgetting.change).toFixed(1)}%`;
        assert.ok(
          (await row.innerText()).replace(/\s+/g, ' ').includes(`forgetting ${change} ${mark}`),
          `the lora run's row shows forgetting ${change} ${mark}`,
        );
        await sleep(500); // let the charts draw
        fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
        await page.screenshot({ path: SCREENSHOT });
        t.diagnostic(`screenshot: ${SCREENSHOT}`);
      },
    ),
);

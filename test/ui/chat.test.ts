// Chat with Run in a real VS Code (code-server + headless Chromium, Tunelab
// installed from its .vsix): a workspace with one recorded, completed local
// training run whose `launch.python` is a small script that runs
// test/fixtures/chat/fake_chat.py (it stands in for the GPU only: canned
// replies per adapter, runner/CHAT.md's lines). F1 → "Tunelab: Chat with
// Run", pick the run; a prompt is answered in both columns, differently; a
// long answer is stopped; an eval prompt is one click away. Takes
// images/chat-panel.png.
//
//   bash scripts/setup-codeserver.sh && npm run build
//   node --import tsx --test test/ui/chat.test.ts

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { writeChatWorkspace } from '../fixtures/chat/workspace.ts';
import { codeServerForTest } from '../support/codeServerSkip.ts';
import {
  dismissNotifications,
  repoRoot,
  runCommand,
  until,
  webviewFrame,
  withTestWorkbench,
} from './workbench.ts';

const codeServer = codeServerForTest();
const SCREENSHOT = path.join(repoRoot, 'images', 'chat-panel.png');

/** The project: the chat workspace in TMP/project. */
function chatProject(tmp: string): string {
  const project = path.join(tmp, 'project');
  fs.mkdirSync(project);
  writeChatWorkspace(project);
  return project;
}

test(
  'Chat with Run: base and tuned answer the same prompt, stop ends a long answer',
  { skip: codeServer.skip, timeout: 180_000 },
  (t) =>
    withTestWorkbench(
      { install: codeServer.installed(), name: 'chat', workspace: chatProject },
      async (wb, project) => {
        const page = wb.page;
        await dismissNotifications(page);
        await runCommand(page, 'Tunelab: Chat with Run');
        await page
          .locator('.quick-input-list .monaco-list-row', { hasText: 'support-run' })
          .click();

        const frame = await webviewFrame(page, '#columns', 'the Chat webview');
        await frame.locator('#status', { hasText: 'Ready' }).waitFor({ timeout: 30_000 });
        assert.match(await frame.locator('#title0').innerText(), /base: fake\/base-model/);
        assert.equal(await frame.locator('#title1').innerText(), 'support-run');
        // the eval set's prompts are listed, a click asks them
        assert.ok((await frame.locator('#prompts button').count()) > 0);

        await frame.locator('#prompt').fill('my router blinks red');
        await frame.locator('#send').click();
        const reply = (i: number) => frame.locator(`#column${i} .reply`).last();
        await until(
          'both columns answered',
          async () => (await frame.locator('.meta').count()) === 2,
          20_000,
          200,
        );
        const [base, tuned] = [await reply(0).innerText(), await reply(1).innerText()];
        assert.equal(base, 'Base model says: I am not sure about my router blinks red');
        assert.equal(
          tuned,
          'Tuned [tuned] answer: restart the router, then check my router blinks red',
        );

        // a long answer streams until Stop
        await frame.locator('#prompt').fill('long answer please');
        await frame.locator('#send').click();
        await until(
          'tokens streaming',
          async () => (await reply(0).innerText()).length > 20,
          10_000,
          100,
        );
        await frame.locator('#stop').click();
        await frame.locator('.meta', { hasText: '(stopped)' }).first().waitFor({ timeout: 10_000 });
        const stopped = (await reply(0).innerText()).split(' ').length;
        assert.ok(stopped < 400, `stopped after ${stopped} words`);
        await until('the view is idle', () => frame.locator('#send').isEnabled(), 10_000, 200);

        // the transcript is kept beside the runs
        const chats = path.join(project, '.tunelab', 'chats');
        const [transcript] = fs.readdirSync(chats);
        assert.match(transcript, /^support-run-\d{8}-\d{6}\.jsonl$/);
        const lines = fs.readFileSync(path.join(chats, transcript), 'utf8').trim().split('\n');
        assert.equal(lines.length, 5); // the session, two answers, two stopped answers

        await frame.locator('#prompts button').first().click();
        await until(
          'an eval prompt answered',
          async () => (await frame.locator('.meta').count()) === 6,
          20_000,
          200,
        );
        fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
        await page.screenshot({ path: SCREENSHOT });
        t.diagnostic(`screenshot: ${SCREENSHOT}`);
      },
    ),
);

// Runs the VS Code integration suite (test/vscode/suite, compiled to
// out/vscode-tests by scripts/build-vscode-tests.mjs) in a real VS Code:
// code-server + headless Chromium (test/vscode/codeserver.ts).
//
//   bash scripts/setup-codeserver.sh          # once per machine, ~2-3 min
//   npm run build && node scripts/build-vscode-tests.mjs
//   node --import tsx --test test/vscode/codeserver.test.ts
//
// Builds nothing itself. Skips (saying why) when the code-server install is
// absent, unless TUNELAB_REQUIRE_CODESERVER is set (CI), in which case a
// missing install fails. The fixture workspace is copied to a temp dir so the
// tests' edits never touch the repository.
//
// Environment: TUNELAB_VSCODE_VERBOSE=1 streams code-server and workbench logs;
// TUNELAB_VSCODE_GREP=<text> runs only matching tests; TUNELAB_KEEP_TMP=1 keeps
// the user-data dir (always kept on failure; its logs/ are printed in part);
// TUNELAB_CACHE moves the install; TUNELAB_NODE24, TUNELAB_CODESERVER_ENTRY and
// TUNELAB_CHROMIUM point at an install made some other way.
import * as assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { codeServerForTest } from '../support/codeServerSkip.ts';
import { runExtensionTestsInCodeServer } from './codeserver.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const fixtures = path.join(here, 'fixtures', 'workspace');
const suiteIndex = path.join(root, 'out', 'vscode-tests', 'index.js');

const codeServer = codeServerForTest();

test(
  'extension suite passes in code-server (real VS Code)',
  { skip: codeServer.skip, timeout: 300_000 },
  async () => {
    const install = codeServer.installed();
    for (const built of [
      path.join(root, 'dist', 'extension.js'),
      path.join(root, 'dist', 'server.js'),
    ]) {
      assert.ok(existsSync(built), `${built} is missing: run \`npm run build\` first`);
    }
    assert.ok(
      existsSync(suiteIndex),
      `${suiteIndex} is missing: run \`node scripts/build-vscode-tests.mjs\` first`,
    );

    const tmp = mkdtempSync(path.join(tmpdir(), 'tunelab-vscode-ws-'));
    const workspaceFolder = path.join(tmp, 'workspace');
    cpSync(fixtures, workspaceFolder, { recursive: true });
    try {
      const code = await runExtensionTestsInCodeServer({
        extensionDevelopmentPath: root,
        extensionTestsPath: suiteIndex,
        workspaceFolder,
        timeoutMs: 240_000,
        install,
      });
      assert.equal(code, 0, `the VS Code suite exited with ${code} (its output is above)`);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  },
);

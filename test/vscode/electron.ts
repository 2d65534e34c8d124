// The same mocha suite (out/vscode-tests) in desktop VS Code through
// @vscode/test-electron, for machines that can download VS Code (a developer
// machine, CI with internet). NOT run in this project's CI: there, VS Code
// cannot be downloaded (no internet), and test/vscode/codeserver.test.ts runs
// the suite in code-server instead.
//
//   npm run build && node scripts/build-vscode-tests.mjs
//   node --import tsx test/vscode/electron.ts            # latest stable VS Code
//   VSCODE_VERSION=1.91.0 node --import tsx test/vscode/electron.ts
//
// On Linux without a display, wrap it in `xvfb-run -a`.
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runTests, TestRunFailedError } from '@vscode/test-electron';

async function main(): Promise<number> {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const root = path.resolve(here, '..', '..');
  const tmp = mkdtempSync(path.join(tmpdir(), 'tunelab-vscode-electron-'));
  // Work on a copy of the fixtures: the tests edit files.
  const workspaceFolder = path.join(tmp, 'workspace');
  cpSync(path.join(here, 'fixtures', 'workspace'), workspaceFolder, { recursive: true });
  try {
    return await runTests({
      version: process.env.VSCODE_VERSION || 'stable',
      extensionDevelopmentPath: root,
      extensionTestsPath: path.join(root, 'out', 'vscode-tests', 'index.js'),
      launchArgs: [
        workspaceFolder,
        '--disable-extensions',
        '--disable-workspace-trust',
        '--skip-welcome',
        '--skip-release-notes',
        `--user-data-dir=${path.join(tmp, 'user-data')}`,
        `--extensions-dir=${path.join(tmp, 'extensions')}`,
      ],
    });
  } catch (err) {
    if (err instanceof TestRunFailedError) return err.code || 1; // tests failed
    console.error('VS Code tests failed to run:', err);
    return 1;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);

// Mocha entry of the VS Code integration suite. The extension host `require`s
// the compiled file (out/vscode-tests/index.js, CommonJS, built by
// scripts/build-vscode-tests.mjs) and awaits `run()`; it runs every
// `*.test.js` next to it. Both harnesses use it: test/vscode/codeserver.ts
// (code-server + headless Chromium) and test/vscode/electron.ts (desktop).
import * as fs from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';

export function run(): Promise<void> {
  const mocha = new Mocha({
    ui: 'bdd',
    reporter: 'spec',
    timeout: 60_000,
    color: false,
  });
  const dir = __dirname;
  const grep = process.env.TUNELAB_VSCODE_GREP;
  if (grep) mocha.grep(grep);
  const files = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.test.js'))
    .sort();
  for (const f of files) mocha.addFile(path.join(dir, f));

  const restore = markConsole(process.env.TUNELAB_VSCODE_LOG_MARK);
  return new Promise<void>((resolve, reject) => {
    if (files.length === 0) {
      reject(new Error(`no *.test.js files in ${dir}`));
      return;
    }
    try {
      mocha.run((failures) => {
        if (failures > 0) reject(new Error(`${failures} test(s) failed`));
        else resolve();
      });
    } catch (err) {
      reject(err instanceof Error ? err : new Error(String(err)));
    }
  }).finally(restore);
}

/**
 * Under code-server, the extension host's console reaches the harness through
 * the workbench's log, mixed with the workbench's own messages: prefix mocha's
 * reporter output with a mark so the harness can tell test output apart (tests
 * log through helpers.ts `log()`, which adds the same mark). The extension
 * host's console methods cannot be replaced (VS Code defines them with a no-op
 * setter), so this wraps mocha's Base.consoleLog. No-op when the mark is unset.
 */
function markConsole(mark: string | undefined): () => void {
  if (!mark) return () => {};
  const Base = Mocha.reporters.Base;
  const saved = Base.consoleLog;
  Base.consoleLog = (...args: unknown[]) => {
    if (typeof args[0] === 'string') console.log(mark + args[0], ...args.slice(1));
    else console.log(mark, ...args);
  };
  return () => {
    Base.consoleLog = saved;
  };
}

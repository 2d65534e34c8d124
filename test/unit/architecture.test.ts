// The allowed imports between the top-level folders (scripts/check-imports.ts,
// ARCHITECTURE.md) hold, and the check itself catches a planted violation.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { checkImports } from '../../scripts/check-imports';

const ROOT = path.resolve(__dirname, '..', '..');

test('every import between the folders is allowed', () => {
  const violations = checkImports(ROOT);
  assert.deepEqual(
    violations.map((v) => `${v.file}:${v.line}: ${v.why}`),
    [],
  );
});

test('the check catches planted forbidden imports', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tunelab-imports-'));
  try {
    const write = (file: string, text: string) => {
      fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
      fs.writeFileSync(path.join(root, file), text);
    };
    write('server/src/server.ts', 'export const x = 1;\n');
    write('launch/src/hub.ts', 'export const fetchIt = 1;\n');
    write('launch/src/ssh.ts', "import * as vscode from 'vscode';\n");
    write('engine/src/rule.ts', "import { x } from '../../server/src/server';\nfetch('x');\n");
    write('engine/src/ok.test.ts', "import { spawn } from 'node:child_process';\n");
    write('client/src/ext.ts', "import { x } from '../../server/src/server';\n");
    write('server/src/hub.ts', "import { fetchIt } from '../../launch/src/hub';\n");
    write('cli/src/main.ts', "import { x } from '../../server/src/server';\n");
    const found = checkImports(root)
      .map((v) => `${v.file}: ${v.why}`)
      .sort();
    assert.deepEqual(found, [
      'cli/src/main.ts: cli/ must not import server/',
      'client/src/ext.ts: client/ must not import server/',
      'engine/src/rule.ts: engine/ must not import server/',
      'engine/src/rule.ts: the engine makes no network calls',
      'launch/src/ssh.ts: launch/ must not use vscode',
    ]);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

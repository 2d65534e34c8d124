// Runs test suites with node's test runner (TypeScript through tsx) and ends
// with one summary line `N passed, N failed, N skipped` over everything run.
// Node 20 has no glob support in `--test`, so test files are collected here.
//
//   node scripts/run-tests.mjs [unit] [lsp] [runner] [vscode]   (default: all)

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.resolve(
  import.meta.dirname ?? path.dirname(new URL(import.meta.url).pathname),
  '..',
);
const SUITES = {
  unit: [
    'engine/src',
    'launch/src',
    'cli/src',
    'server/src',
    'protocol/src',
    'client/src',
    'test/unit',
  ],
  lsp: ['test/lsp'],
  cli: ['test/cli'],
  runner: ['test/runner'],
  vscode: ['test/vscode'],
  ui: ['test/ui'],
  launch: ['test/launch'],
};

function collect(dir) {
  const abs = path.join(root, dir);
  if (!fs.existsSync(abs)) return [];
  const out = [];
  for (const entry of fs.readdirSync(abs, { withFileTypes: true })) {
    const rel = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name === 'node_modules' || entry.name === 'suite' || entry.name === 'fixtures')
        continue;
      out.push(...collect(rel));
    } else if (entry.name.endsWith('.test.ts')) out.push(rel);
  }
  return out.sort();
}

const requested = process.argv.slice(2);
const names = requested.length ? requested : Object.keys(SUITES);
const files = names.flatMap((name) => {
  if (!SUITES[name]) {
    console.error(`unknown suite ${name}; known: ${Object.keys(SUITES).join(', ')}`);
    process.exit(2);
  }
  return SUITES[name].flatMap(collect);
});
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}

const tap = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tunelab-tests-')), 'results.tap');
const result = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    '--test-concurrency=2',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    `--test-reporter-destination=${tap}`,
    ...files,
  ],
  { cwd: root, stdio: 'inherit' },
);

const report = fs.existsSync(tap) ? fs.readFileSync(tap, 'utf8') : '';
const count = (key) => Number(new RegExp(`^# ${key} (\\d+)$`, 'm').exec(report)?.[1] ?? 0);
const passed = count('pass');
const failed = count('fail') + count('cancelled');
const skipped = count('skipped') + count('todo');
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(result.status === 0 && failed === 0 && passed > 0 ? 0 : 1);

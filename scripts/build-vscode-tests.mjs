// Compiles the VS Code integration suite (test/vscode/suite) for the extension
// host: each `index.ts` / `*.test.ts` becomes out/vscode-tests/<name>.js, a
// CommonJS bundle; `vscode` comes from the host and `mocha` is required from
// node_modules at run time (out/ sits inside the repository).
import * as esbuild from 'esbuild';
import { readdirSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const suiteDir = path.join(root, 'test', 'vscode', 'suite');
const outdir = path.join(root, 'out', 'vscode-tests');

const entryPoints = readdirSync(suiteDir)
  .filter((f) => f === 'index.ts' || f.endsWith('.test.ts'))
  .map((f) => path.join(suiteDir, f));

rmSync(outdir, { recursive: true, force: true });
await esbuild.build({
  entryPoints,
  outdir,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: 'inline',
  external: ['vscode', 'mocha'],
  logLevel: 'warning',
});
console.log(`build-vscode-tests: ${entryPoints.length} file(s) -> ${path.relative(root, outdir)}`);

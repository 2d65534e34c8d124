// One esbuild script for every bundle (as microsoft/vscode-eslint does):
// the extension (client), the language server and the CLI.
import * as esbuild from 'esbuild';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

/** @type {esbuild.BuildOptions} */
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: production ? false : 'linked',
  minify: production,
  logLevel: 'warning',
  // JSON schemas are imported directly so the bundle is self-contained.
  loader: { '.json': 'json' },
};

const bundles = [
  {
    entryPoints: { extension: 'client/src/extension.ts' },
    external: ['vscode'],
    // Activation time is measured from the first line of the bundle (module load included).
    banner: { js: 'globalThis.__tunelabLoadStart = performance.now();' },
  },
  { entryPoints: { server: 'server/src/server.ts' } },
  // Loaded by the "New fine-tuning config" command on first use, not at activation.
  { entryPoints: { newConfigCommand: 'client/src/newConfig/command.ts' }, external: ['vscode'] },
  { entryPoints: { cli: 'cli/src/main.ts' }, banner: { js: '#!/usr/bin/env node' } },
];

const contexts = await Promise.all(
  bundles.map((b) => esbuild.context({ ...common, ...b, outdir: 'dist' })),
);
if (watch) {
  await Promise.all(contexts.map((c) => c.watch()));
  console.log('esbuild: watching');
} else {
  await Promise.all(contexts.map((c) => c.rebuild()));
  await Promise.all(contexts.map((c) => c.dispose()));
}

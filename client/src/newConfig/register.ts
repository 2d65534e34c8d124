// The handler of "Tunelab: New fine-tuning config". The command's module
// (with the analysis engine that createConfig needs) loads on first use, so it
// adds nothing to activation.

import * as path from 'node:path';
import type * as vscode from 'vscode';

export function newConfigHandler(
  context: vscode.ExtensionContext,
): (argument?: unknown) => Promise<unknown> {
  return async (argument?: unknown) => {
    // A bundle of its own (scripts/build.mjs): the engine it carries is not
    // even parsed until the command is used.
    const bundle = path.join(context.extensionPath, 'dist', 'newConfigCommand.js');
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a runtime path esbuild must not bundle
    const { newConfigCommand } = require(bundle) as typeof import('./command');
    return newConfigCommand(context.extensionPath, argument);
  };
}

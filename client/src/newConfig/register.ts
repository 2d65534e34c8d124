// Registers "Tunelab: New fine-tuning config". The command's module (with the
// analysis engine that createConfig needs) loads on first use, so it adds
// nothing to activation.

import * as vscode from 'vscode';

export const NEW_CONFIG_COMMAND = 'tunelab.newConfig';

export function registerNewConfigCommand(context: vscode.ExtensionContext): void {
  context.subscriptions.push(
    vscode.commands.registerCommand(NEW_CONFIG_COMMAND, async (argument?: unknown) => {
      const { newConfigCommand } = await import('./command');
      return newConfigCommand(context.extensionPath, argument);
    }),
  );
}

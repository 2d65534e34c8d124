// The command table: every contributed command id mapped to its handler in
// one place (as rust-analyzer's createCommands() does). Commands that need the
// language server are disabled while it is down: package.json enables them on
// the `tunelab.serverRunning` context key, which follows the client's state.

import * as vscode from 'vscode';
import { State, type LanguageClient } from 'vscode-languageclient/node';
import { COMMANDS, SERVER_RUNNING_CONTEXT, type CommandId } from './commandIds';
import type { Logger } from './logger';

export type CommandHandler = (...args: unknown[]) => unknown;
/** The handlers extension.ts passes in: every id exactly one, the type catches a missing one. */
export type CommandHandlers = Record<CommandId, CommandHandler>;

/** Registers every handler; a handler that throws is logged with its stack and shown briefly. */
export function registerCommands(
  context: vscode.ExtensionContext,
  handlers: CommandHandlers,
  logger: Logger,
): void {
  for (const [id, handler] of Object.entries(handlers) as [CommandId, CommandHandler][]) {
    context.subscriptions.push(
      vscode.commands.registerCommand(id, async (...args: unknown[]) => {
        try {
          return await handler(...args);
        } catch (err) {
          logger.error(`command ${id} failed`, err);
          void vscode.window.showErrorMessage(
            `Tunelab: ${err instanceof Error ? err.message : String(err)}`,
          );
          return undefined;
        }
      }),
    );
  }
}

/** Keeps the `tunelab.serverRunning` context key equal to the client's state. */
export function trackServerState(context: vscode.ExtensionContext, client: LanguageClient): void {
  const set = (running: boolean) =>
    void vscode.commands.executeCommand('setContext', SERVER_RUNNING_CONTEXT, running);
  set(false);
  context.subscriptions.push(
    client.onDidChangeState((event) => set(event.newState === State.Running)),
  );
}

export { COMMANDS };

// The Tunelab extension: starts the language server and registers the
// command table. Kept small so activation stays fast; features live in their
// own modules.

import * as path from 'node:path';
import type * as vscode from 'vscode';
import {
  LanguageClient,
  TransportKind,
  type LanguageClientOptions,
  type ServerOptions,
} from 'vscode-languageclient/node';
import { SERVER_EXEC_ARGV } from '../../protocol/src/serverArgs';
import { chatWithRunHandler } from './chatView';
import { COMMANDS, registerCommands, trackServerState, type CommandHandlers } from './commands';
import { estimatePanelHtml, showEstimate } from './estimateView';
import { registerLaunchFeatures } from './launch';
import { createLogger, lazyLogOutputChannel } from './logger';
import { newConfigHandler } from './newConfig/register';
import { openWalkthroughOnFirstRun } from './welcome';

let client: LanguageClient | undefined;

// How long evaluating this bundle took (imports included), from its first line.
const bundleLoadMs =
  performance.now() -
  ((globalThis as { __tunelabLoadStart?: number }).__tunelabLoadStart ?? performance.now());

/** What the extension exports to other extensions and to its tests. */
export interface TunelabApi {
  /** Milliseconds spent by this extension: evaluating its bundle plus running activate(). */
  activationMs: number;
  /** The HTML of the estimate panel when one is open (for the VS Code test suite). */
  estimatePanelHtml(): string | undefined;
}

export async function activate(context: vscode.ExtensionContext): Promise<TunelabApi> {
  const activateStart = performance.now();
  const serverModule = context.asAbsolutePath(path.join('dist', 'server.js'));
  const serverOptions: ServerOptions = {
    run: {
      module: serverModule,
      transport: TransportKind.ipc,
      options: { execArgv: [...SERVER_EXEC_ARGV] },
    },
    debug: {
      module: serverModule,
      transport: TransportKind.ipc,
      options: { execArgv: [...SERVER_EXEC_ARGV, '--nolazy', '--inspect=6009'] },
    },
  };
  const logger = createLogger('Tunelab');
  const traceChannel = lazyLogOutputChannel('Tunelab Language Server Trace');
  const clientOptions: LanguageClientOptions = {
    // All YAML: the server decides which files are configs and stays silent on the rest.
    documentSelector: [
      { scheme: 'file', language: 'yaml' },
      { scheme: 'untitled', language: 'yaml' },
      { scheme: 'vscode-remote', language: 'yaml' },
    ],
    synchronize: { configurationSection: 'tunelab' },
    outputChannel: logger.channel,
    traceOutputChannel: traceChannel,
  };
  const languageClient = new LanguageClient('tunelab', 'Tunelab', serverOptions, clientOptions);
  client = languageClient;
  context.subscriptions.push(logger.channel, traceChannel);
  trackServerState(context, languageClient);

  const handlers: CommandHandlers = {
    [COMMANDS.restartServer]: () => languageClient.restart(),
    [COMMANDS.showOutput]: () => logger.channel.show(true),
    [COMMANDS.showEstimate]: (uri?: unknown) => showEstimate(client, uri),
    [COMMANDS.newConfig]: newConfigHandler(context),
    [COMMANDS.chatWithRun]: chatWithRunHandler(context),
    ...registerLaunchFeatures(context),
  };
  registerCommands(context, handlers, logger);
  openWalkthroughOnFirstRun(context, logger);
  // Not awaited: activation returns at once and the server starts in the background.
  languageClient
    .start()
    .catch((err: unknown) => logger.error('language server failed to start', err));
  // VS Code may wait between loading the bundle and calling activate(): that wait is not ours.
  const activationMs = bundleLoadMs + (performance.now() - activateStart);
  logger.info(
    `Tunelab activated in ${activationMs.toFixed(1)} ms (bundle ${bundleLoadMs.toFixed(1)} ms)`,
  );
  return { activationMs, estimatePanelHtml };
}

export async function deactivate(): Promise<void> {
  await client?.stop();
  client = undefined;
}

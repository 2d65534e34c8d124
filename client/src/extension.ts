// The Tunelab extension: starts the language server and contributes commands.
// Kept small so activation stays fast; features live in their own modules.

import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  LanguageClient,
  TransportKind,
  type LanguageClientOptions,
  type ServerOptions,
} from 'vscode-languageclient/node';
import { SERVER_EXEC_ARGV } from '../../protocol/src/serverArgs';
import { registerLaunchFeatures } from './launch';
import { registerNewConfigCommand } from './newConfig/register';

let client: LanguageClient | undefined;

// How long evaluating this bundle took (imports included), from its first line.
const bundleLoadMs =
  performance.now() -
  ((globalThis as { __tunelabLoadStart?: number }).__tunelabLoadStart ?? performance.now());

/** What the extension exports to other extensions and to its tests. */
export interface TunelabApi {
  /** Milliseconds spent by this extension: evaluating its bundle plus running activate(). */
  activationMs: number;
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
  const outputChannel = vscode.window.createOutputChannel('Tunelab', { log: true });
  const clientOptions: LanguageClientOptions = {
    // All YAML: the server decides which files are configs and stays silent on the rest.
    documentSelector: [
      { scheme: 'file', language: 'yaml' },
      { scheme: 'untitled', language: 'yaml' },
      { scheme: 'vscode-remote', language: 'yaml' },
    ],
    synchronize: { configurationSection: 'tunelab' },
    outputChannel,
  };
  client = new LanguageClient('tunelab', 'Tunelab', serverOptions, clientOptions);

  context.subscriptions.push(
    outputChannel,
    vscode.commands.registerCommand('tunelab.restartServer', async () => {
      await client?.restart();
    }),
    vscode.commands.registerCommand('tunelab.showOutput', () => outputChannel.show(true)),
    vscode.commands.registerCommand('tunelab.showEstimate', (uri?: string) => showEstimate(uri)),
  );
  registerNewConfigCommand(context);
  registerLaunchFeatures(context);
  // Not awaited: activation returns at once and the server starts in the background.
  void client.start();
  // VS Code may wait between loading the bundle and calling activate(): that wait is not ours.
  const activationMs = bundleLoadMs + (performance.now() - activateStart);
  outputChannel.info(
    `Tunelab activated in ${activationMs.toFixed(1)} ms (bundle ${bundleLoadMs.toFixed(1)} ms)`,
  );
  return { activationMs };
}

/** Opens the full memory/time breakdown of a config as a Markdown preview. */
async function showEstimate(uri: string | undefined): Promise<void> {
  const target = uri ?? vscode.window.activeTextEditor?.document.uri.toString();
  if (!client || !target) return;
  const markdown = await client.sendRequest<string | null>('tunelab/estimate', { uri: target });
  if (!markdown) {
    void vscode.window.showInformationMessage(
      'Tunelab: no estimate for this file (not a config, or the model architecture is unknown).',
    );
    return;
  }
  const document = await vscode.workspace.openTextDocument({
    language: 'markdown',
    content: markdown,
  });
  await vscode.commands.executeCommand('markdown.showPreview', document.uri);
}

export async function deactivate(): Promise<void> {
  await client?.stop();
  client = undefined;
}

// The first time Tunelab runs for a user, its walkthrough opens beside the
// config, as VS Code does for an extension installed from the Marketplace;
// VS Code's own setting for that (`workbench.welcomePage.walkthroughs.openOnInstall`)
// turns it off. An extension installed from a .vsix on the command line (the
// demo of scripts/start.sh, a team's setup script) gets no such welcome otherwise.

import * as vscode from 'vscode';
import type { Logger } from './logger';

const WALKTHROUGH = 'tunelab.tunelab#tunelab.gettingStarted';
const SHOWN_KEY = 'tunelab.walkthroughShown';

export function openWalkthroughOnFirstRun(context: vscode.ExtensionContext, logger: Logger): void {
  if (context.globalState.get<boolean>(SHOWN_KEY)) return;
  const wanted = vscode.workspace
    .getConfiguration('workbench.welcomePage')
    .get<boolean>('walkthroughs.openOnInstall', true);
  if (!wanted) return;
  void context.globalState.update(SHOWN_KEY, true);
  // Beside the config that activated us, without taking the focus from it.
  vscode.commands.executeCommand('workbench.action.openWalkthrough', WALKTHROUGH, true).then(
    () => logger.info('opened the Getting Started walkthrough (first run)'),
    (err: unknown) => logger.error('could not open the walkthrough', err),
  );
}

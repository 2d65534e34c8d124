// The first time Tunelab runs for a user, its walkthrough opens beside the
// config, as VS Code does for an extension installed from the Marketplace
// (`tunelab.walkthrough.openOnFirstRun` turns it off). An extension installed
// from a .vsix on the command line (the demo of scripts/start.sh, a team's
// setup script) gets no such welcome otherwise. VS Code's own
// `workbench.welcomePage.walkthroughs.openOnInstall` is not read: a remote
// extension host (code-server) does not see its user value.

import * as vscode from 'vscode';
import type { Logger } from './logger';
import { clientSetting } from './settings';

const WALKTHROUGH = 'tunelab.tunelab#tunelab.gettingStarted';
const SHOWN_KEY = 'tunelab.walkthroughShown';

export function openWalkthroughOnFirstRun(context: vscode.ExtensionContext, logger: Logger): void {
  if (context.globalState.get<boolean>(SHOWN_KEY)) return;
  if (!clientSetting('walkthrough.openOnFirstRun')) return;
  void context.globalState.update(SHOWN_KEY, true);
  // Beside the config that activated us, without taking the focus from it.
  vscode.commands.executeCommand('workbench.action.openWalkthrough', WALKTHROUGH, true).then(
    () => logger.info('opened the Getting Started walkthrough (first run)'),
    (err: unknown) => logger.error('could not open the walkthrough', err),
  );
}

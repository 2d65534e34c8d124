// Every command the extension contributes, by name. Kept free of `vscode` so
// that a unit test can hold it against package.json's contributes.commands;
// commands.ts maps each id to its handler (one table, as rust-analyzer's
// createCommands() does), and the type makes a missing handler a compile error.

export const COMMANDS = {
  restartServer: 'tunelab.restartServer',
  showOutput: 'tunelab.showOutput',
  showEstimate: 'tunelab.showEstimate',
  newConfig: 'tunelab.newConfig',
  launch: 'tunelab.launch',
  probePace: 'tunelab.probePace',
  attachRun: 'tunelab.attachRun',
  stopRun: 'tunelab.stopRun',
  showRunChart: 'tunelab.showRunChart',
  doctor: 'tunelab.doctor',
  storeSecret: 'tunelab.storeSecret',
  refreshRuns: 'tunelab.refreshRuns',
  exportRunChart: 'tunelab.exportRunChart',
  compareRuns: 'tunelab.compareRuns',
  chatWithRun: 'tunelab.chatWithRun',
  deleteArtefact: 'tunelab.deleteArtefact',
  keepBestCheckpoint: 'tunelab.keepBestCheckpoint',
  openArtefactFolder: 'tunelab.openArtefactFolder',
  copyServeRecipe: 'tunelab.copyServeRecipe',
} as const;

export type CommandId = (typeof COMMANDS)[keyof typeof COMMANDS];

/** Commands that ask the language server: disabled (package.json enablement) while it is down. */
export const SERVER_COMMANDS: readonly CommandId[] = [COMMANDS.showEstimate];

/** The context key that says the language server is running. */
export const SERVER_RUNNING_CONTEXT = 'tunelab.serverRunning';

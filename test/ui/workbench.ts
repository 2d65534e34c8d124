// Drives a real VS Code (code-server + headless Chromium) with Tunelab installed
// from its .vsix, like a user would: the shared part of scripts/screenshots.ts
// and the UI tests, all imported from here.
//
//   packageVsix()      npx vsce package --no-dependencies (like scripts/start.sh)
//   makeWorkspace()    templates/telecom-support + mistakes.finetune.yaml in a temp dir
//   startWorkbench()   fresh user-data/extensions dirs, --install-extension, code-server
//                      on 127.0.0.1, Chromium (playwright-core) on the workbench
//                      (workbenchStart.ts)
//   until()            the bounded polling wait (until.ts)
//   navigation.ts      notifications, Quick Open, go to line
//   editorView.ts      the editor's rendered text, where a token is drawn
//   diagnosticsView.ts squiggles, Problems panel, quick fix
//
// Every wait is bounded. Workbench.close() kills Chromium's and code-server's
// process groups; they are also killed when this process exits or gets SIGINT /
// SIGTERM, so an interrupted run leaves nothing behind.

export { CHROMIUM_ARGS, launchChromium, sleep, tempDir } from '../support/codeServerProcess.ts';
export {
  DEMO_MISTAKES,
  QUIET_SETTINGS,
  makeWorkspace,
  packageVsix,
  repoRoot,
  startWorkbench,
  type Workbench,
  type WorkbenchOptions,
} from './workbenchStart.ts';
export { until } from './until.ts';
export { dismissNotifications, goTo, lineOf, quickOpen } from './navigation.ts';
export { editorText, tokenCenter } from './editorView.ts';
export {
  applyQuickFix,
  openProblems,
  openQuickFix,
  problemRows,
  squigglesOn,
  waitForSquiggles,
} from './diagnosticsView.ts';

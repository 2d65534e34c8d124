// The settings the extension itself reads, through the one declaration in
// protocol/src/settings.ts, per resource scope (multi-root workspaces: each
// folder may set its own). The language server reads its settings itself.

import * as vscode from 'vscode';
import { SETTINGS } from '../../protocol/src/settings';

type ClientSettingKey = 'launch.sshConfigFile' | 'walkthrough.openOnFirstRun';

const CLIENT_DEFAULTS = Object.fromEntries(
  SETTINGS.filter((s) => s.readBy === 'client').map((s) => [s.key, s.default]),
) as Record<ClientSettingKey, unknown>;

/** A client-side setting for `scope` (a file or folder), falling back to its declared default. */
export function clientSetting(key: 'launch.sshConfigFile', scope?: vscode.Uri): string;
export function clientSetting(key: 'walkthrough.openOnFirstRun', scope?: vscode.Uri): boolean;
export function clientSetting(key: ClientSettingKey, scope?: vscode.Uri): unknown {
  const value = vscode.workspace.getConfiguration('tunelab', scope).get(key);
  const fallback = CLIENT_DEFAULTS[key];
  return typeof value === typeof fallback ? value : fallback;
}

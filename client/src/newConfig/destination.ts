// Where a new config goes by default: the chosen folder itself while it holds
// none of the template's files, else a new subfolder named after the template.
// createConfig refuses to overwrite a config and leaves existing data files
// alone, so writing next to another template's data would silently mix them.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** Whether `dir` already has an entry the template would write (a config, data/, DATA_CARD.md). */
export function holdsTemplateFiles(dir: string, templateDir: string): boolean {
  if (!fs.existsSync(dir)) return false;
  return fs.readdirSync(templateDir).some((entry) => fs.existsSync(path.join(dir, entry)));
}

/** `base`, or `base/<template>` (`-2`, `-3`... when taken) when `base` has the template's files. */
export function defaultDestination(base: string, templateDir: string): string {
  if (!holdsTemplateFiles(base, templateDir)) return base;
  return freeSubfolder(base, path.basename(templateDir));
}

/** Without a workspace there is no project folder to fill: always a new folder in the home directory. */
export function destinationWithoutWorkspace(templateDir: string): string {
  return freeSubfolder(os.homedir(), path.basename(templateDir));
}

function freeSubfolder(base: string, name: string): string {
  for (let n = 1; ; n++) {
    const candidate = path.join(base, n === 1 ? name : `${name}-${n}`);
    if (!fs.existsSync(candidate)) return candidate;
  }
}

/** How the folder is shown in the text box: relative to the workspace, `.` for its root. */
export function displayFolder(folder: string, root: string | undefined): string {
  if (!root) return folder;
  const relative = path.relative(root, folder);
  if (relative === '') return '.';
  return relative.startsWith('..') || path.isAbsolute(relative) ? folder : relative;
}

/** The folder the user typed, absolute (relative text is taken from the workspace root). */
export function resolveFolder(text: string, root: string | undefined): string {
  const trimmed = text.trim();
  if (trimmed === '~' || trimmed.startsWith('~/')) return path.join(os.homedir(), trimmed.slice(1));
  return path.resolve(root ?? os.homedir(), trimmed);
}

/** Why the folder cannot take the config, or undefined when it can. */
export function folderProblem(folder: string, configName: string | undefined): string | undefined {
  if (fs.existsSync(folder) && !fs.statSync(folder).isDirectory())
    return `${folder} is a file, not a folder`;
  if (configName && fs.existsSync(path.join(folder, configName)))
    return `${configName} exists already in this folder`;
  return undefined;
}

// How each server is started and configured: ours from dist/, yaml-language-server
// as shipped, and a copy of it with its fixed validation wait patched to 0.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { SERVER_EXEC_ARGV } from '../../protocol/src/serverArgs';
import {
  OUR_DEFAULT_DELAY_MS,
  OUR_SERVER,
  REPO,
  SCHEMA,
  YLS_BIN,
  YLS_DIR,
  type Options,
  type Variant,
} from './options';
import type { ServerSpec } from './session';

export interface Servers {
  ours: (variant: Variant) => ServerSpec;
  yls: (variant: Variant) => ServerSpec;
  ylsProcessing: 'patched' | 'minus-wait';
}

function ylsSettings(): Record<string, unknown> {
  return {
    schemas: { [pathToFileURL(SCHEMA).href]: '*.finetune.yaml' },
    validate: true,
    hover: true,
    completion: true,
    format: { enable: false },
    // No network: the catalog downloads would otherwise be tried at start.
    schemaStore: { enable: false },
    kubernetesCRDStore: { enable: false },
  };
}

/**
 * Copies yaml-language-server into `dir` with its fixed 200 ms wait set to 0.
 * Its dependencies hoisted in the repo's node_modules resolve through a
 * `node_modules` link next to the copy. Returns the copy's root, or undefined.
 */
function patchedYls(dir: string): string | undefined {
  const root = path.join(dir, 'yls-nodelay');
  const settingsFile = path.join(root, 'out', 'server', 'src', 'yamlSettings.js');
  try {
    fs.mkdirSync(root, { recursive: true });
    for (const entry of ['package.json', 'bin', 'out', 'l10n', 'node_modules']) {
      const from = path.join(YLS_DIR, entry);
      if (fs.existsSync(from)) fs.cpSync(from, path.join(root, entry), { recursive: true });
    }
    fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
    const source = fs.readFileSync(settingsFile, 'utf8');
    const pattern = /this\.validationDelayMs = \d+;/g;
    const hits = source.match(pattern)?.length ?? 0;
    if (hits !== 1) throw new Error(`found validationDelayMs ${hits}× in yamlSettings.js`);
    fs.writeFileSync(settingsFile, source.replace(pattern, 'this.validationDelayMs = 0;'));
    return root;
  } catch (err) {
    console.error(`could not patch yaml-language-server (${String(err)}); using e2e − 200 ms`);
    return undefined;
  }
}

export function makeServers(dir: string, options: Options): Servers {
  const ylsAnswer = (section: string | undefined): unknown => {
    if (section === 'yaml') return ylsSettings();
    if (section === '[yaml]') return {};
    if (section === 'editor') return {};
    if (section === 'http') return {};
    return null;
  };
  const patched = options.only === 'ours' ? undefined : patchedYls(dir);
  return {
    ylsProcessing: patched ? 'patched' : 'minus-wait',
    ours: (variant) => {
      const settings = {
        validate: { enable: true, delayMs: variant === 'e2e' ? OUR_DEFAULT_DELAY_MS : 0 },
      };
      const profile = options.cpuProf
        ? ['--cpu-prof', `--cpu-prof-dir=${path.join(dir, 'profiles')}`]
        : [];
      return {
        server: 'ours',
        variant,
        command: [...SERVER_EXEC_ARGV, ...profile, OUR_SERVER, '--stdio'],
        cwd: dir,
        section: 'tunelab',
        pullsBeforeOpen: 0,
        answer: (section) => (section === 'tunelab' ? settings : null),
        didChangeSettings: { tunelab: settings },
      };
    },
    yls: (variant) => ({
      server: 'yls',
      variant,
      command: [path.join(variant === 'proc' && patched ? patched : YLS_DIR, YLS_BIN), '--stdio'],
      cwd: dir,
      section: 'yaml',
      pullsBeforeOpen: 2,
      answer: ylsAnswer,
      didChangeSettings: { yaml: ylsSettings() },
    }),
  };
}

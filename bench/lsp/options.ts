// Paths, fixed figures and command-line options of the LSP benchmark
// (bench/lsp.ts documents the options).

import * as path from 'node:path';

export const REPO = path.resolve(__dirname, '..', '..');
export const OUR_SERVER = path.join(REPO, 'dist', 'server.js');
export const YLS_DIR = path.join(REPO, 'node_modules', 'yaml-language-server');
export const YLS_BIN = path.join('bin', 'yaml-language-server');
export const SCHEMA = path.join(REPO, 'schemas', 'finetune.schema.json');
export const FIXTURE = path.join(REPO, 'test', 'fixtures', 'spec-example.finetune.yaml');
export const YLS_WAIT_MS = 200;
export const OUR_DEFAULT_DELAY_MS = 50;
// Entries of the large inputs: under the engine's token cap (20,000 YAML tokens,
// engine/src/parseCst.ts), which refuses a 5,000-line config with one finding.
export const BIG = 2000;

export const REQUEST_TIMEOUT_MS = 30_000;
export const PUBLISH_TIMEOUT_MS = 30_000;
export const SETTINGS_TIMEOUT_MS = 10_000;
/** The whole run is abandoned (children killed, partial table printed) after this. */
export const WATCHDOG_MS = 20 * 60_000;

export interface Options {
  edits: number;
  budgetMs: number;
  samples: number;
  only: 'ours' | 'yls' | undefined;
  inputs: InputName[];
  keep: boolean;
  cpuProf: boolean;
  nice: number | undefined;
}

export type InputName = 'typical' | 'list' | 'map';
export type ServerName = 'ours' | 'yls';
export type Variant = 'e2e' | 'proc';

export const INPUT_TITLES: Record<InputName, string> = {
  typical: 'typical config',
  list: `${BIG.toLocaleString('en')}-line list`,
  map: `${BIG.toLocaleString('en')}-entry map`,
};

export function parseOptions(argv: string[]): Options {
  const options: Options = {
    edits: 200,
    budgetMs: 20_000,
    samples: 30,
    only: undefined,
    inputs: ['typical', 'list', 'map'],
    keep: false,
    cpuProf: false,
    nice: undefined,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const next = (): string => {
      const value = argv[++i];
      if (value === undefined) throw new Error(`${arg} needs a value`);
      return value;
    };
    if (arg === '--edits') options.edits = Math.max(1, Number(next()) | 0);
    else if (arg === '--budget-s') options.budgetMs = Math.max(1, Number(next())) * 1000;
    else if (arg === '--samples') options.samples = Math.max(1, Number(next()) | 0);
    else if (arg === '--only') {
      const value = next();
      if (value !== 'ours' && value !== 'yls') throw new Error('--only ours|yls');
      options.only = value;
    } else if (arg === '--inputs') {
      options.inputs = next()
        .split(',')
        .map((s) => s.trim())
        .filter((s): s is InputName => s === 'typical' || s === 'list' || s === 'map');
    } else if (arg === '--keep') options.keep = true;
    else if (arg === '--cpu-prof') options.cpuProf = true;
    else if (arg === '--nice') options.nice = Number(next()) | 0;
    else throw new Error(`unknown option ${arg}`);
  }
  return options;
}

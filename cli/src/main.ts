// `tunelab`: the command line face of the analysis engine (see spec/cli.md).

import { parseArgs } from 'node:util';
import type { Dialect } from '../../engine/src/types';
import { ruleCatalog } from '../../engine/src/rules/catalog';
import { isLaunchSubcommand, LAUNCH_USAGE, runLaunchSubcommand } from './launchCommands';
import { convertFile } from './convert';
import { estimateFile } from './estimate';
import { withHubModel } from './hub';
import { newCommand, templatesCommand } from './newCommand';
import { formatJson, formatText, lintFile, type LintFileResult } from './lint';
import {
  findSettingsFile,
  loadRuleLevels,
  parseRuleFlag,
  SettingsError,
  type RuleLevels,
} from './settings';

const USAGE = `usage: tunelab <command> [options]

commands:
  lint [--format text|json] [--gpu ID] [--num-gpus N] [--rule CODE=LEVEL]... [--config FILE] [--dialect D] [--offline] FILE...
        check fine-tuning configs; exit 0 clean, 1 errors found, 2 usage error or unreadable file
  estimate [--format text|json] [--gpu ID] [--num-gpus N] [--offline] FILE
        peak GPU memory per GPU of the run, with its parts, and the training time
  rules [--format text|json]
        list every diagnostic code with its severity and documentation
${LAUNCH_USAGE}  convert FILE [--to native|axolotl|trl] [--out FILE] [--force]
        rewrite an Axolotl, LLaMA-Factory or TRL config as a native one (or back) when nothing is lost
  templates [--format text|json]
        list the config templates
  new TEMPLATE DEST [--model ID] [--gpu ID] [--num-gpus N] [--method full|lora|qlora]
        write a config and its sample data into DEST; without --method the estimate picks it
  help  show this text

A model that is neither in the built-in catalog nor a local directory is looked up on the
Hugging Face Hub (HF_ENDPOINT, HF_TOKEN honoured; cached in $TUNELAB_CACHE/hub) unless --offline.
`;

class UsageError extends Error {}

function ruleLevels(flags: string[] | undefined, configFile: string | undefined): RuleLevels {
  const file = configFile ?? findSettingsFile(process.cwd());
  const levels: RuleLevels = file ? loadRuleLevels(file) : {};
  for (const flag of flags ?? []) {
    const [code, level] = parseRuleFlag(flag);
    levels[code] = level;
  }
  return levels;
}

function parseGpuFlags(values: { gpu?: string; 'num-gpus'?: string }): {
  gpu?: string;
  numGpus?: number;
} {
  const numGpus = values['num-gpus'];
  if (numGpus !== undefined && !/^[1-9]\d*$/.test(numGpus)) {
    throw new UsageError(`--num-gpus must be a positive integer, got ${numGpus}`);
  }
  return { gpu: values.gpu, numGpus: numGpus === undefined ? undefined : Number(numGpus) };
}

const DIALECTS: readonly Dialect[] = ['native', 'axolotl', 'llamafactory', 'trl'];

function dialectOption(value: string | undefined): Dialect | undefined {
  if (value === undefined || value === 'auto') return undefined;
  if (!(DIALECTS as readonly string[]).includes(value)) {
    throw new UsageError(`--dialect must be auto, ${DIALECTS.join(', ')}; got ${value}`);
  }
  return value as Dialect;
}

function convertCommand(argv: string[]): number {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      to: { type: 'string' },
      out: { type: 'string' },
      force: { type: 'boolean', default: false },
      dialect: { type: 'string' },
    },
  });
  if (positionals.length !== 1) throw new UsageError('convert needs exactly one FILE');
  const outcome = convertFile(positionals[0], {
    to: dialectOption(values.to),
    out: values.out,
    force: values.force,
    dialect: dialectOption(values.dialect),
  });
  process.stdout.write(outcome.stdout);
  process.stderr.write(outcome.stderr);
  return outcome.exitCode;
}

function formatOption(format: string | undefined): 'text' | 'json' {
  if (format !== 'text' && format !== 'json')
    throw new UsageError(`--format must be text or json, got ${format}`);
  return format;
}

async function lintCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      format: { type: 'string', default: 'text' },
      gpu: { type: 'string' },
      'num-gpus': { type: 'string' },
      rule: { type: 'string', multiple: true },
      config: { type: 'string' },
      offline: { type: 'boolean', default: false },
      dialect: { type: 'string' },
    },
  });
  const format = formatOption(values.format);
  const hardware = parseGpuFlags(values);
  if (positionals.length === 0) throw new UsageError('lint needs at least one FILE');
  const options = {
    ...hardware,
    dialect: dialectOption(values.dialect),
    ruleSeverity: ruleLevels(values.rule, values.config),
  };

  const results: LintFileResult[] = [];
  let unreadable = false;
  for (const file of positionals) {
    const result = lintFile(file, await withHubModel(file, options, values.offline ?? false));
    if ('error' in result) {
      process.stderr.write(`tunelab: ${result.error}\n`);
      unreadable = true;
      continue;
    }
    results.push(result);
  }
  process.stdout.write((format === 'json' ? formatJson(results) : formatText(results)) + '\n');
  if (unreadable) return 2;
  return results.some((r) => r.diagnostics.some((d) => d.severity === 'error')) ? 1 : 0;
}

async function estimateCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      format: { type: 'string', default: 'text' },
      gpu: { type: 'string' },
      'num-gpus': { type: 'string' },
      offline: { type: 'boolean', default: false },
    },
  });
  const format = formatOption(values.format);
  if (positionals.length !== 1) throw new UsageError('estimate needs exactly one FILE');
  const file = positionals[0];
  const outcome = estimateFile(
    file,
    await withHubModel(file, parseGpuFlags(values), values.offline ?? false),
  );
  if (!outcome.ok) {
    process.stderr.write(`tunelab: ${outcome.message}\n`);
    return outcome.exitCode;
  }
  process.stdout.write((format === 'json' ? JSON.stringify(outcome.json) : outcome.text) + '\n');
  return 0;
}

function rulesCommand(argv: string[]): number {
  const { values } = parseArgs({
    args: argv,
    options: { format: { type: 'string', default: 'text' } },
  });
  const catalog = ruleCatalog();
  if (formatOption(values.format) === 'json') {
    process.stdout.write(JSON.stringify({ rules: catalog }) + '\n');
    return 0;
  }
  const width = Math.max(...catalog.map((e) => e.code.length));
  for (const entry of catalog) {
    process.stdout.write(
      `${entry.code.padEnd(width)}  ${entry.severity.padEnd(7)}  ${entry.doc.title}\n`,
    );
  }
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (isLaunchSubcommand(command)) return runLaunchSubcommand(command!, rest);
  try {
    switch (command) {
      case 'lint':
        return await lintCommand(rest);
      case 'estimate':
        return await estimateCommand(rest);
      case 'rules':
        return rulesCommand(rest);
      case 'templates':
        return templatesCommand(rest);
      case 'convert':
        return convertCommand(rest);
      case 'new':
        return newCommand(rest);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command: ${command}`);
    }
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (
      err instanceof UsageError ||
      err instanceof SettingsError ||
      code?.startsWith('ERR_PARSE_ARGS')
    ) {
      process.stderr.write(`tunelab: ${(err as Error).message}\n${USAGE}`);
      return 2;
    }
    throw err;
  }
}

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});

// `tunelab`: the command line face of the analysis engine (see spec/cli.md).

import { parseArgs } from 'node:util';
import { formatJson, formatText, lintFile, type LintFileResult } from './lint';

const USAGE = `usage: tunelab <command> [options]

commands:
  lint [--format text|json] [--gpu ID] [--num-gpus N] FILE...   check configs
  help                                                         show this text
`;

class UsageError extends Error {}

function lintCommand(argv: string[]): number {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      format: { type: 'string', default: 'text' },
      gpu: { type: 'string' },
      'num-gpus': { type: 'string' },
    },
  });
  if (values.format !== 'text' && values.format !== 'json') {
    throw new UsageError(`--format must be text or json, got ${values.format}`);
  }
  if (values['num-gpus'] !== undefined && !/^[1-9]\d*$/.test(values['num-gpus'])) {
    throw new UsageError(`--num-gpus must be a positive integer, got ${values['num-gpus']}`);
  }
  if (positionals.length === 0) throw new UsageError('lint needs at least one FILE');

  const results: LintFileResult[] = [];
  let unreadable = false;
  for (const file of positionals) {
    const result = lintFile(file, {});
    if ('error' in result) {
      process.stderr.write(`tunelab: ${result.error}\n`);
      unreadable = true;
      continue;
    }
    results.push(result);
  }
  process.stdout.write(
    (values.format === 'json' ? formatJson(results) : formatText(results)) + '\n',
  );
  if (unreadable) return 2;
  return results.some((r) => r.diagnostics.some((d) => d.severity === 'error')) ? 1 : 0;
}

function main(argv: string[]): number {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'lint':
        return lintCommand(rest);
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
    if (
      err instanceof UsageError ||
      (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
    ) {
      process.stderr.write(`tunelab: ${(err as Error).message}\n${USAGE}`);
      return 2;
    }
    throw err;
  }
}

process.exitCode = main(process.argv.slice(2));

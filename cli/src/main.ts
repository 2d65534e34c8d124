// `tunelab`: the command line face of the analysis engine (see spec/cli.md).

import { version } from '../../package.json';
import { ruleCatalog } from '../../engine/src/rules/catalog';
import { hostPacesNear } from '../../launch/src/hostPaces';
import { analyzeFileWithHub } from './analyzeFile';
import { CHAT_USAGE, chatCommand } from './chatCommand';
import { convertFile } from './convert';
import { estimateOutcome } from './estimate';
import { compareCommand, EVAL_USAGE, evalCommand } from './evalCommands';
import { EXPORT_SERVE_USAGE, exportCommand, serveCommand } from './exportServeCommands';
import { isLaunchSubcommand, LAUNCH_USAGE, runLaunchSubcommand } from './launchCommands';
import { formatJson, formatText, lintResult, type LintFileResult } from './lint';
import { newCommand, templatesCommand } from './newCommand';
import { parseCommandLine, UsageError } from './options';
import { print, say, sayRaw } from './output';
import { resolveRuleLevels, SettingsError } from './settings';
import { tuneCommand } from './tuneCommand';

const USAGE = `usage: tunelab <command> [options]

commands:
  lint [--format text|json] [--gpu ID] [--num-gpus N] [--rule CODE=LEVEL]... [--config FILE] [--dialect D] [--offline] FILE...
        check fine-tuning configs; exit 0 clean, 1 errors found, 2 usage error or unreadable file
  estimate [--format text|json] [--gpu ID] [--num-gpus N] [--offline] FILE
        peak GPU memory per GPU of the run, with its parts, and the training time
  tune [--gpu ID] [--write] [--format text|json] [--no-liger] [--no-compile] [--offline] FILE
        the fastest settings that still fit the GPU (5% kept free), each change with its
        predicted tokens/s and peak; --write rewrites the config with minimal edits;
        --no-liger / --no-compile leave Liger Kernel / compiled layers out (a host without them)
  rules [--format text|json]
        list every diagnostic code with its severity and documentation
${LAUNCH_USAGE}${EVAL_USAGE}${CHAT_USAGE}${EXPORT_SERVE_USAGE}  convert FILE [--to native|axolotl|trl] [--out FILE] [--force] [--format text|json]
        rewrite an Axolotl, LLaMA-Factory or TRL config as a native one (or back) when nothing is lost
  templates [--format text|json]
        list the config templates
  new TEMPLATE DEST [--model ID] [--gpu ID] [--num-gpus N] [--method full|lora|qlora]
        write a config and its sample data into DEST; without --method the estimate picks it
  help  show this text
  --version, -v  print the version

A model that is neither in the built-in catalog nor a local directory is looked up on the
Hugging Face Hub (HF_ENDPOINT, HF_TOKEN honoured; cached in $TUNELAB_CACHE/hub) unless --offline.
`;

async function tuneCli(argv: string[]): Promise<number> {
  const { options, operands } = parseCommandLine(
    'tune',
    argv,
    ['format', 'gpu', 'write', 'offline', 'no-liger', 'no-compile'],
    { name: 'FILE', min: 1, max: 1 },
  );
  return tuneCommand(operands[0]!, {
    format: options.format === 'json' ? 'json' : 'text',
    gpu: options.gpu,
    write: options.write ?? false,
    offline: options.offline,
    liger: !options['no-liger'],
    compile: !options['no-compile'],
  });
}

async function lintCommand(argv: string[]): Promise<number> {
  const { options, operands: files } = parseCommandLine(
    'lint',
    argv,
    ['format', 'gpu', 'num-gpus', 'rule', 'config', 'dialect', 'offline'],
    { name: 'FILE', min: 1 },
  );
  const analyzeOptions = {
    gpu: options.gpu,
    numGpus: options['num-gpus'],
    dialect: options.dialect,
    ruleSeverity: resolveRuleLevels(options.rule, options.config, process.cwd()),
  };
  const results: LintFileResult[] = [];
  let unreadable = false;
  for (const file of files) {
    const result = lintResult(
      file,
      await analyzeFileWithHub(
        file,
        { ...analyzeOptions, pacedRuns: hostPacesNear(file).pacedRuns },
        options.offline,
      ),
    );
    if ('error' in result) {
      say(result.error);
      unreadable = true;
      continue;
    }
    results.push(result);
  }
  print(options.format === 'json' ? formatJson(results) : formatText(results));
  if (unreadable) return 2;
  return results.some((r) => r.diagnostics.some((d) => d.severity === 'error')) ? 1 : 0;
}

async function estimateCommand(argv: string[]): Promise<number> {
  const { options, operands } = parseCommandLine(
    'estimate',
    argv,
    ['format', 'gpu', 'num-gpus', 'offline'],
    { name: 'FILE', min: 1, max: 1 },
  );
  const file = operands[0];
  const analyzeOptions = {
    gpu: options.gpu,
    numGpus: options['num-gpus'],
    pacedRuns: hostPacesNear(file).pacedRuns,
  };
  const outcome = estimateOutcome(
    file,
    await analyzeFileWithHub(file, analyzeOptions, options.offline),
  );
  if (!outcome.ok) {
    say(outcome.message);
    return outcome.exitCode;
  }
  print(options.format === 'json' ? JSON.stringify(outcome.json) : outcome.text);
  return 0;
}

function rulesCommand(argv: string[]): number {
  const { options } = parseCommandLine('rules', argv, ['format']);
  const catalog = ruleCatalog();
  if (options.format === 'json') {
    print(JSON.stringify({ rules: catalog }));
    return 0;
  }
  const width = Math.max(...catalog.map((e) => e.code.length));
  for (const entry of catalog)
    print(`${entry.code.padEnd(width)}  ${entry.severity.padEnd(7)}  ${entry.doc.title}`);
  return 0;
}

function convertCommand(argv: string[]): number {
  const { options, operands } = parseCommandLine(
    'convert',
    argv,
    ['to', 'out', 'force', 'dialect', 'format'],
    { name: 'FILE', min: 1, max: 1 },
  );
  // Checked to text or json by parseCommandLine.
  const format = options.format === 'json' ? 'json' : 'text';
  const outcome = convertFile(operands[0], { ...options, format });
  // stdout is the converted config itself: written as is.
  process.stdout.write(outcome.stdout);
  sayRaw(outcome.stderr);
  return outcome.exitCode;
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
      case 'tune':
        return await tuneCli(rest);
      case 'templates':
        return templatesCommand(rest);
      case 'convert':
        return convertCommand(rest);
      case 'new':
        return newCommand(rest);
      case 'eval':
        return await evalCommand(rest);
      case 'compare':
        return await compareCommand(rest);
      case 'chat':
        return await chatCommand(rest);
      case 'export':
        return await exportCommand(rest);
      case 'serve':
        return serveCommand(rest);
      case '--version':
      case '-v':
        print(version);
        return 0;
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
    if (err instanceof SettingsError) {
      say(err.message);
      return 2;
    }
    const code = (err as { code?: string }).code;
    if (err instanceof UsageError || code?.startsWith('ERR_PARSE_ARGS')) {
      say((err as Error).message);
      sayRaw(USAGE);
      return 2;
    }
    // A bug: its stack helps the report; credentials in it must not travel with it.
    say(`internal error: ${(err as Error).stack ?? String(err)}`);
    return 1;
  }
}

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});

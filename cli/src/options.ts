// The command-line options of every subcommand, in one table: how each is
// spelt and how its value is checked, so `--gpu` or `--format` means the same
// (and fails the same way) wherever it is accepted.

import { parseArgs } from 'node:util';
import { findGpu, listGpus } from '../../engine/src/hardware/gpus';
import { closest } from '../../engine/src/schema/didYouMean';
import type { Dialect } from '../../engine/src/types';
import { TARGETS, type TargetKind } from '../../launch/src/launchConfig';
import { PROBE_STEPS_RANGE } from '../../launch/src/paceProbe';
import { isRuleLevel, unknownRuleCode, type RuleLevel } from './settings';

/** A misuse of the command line: the message, then the usage text, exit 2. */
export class UsageError extends Error {}

type RawValue = string | boolean | string[] | undefined;

interface OptionSpec<T> {
  type: 'string' | 'boolean';
  multiple?: boolean;
  short?: string;
  read(raw: RawValue): T;
}

function valued<T>(read: (raw: string | undefined) => T): OptionSpec<T> {
  return { type: 'string', read: (raw) => read(raw as string | undefined) };
}

function flag(short?: string): OptionSpec<boolean> {
  return { type: 'boolean', short, read: (raw) => raw === true };
}

/** Every `--format` any command prints; each command names those it accepts. */
export const OUTPUT_FORMATS = ['text', 'json', 'markdown', 'csv'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];
const REPORT_FORMATS: readonly OutputFormat[] = ['text', 'json'];

const OPTIONS = {
  format: valued((raw): OutputFormat => (raw ?? 'text') as OutputFormat),
  gpu: valued(gpuOption),
  'num-gpus': valued(numGpusOption),
  rule: {
    type: 'string',
    multiple: true,
    read: (raw: RawValue) => ((raw as string[] | undefined) ?? []).map(ruleOption),
  },
  config: valued((raw) => raw),
  offline: flag(),
  dialect: valued((raw) => dialectOption('--dialect', raw)),
  to: valued((raw) => dialectOption('--to', raw)),
  out: valued((raw) => raw),
  force: flag(),
  write: flag(),
  target: valued(targetOption),
  detach: flag(),
  follow: flag('f'),
  'from-start': flag(),
  'no-wait': flag(),
  'no-liger': flag(),
  'no-compile': flag(),
  checkpoint: valued(checkpointOption),
  probe: flag(),
  'probe-steps': valued(probeStepsOption),
} satisfies Record<string, OptionSpec<unknown>>;

export type OptionName = keyof typeof OPTIONS;
export type OptionValues = { [K in OptionName]: ReturnType<(typeof OPTIONS)[K]['read']> };

/** How many operands (FILE, RUN, ...) a command takes. */
export interface Operands {
  name: string;
  min: number;
  /** Unbounded when absent. */
  max?: number;
}

/**
 * Parses `argv` of `command` accepting only the named options; every value
 * is checked here, so a command gets typed, valid options or a UsageError.
 */
export function parseCommandLine<K extends OptionName>(
  command: string,
  argv: string[],
  names: readonly K[],
  operands: Operands = { name: 'argument', min: 0, max: 0 },
  formats: readonly OutputFormat[] = REPORT_FORMATS,
): { options: Pick<OptionValues, K>; operands: string[] } {
  const config = Object.fromEntries(
    names.map((name) => {
      const { type, multiple, short } = OPTIONS[name] as OptionSpec<unknown>;
      return [name, { type, ...(multiple ? { multiple } : {}), ...(short ? { short } : {}) }];
    }),
  );
  const { values, positionals } = parseArgs({
    args: argv,
    options: config,
    allowPositionals: true,
    strict: true,
  });
  checkOperands(command, positionals, operands);
  if (names.includes('format' as K)) checkFormat(values.format as string | undefined, formats);
  const options = Object.fromEntries(
    names.map((name) => [
      name,
      (OPTIONS[name] as OptionSpec<unknown>).read(values[name] as RawValue),
    ]),
  );
  return { options: options as Pick<OptionValues, K>, operands: positionals };
}

function checkOperands(command: string, given: string[], { name, min, max }: Operands): void {
  if (max === 0 && given.length > 0)
    throw new UsageError(`${command} takes no arguments, got ${given.join(' ')}`);
  if (given.length >= min && (max === undefined || given.length <= max)) return;
  const wanted =
    min === max
      ? `exactly ${min === 1 ? 'one' : min} ${name}`
      : given.length > (max ?? Infinity)
        ? `at most ${max} ${name}s`
        : `at least ${min <= 1 ? `one ${name}` : `${min} ${name}s`}`;
  throw new UsageError(`${command} needs ${wanted}`);
}

function checkFormat(raw: string | undefined, formats: readonly OutputFormat[]): void {
  if (raw === undefined || (formats as readonly string[]).includes(raw)) return;
  const list = `${formats.slice(0, -1).join(', ')} or ${formats[formats.length - 1]}`;
  throw new UsageError(`--format must be ${list}, got ${raw}`);
}

function checkpointOption(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw))
    throw new UsageError(`--checkpoint must be a step number (checkpoint-N), got ${raw}`);
  return Number(raw);
}

function probeStepsOption(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const { min, max } = PROBE_STEPS_RANGE;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max)
    throw new UsageError(`--probe-steps must be a whole number from ${min} to ${max}, got ${raw}`);
  return Number(raw);
}

function numGpusOption(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^[1-9]\d*$/.test(raw))
    throw new UsageError(`--num-gpus must be a positive integer, got ${raw}`);
  return Number(raw);
}

/** The GPU as given (the engine resolves the same names), when the catalog knows it. */
function gpuOption(raw: string | undefined): string | undefined {
  if (raw === undefined || findGpu(raw)) return raw;
  const ids = listGpus().map((gpu) => gpu.id);
  // `H10` or `A100-60GB`: near an id, or near a model name (the id before its memory).
  const models = ids.map((id) => id.replace(/-\d+GB$/, ''));
  const nearModel = closest(raw.replace(/[-\s]*\d+\s*G(i?B)?$/i, ''), models);
  const suggestion = closest(raw, ids) ?? (nearModel && ids[models.indexOf(nearModel)]);
  throw new UsageError(
    `unknown GPU ${JSON.stringify(raw)} for --gpu; ${suggestion ? `did you mean ${suggestion}? ` : ''}known GPUs: ${ids.join(', ')}`,
  );
}

const DIALECTS: readonly Dialect[] = ['native', 'axolotl', 'llamafactory', 'trl'];

function dialectOption(option: string, raw: string | undefined): Dialect | undefined {
  if (raw === undefined || raw === 'auto') return undefined;
  if (!(DIALECTS as readonly string[]).includes(raw))
    throw new UsageError(`${option} must be auto, ${DIALECTS.join(', ')}; got ${raw}`);
  return raw as Dialect;
}

function targetOption(raw: string | undefined): TargetKind | undefined {
  if (raw === undefined) return undefined;
  if (!(TARGETS as readonly string[]).includes(raw))
    throw new UsageError(`--target must be one of ${TARGETS.join(', ')}, got ${raw}`);
  return raw as TargetKind;
}

function ruleOption(flag: string): readonly [string, RuleLevel] {
  const match = /^([\w.-]+)=(\w+)$/.exec(flag);
  if (!match || !isRuleLevel(match[2]))
    throw new UsageError(`--rule expects CODE=off|error|warning|info|hint, got ${flag}`);
  const unknown = unknownRuleCode(match[1]);
  if (unknown) throw new UsageError(`--rule ${flag}: ${unknown}`);
  return [match[1], match[2]];
}

// The one entry point of the analysis engine, shared by the language server
// and the CLI: text in, dialect and findings out. No editor dependency.

import * as path from 'node:path';
import { detectDialect, isNativeFileName, mightBeConfig } from './dialect';
import { adaptFinding, dialectView, dialectWhere, type DialectView } from './dialects/index';
import { findGpu, gpuFromObject } from './hardware/gpus';
import type { GpuSpec } from './hardware/types';
import { resolveModel } from './models/resolve';
import type { ModelArchitecture } from './models/types';
import { buildNativePlan } from './nativePlan';
import { exactSourceAt, isRecord, MAX_CONFIG_BYTES, parseYaml, type ParsedYaml } from './parse';
import { reparseAfterEdit } from './reparse';
import type { Plan } from './plan';
import { createRuleContext, type RuleContext } from './rules/context';
import { rulesFor } from './rules/index';
import { validateSchema } from './schema/validate';
import { summarizeData } from './data/inspect';
import type { DataSummary } from './data/types';
import { estimateMemory, runInputsOf } from './estimate/index';
import type { MemoryEstimate } from './estimate/types';
import {
  launchTargetOf,
  learnHostPace,
  type LearnedHostPace,
  type PacedRun,
} from './estimate/hostPace';
import { boundedMessage } from './schema/messageText';
import {
  MAX_FINDINGS_PER_CODE,
  type Dialect,
  type Finding,
  type Range,
  type Severity,
} from './types';

/** Findings shown in all, summaries aside: no one reads more, and each costs the editor. */
export const MAX_FINDINGS = 300;

const ZERO_RANGE: Range = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };

export interface AnalyzeOptions {
  /** Per-code override: 'off' silences a code, a severity replaces its own. */
  ruleSeverity?: Record<string, Severity | 'off'>;
  /** Overrides `hardware.gpu` (CLI `--gpu`). */
  gpu?: string;
  /** Overrides `hardware.num_gpus` (CLI `--num-gpus`). */
  numGpus?: number;
  /** Directory data and model paths are relative to; defaults to the file's directory. */
  configDir?: string;
  /** OS of the launch target when known (the editor's own for local launches). */
  targetOs?: 'linux' | 'windows' | 'darwin';
  /** Directory of model files fetched from the Hub (models/hub.ts), consulted after the catalog. */
  hubCacheDir?: string;
  /** The parse of this file's previous version: a one-value edit reuses it (reparse.ts). */
  previous?: ParsedYaml;
  /** The dialect to read the file as, whatever its content says (the `tunelab.dialect` setting). */
  dialect?: Dialect;
  /** Reads the data files the config names (off the engine so tests and the editor can cache). */
  summarizeData?: (plan: Plan, configDir: string | undefined) => DataSummary;
  /**
   * The completed runs' host paces on a launch target (launch/src/hostPaces.ts reads them
   * from the workspace): the time estimate takes the pace learnt from them.
   */
  pacedRuns?: (target: string) => readonly PacedRun[];
}

export interface Analysis {
  dialect: Dialect | null;
  /** Absent when the file was skipped (not a config, or too large). */
  parsed?: ParsedYaml;
  plan?: Plan;
  model?: ModelArchitecture;
  gpu?: GpuSpec;
  estimate?: MemoryEstimate;
  data?: DataSummary;
  /** For a config of another tool: the native config it amounts to. */
  view?: DialectView;
  /** The host pace learnt on the config's launch target, when runs there taught one. */
  hostPace?: LearnedHostPace;
  findings: Finding[];
}

export function analyze(text: string, fileName: string, options: AnalyzeOptions = {}): Analysis {
  if (!options.dialect && !mightBeConfig(fileName, text)) return { dialect: null, findings: [] };
  const tooLarge = oversizeBytes(text);
  if (tooLarge !== undefined) {
    if (!isNativeFileName(fileName)) return { dialect: null, findings: [] };
    return { dialect: 'native', findings: [tooLargeFinding(tooLarge)] };
  }
  let analysis: Analysis;
  try {
    analysis = analyzeParsed(text, fileName, options);
  } catch {
    // Nothing the user writes may take the analysis down (nor show a JS error as a finding).
    analysis = {
      dialect: isNativeFileName(fileName) ? 'native' : (options.dialect ?? null),
      findings: [internalError('Tunelab could not check this config (an internal error)')],
    };
  }
  analysis.findings = capFindings(applySeverityOverrides(analysis.findings, options));
  return analysis;
}

function analyzeParsed(text: string, fileName: string, options: AnalyzeOptions): Analysis {
  const parsed = (options.previous && reparseAfterEdit(options.previous, text)) ?? parseYaml(text);
  const dialect = detectDialect(fileName, parsed.value, text, options.dialect);
  if (!dialect) return { dialect: null, findings: [] };

  const findings = [...parsed.findings];
  if (!parsed.complete) return { dialect, parsed, findings };
  findings.push(...validateSchema(parsed, dialect));

  const view =
    dialect === 'native' ? undefined : dialectView(dialect, parsed.value, text, options.gpu);
  const ctx = buildContext(parsed, fileName, options, view);
  for (const rule of rulesFor(dialect)) {
    try {
      for (const hit of rule.check(ctx)) {
        const finding: Finding = { code: rule.code, severity: rule.severity, ...hit };
        // Rules written against native keys speak the dialect's words; dialect rules already do.
        const nativeRule = !rule.dialects || rule.dialects.includes('native');
        findings.push(view && nativeRule ? adaptFinding(view, finding) : finding);
      }
    } catch {
      // One faulty rule must not hide every other finding.
      findings.push(
        internalError(`The \`${rule.code}\` check failed on this config and was skipped`),
      );
    }
  }
  return {
    dialect,
    parsed,
    plan: ctx.plan,
    model: ctx.model,
    gpu: ctx.gpu,
    estimate: ctx.estimate,
    data: ctx.data,
    view,
    hostPace: learntHostPace(ctx, options),
    findings,
  };
}

function learntHostPace(ctx: RuleContext, options: AnalyzeOptions): LearnedHostPace | undefined {
  if (!options.pacedRuns || !ctx.plan.method) return undefined;
  const target = launchTargetOf(ctx.config);
  return learnHostPace(options.pacedRuns(target), ctx.plan.method, target);
}

function buildContext(
  parsed: ParsedYaml,
  fileName: string,
  options: AnalyzeOptions,
  view?: DialectView,
): RuleContext {
  const plan = buildNativePlan(view ? view.value : parsed.value);
  if (view) {
    plan.where = dialectWhere(view, plan.where, (p) => exactSourceAt(parsed.root, p) !== undefined);
  }
  if (options.gpu !== undefined) plan.hardware.gpu = options.gpu;
  if (options.numGpus !== undefined) plan.hardware.numGpus = options.numGpus;
  const configDir =
    options.configDir ?? (path.isAbsolute(fileName) ? path.dirname(fileName) : undefined);
  const config = view ? view.value : isRecord(parsed.value) ? parsed.value : {};
  const modelSection = isRecord(config.model) ? config.model : {};
  const resolved = resolveModel({
    nameOrPath: plan.model.nameOrPath,
    configDir: configDir ?? process.cwd(),
    architecture: isRecord(modelSection.architecture) ? modelSection.architecture : undefined,
    hubCacheDir: options.hubCacheDir,
    revision: typeof modelSection.revision === 'string' ? modelSection.revision : undefined,
  });
  const gpu = resolveGpu(plan.hardware.gpu);
  const data = options.summarizeData
    ? options.summarizeData(plan, configDir)
    : summarizeData(plan, configDir, { hubCacheDir: options.hubCacheDir });
  return createRuleContext({
    parsed,
    plan,
    model: resolved.model,
    modelError: resolved.model ? undefined : resolved.error,
    data,
    gpu,
    estimate:
      resolved.model && plan.method && view?.estimable !== false
        ? estimateMemory(plan, resolved.model, gpu, { run: runInputsOf(config, data) })
        : undefined,
    targetOs: options.targetOs,
    configDir,
    view,
  });
}

export function resolveGpu(gpu: Plan['hardware']['gpu']): GpuSpec | undefined {
  if (typeof gpu === 'string') return findGpu(gpu);
  if (gpu) return gpuFromObject(gpu);
  return undefined;
}

/** The text's size in UTF-8 bytes when it is over MAX_CONFIG_BYTES, else undefined. */
function oversizeBytes(text: string): number | undefined {
  // A UTF-16 unit is 1 to 3 bytes: measure exactly only when it could matter.
  if (text.length * 3 <= MAX_CONFIG_BYTES) return undefined;
  const bytes = Buffer.byteLength(text, 'utf8');
  return bytes > MAX_CONFIG_BYTES ? bytes : undefined;
}

/**
 * The finding for a file over MAX_CONFIG_BYTES, stating its real size (two
 * decimals under 10 MB, so a 2.04 MB file does not read as "2 MB"). The CLI,
 * which never reads such a file whole, can build the same one from its size.
 */
export function tooLargeFinding(bytes: number): Finding {
  const megabytes = (n: number) =>
    (n / 1024 / 1024).toFixed(n < 10 * 1024 * 1024 ? 2 : 1).replace(/\.0+$/, '');
  return {
    code: 'yaml-syntax',
    severity: 'error',
    message: `This file is ${megabytes(bytes)} MB; Tunelab checks configs up to ${megabytes(MAX_CONFIG_BYTES)} MB and skipped it. A fine-tuning config is normally a few KB: is data pasted into it?`,
    range: ZERO_RANGE,
  };
}

function internalError(what: string): Finding {
  return {
    code: 'internal-error',
    severity: 'hint',
    message: `${what}. Please report it with this file.`,
    range: ZERO_RANGE,
  };
}

function applySeverityOverrides(findings: Finding[], options: AnalyzeOptions): Finding[] {
  const overrides = options.ruleSeverity;
  if (!overrides) return findings;
  const result: Finding[] = [];
  for (const finding of findings) {
    const override = overrides[finding.code];
    if (override === 'off') continue;
    result.push(override ? { ...finding, severity: override } : finding);
  }
  return result;
}

/** What a summary calls the findings of a code it leaves out. */
const OMITTED_NOUN: Record<string, string> = {
  'yaml-syntax': 'YAML problems',
  'schema-unknown-key': 'unknown keys',
  'schema-type': 'values of the wrong type',
  'schema-enum': 'values not among those allowed',
  'schema-range': 'values out of range',
  'schema-required': 'missing keys',
};

/**
 * At most MAX_FINDINGS_PER_CODE findings of each code and MAX_FINDINGS in all,
 * each message bounded; what is left out is counted, per code, in one finding
 * placed where the first one left out was.
 */
export function capFindings(findings: Finding[]): Finding[] {
  const shown: Finding[] = [];
  const perCode = new Map<string, number>();
  const omitted = new Map<string, { count: number; first: Finding }>();
  for (const finding of findings) {
    const count = (perCode.get(finding.code) ?? 0) + 1;
    perCode.set(finding.code, count);
    if (count <= MAX_FINDINGS_PER_CODE && shown.length < MAX_FINDINGS) {
      const message = boundedMessage(finding.message);
      shown.push(message === finding.message ? finding : { ...finding, message });
      continue;
    }
    const left = omitted.get(finding.code);
    if (left) left.count++;
    else omitted.set(finding.code, { count: 1, first: finding });
  }
  for (const [code, { count, first }] of omitted) {
    const noun = OMITTED_NOUN[code] ?? `\`${code}\` findings`;
    shown.push({
      code,
      severity: first.severity,
      message: `… and ${count.toLocaleString('en-US')} more ${noun}, not shown (the next one is here).`,
      range: first.range,
    });
  }
  return shown;
}

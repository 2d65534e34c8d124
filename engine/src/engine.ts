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
import { estimateMemory } from './estimate/index';
import type { MemoryEstimate } from './estimate/types';
import type { Dialect, Finding, Severity } from './types';

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
  findings: Finding[];
}

export function analyze(text: string, fileName: string, options: AnalyzeOptions = {}): Analysis {
  if (!options.dialect && !mightBeConfig(fileName, text)) return { dialect: null, findings: [] };
  if (text.length > MAX_CONFIG_BYTES) {
    if (!isNativeFileName(fileName)) return { dialect: null, findings: [] };
    return { dialect: 'native', findings: [tooLargeFinding(text.length)] };
  }
  const parsed = (options.previous && reparseAfterEdit(options.previous, text)) ?? parseYaml(text);
  const dialect = detectDialect(fileName, parsed.value, text, options.dialect);
  if (!dialect) return { dialect: null, findings: [] };

  const findings = [...parsed.findings];
  if (!parsed.complete)
    return { dialect, parsed, findings: applySeverityOverrides(findings, options) };
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
    } catch (err) {
      // One faulty rule must not hide every other finding.
      findings.push({
        code: 'internal-error',
        severity: 'hint',
        message: `rule ${rule.code} failed: ${err instanceof Error ? err.message : String(err)}`,
        range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
      });
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
    findings: applySeverityOverrides(findings, options),
  };
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
  return createRuleContext({
    parsed,
    plan,
    model: resolved.model,
    modelError: resolved.model ? undefined : resolved.error,
    data: (options.summarizeData ?? summarizeData)(plan, configDir),
    gpu,
    estimate:
      resolved.model && plan.method && view?.estimable !== false
        ? estimateMemory(plan, resolved.model, gpu)
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

function tooLargeFinding(length: number): Finding {
  return {
    code: 'yaml-syntax',
    severity: 'error',
    message: `This file is ${(length / 1024 / 1024).toFixed(1)} MB; Tunelab checks configs up to ${MAX_CONFIG_BYTES / 1024 / 1024} MB and skipped it. A fine-tuning config is normally a few KB: is data pasted into it?`,
    range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
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

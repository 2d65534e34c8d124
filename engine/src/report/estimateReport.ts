// The memory and time estimate of an analysed config, as the editor's hover,
// code lens and breakdown, and the CLI's text and JSON, show it.

import type { Analysis } from '../engine';
import {
  chooseMethod,
  estimateTrainTime,
  formatGiB,
  placeOf,
  type MethodEstimates,
} from '../estimate/index';
import {
  MEMORY_PARTS,
  type FinalEvaluationSummary,
  type MemoryEstimate,
  type MemoryPart,
  type MethodRecommendation,
} from '../estimate/types';
import type { TrainTimeDetail, TrainTimeOptions } from '../estimate/time';
import { tokenSourceText } from '../data/tokenCount';
import type { ModelArchitecture } from '../models/types';
import { estimateWithMethod } from './proposal';

export interface EstimateReport {
  model: ModelArchitecture;
  estimate: MemoryEstimate;
  /** Absent when the training data could not be read. */
  trainTime: TrainTimeDetail | undefined;
  tokensPerEpoch: number;
  /** Where the data's token counts come from: `tokenizer: <path>` or `chars-per-token 3.6`. */
  tokenSource: string;
  /** `hardware.gpu` as written when it is no GPU of the catalog: said, never taken for "no GPU". */
  unknownGpu?: string;
  /** Computed on first read (it analyses the config converted to the other methods). */
  readonly recommendation: MethodRecommendation | undefined;
}

const METHOD_NAMES = { full: 'full fine-tuning', lora: 'LoRA', qlora: 'QLoRA' } as const;

/** Tokens of one epoch from the training file, each example truncated at max_length. */
export function tokensPerEpoch(analysis: Analysis): number {
  const train = analysis.data?.train;
  if (!train?.exists || train.tokenLengths.length === 0) return 0;
  const maxLength = analysis.plan?.data.maxLength ?? Infinity;
  const read = train.tokenLengths.reduce((sum, n) => sum + Math.min(n, maxLength), 0);
  // A partial read covers the first 20 MB: scale by the bytes not read.
  const scale = train.partial && train.bytesRead ? train.sizeBytes / train.bytesRead : 1;
  return Math.round(read * scale);
}

/**
 * The method the estimate recommends for an analysed native config: each
 * method's figure is the estimate of the config converted to it (the edits of
 * the "Convert to …" actions), so the reason quotes what applying it gives.
 * Undefined when the model or the GPU is unknown, or for other dialects
 * (their conversion is to native first).
 */
export function recommendationFor(analysis: Analysis): MethodRecommendation | undefined {
  if (!recommendations.has(analysis))
    recommendations.set(analysis, computeRecommendation(analysis));
  return recommendations.get(analysis);
}

const recommendations = new WeakMap<Analysis, MethodRecommendation | undefined>();

function computeRecommendation(analysis: Analysis): MethodRecommendation | undefined {
  const { model, gpu, plan } = analysis;
  if (!model || !gpu || !plan?.method || analysis.dialect !== 'native') return undefined;
  const estimates: MethodEstimates = {};
  for (const method of ['full', 'lora', 'qlora'] as const)
    estimates[method] = estimateWithMethod(analysis, method);
  return chooseMethod(estimates, analysis.data?.train?.rows, placeOf(gpu, plan.hardware.numGpus));
}

// The editor asks for the report of one analysis several times (code lens,
// each hover, code actions): it is computed once per analysis. The
// recommendation analyses two converted configs, so only what shows it
// (hover, the estimate text, the method actions) computes it.
const reports = new WeakMap<Analysis, EstimateReport | undefined>();

export function buildEstimateReport(analysis: Analysis): EstimateReport | undefined {
  if (!reports.has(analysis)) reports.set(analysis, computeReport(analysis));
  return reports.get(analysis);
}

/**
 * The report's training time; `asMeasured` describes a run measured by an earlier
 * runner (the benchmark's tables), the report itself leaves it out.
 */
export function reportTrainTime(
  analysis: Analysis,
  asMeasured: Pick<TrainTimeOptions, 'cudnnAttentionPlans'> = {},
  tokens = tokensPerEpoch(analysis),
): TrainTimeDetail | undefined {
  const { model, plan, gpu } = analysis;
  // With max_steps the step count is known even when the data is not.
  if (!model || !plan || !(tokens > 0 || plan.training.maxSteps)) return undefined;
  return estimateTrainTime(plan, model, gpu, tokens, {
    tokenLengths: analysis.data?.train?.tokenLengths,
    maxSteps: plan.training.maxSteps,
    pricePerGpuHour: plan.hardware.pricePerHour,
    hostPace: analysis.hostPace,
    ...asMeasured,
  });
}

function computeReport(analysis: Analysis): EstimateReport | undefined {
  const { estimate, model, plan, gpu } = analysis;
  if (!estimate || !model || !plan) return undefined;
  const tokens = tokensPerEpoch(analysis);
  const named = plan.hardware.gpu;
  return {
    model,
    estimate,
    trainTime: reportTrainTime(analysis, {}, tokens),
    tokensPerEpoch: tokens,
    tokenSource: tokenSourceText(analysis.data?.train?.tokenSource),
    unknownGpu: typeof named === 'string' && !gpu ? named : undefined,
    get recommendation() {
      return recommendationFor(analysis);
    },
  };
}

function gpuLabel(estimate: MemoryEstimate): string {
  return estimate.gpu
    ? `${estimate.numGpus}× ${estimate.gpu.id}`
    : `${estimate.numGpus} GPU${estimate.numGpus > 1 ? 's' : ''}`;
}

export function verdict(estimate: MemoryEstimate, unknownGpu?: string): string {
  if (estimate.fits === undefined)
    return unknownGpu
      ? `unknown GPU ${unknownGpu}, fit not checked (hardware.gpu)`
      : 'no GPU set (hardware.gpu)';
  if (!estimate.fits) return 'does not fit';
  const fraction = estimate.perGpuBytes / (estimate.gpu?.memoryBytes ?? Infinity);
  return fraction > 0.9 ? `fits, tight (${Math.round(fraction * 100)}%)` : 'fits';
}

/**
 * One short line for the code lens (it must not run past a narrow editor):
 * `≈ 19.7 GiB/GPU on 1× A100-80GB · fits · ~66 min`; the hover and the
 * breakdown say the rest.
 */
export function estimateLensTitle(report: EstimateReport): string {
  const e = report.estimate;
  const t = report.trainTime;
  const time = t
    ? ` · ~${formatDuration(t.seconds)}${t.cost ? ` · ~${formatCost(t.cost.total)}` : ''}`
    : '';
  const where = e.gpu ? ` on ${gpuLabel(e)}` : '';
  const fit = e.fits !== undefined ? verdict(e) : report.unknownGpu ? 'unknown GPU' : 'no GPU set';
  const phase =
    e.peakRunPhase === 'evaluation'
      ? ' (eval)'
      : e.peakRunPhase === 'final-evaluation'
        ? e.finalEvaluation?.step === 'generation'
          ? ' (generation)'
          : ' (eval)'
        : e.peakRunPhase === 'export'
          ? ' (export)'
          : '';
  return `≈ ${formatGiB(e.perGpuBytes)}/GPU${phase}${where} · ${fit}${time}`;
}

/** What the evaluation after training runs at its peak, in a few words. */
function finalEvaluationWords(f: FinalEvaluationSummary): string {
  const g = f.generation;
  const count = (n: number) => n.toLocaleString('en-US');
  if (f.step === 'generation' && g) {
    return `generation: ${g.sequences} sequences × (${count(g.promptTokens)} prompt + ${count(g.maxNewTokens)} new) tokens, KV cache ${formatGiB(g.kvCacheBytes)}`;
  }
  const what = f.step === 'task loss' ? 'loss over the eval rows' : 'forgetting measure';
  return `${what}: batch of ${count(f.tokens)} tokens`;
}

/**
 * Which phase of the run sets the peak, with the others' figures: "peak at
 * evaluation (eval batch of 16,384 tokens per GPU); training peaks at 7.2
 * GiB", "peak at evaluation after training (generation: …); training peaks
 * at …". Undefined when the run only trains.
 */
export function phaseSentence(estimate: MemoryEstimate): string | undefined {
  const { evaluation, finalEvaluation, runPhases } = estimate;
  const phases: { phase: string; name: string; bytes: number; verb?: string }[] = [
    { phase: 'training', name: 'training', bytes: runPhases.training },
  ];
  if (evaluation && runPhases.evaluation !== undefined) {
    const batch = `eval batch of ${evaluation.tokens.toLocaleString('en-US')} tokens per GPU`;
    phases.push({
      phase: 'evaluation',
      name: `evaluation (${batch})`,
      bytes: runPhases.evaluation,
    });
  }
  if (estimate.export && runPhases.export !== undefined) {
    phases.push({
      phase: 'export',
      name: `export (${estimate.export.words})`,
      bytes: runPhases.export,
      // QLoRA's merged model: on the GPU only if it fits there, so not a peak the run must fit
      verb: estimate.export.onlyIfItFits ? 'would take' : undefined,
    });
  }
  if (finalEvaluation && runPhases.finalEvaluation !== undefined) {
    phases.push({
      phase: 'final-evaluation',
      name: `evaluation after training (${finalEvaluationWords(finalEvaluation)})`,
      bytes: runPhases.finalEvaluation,
    });
  }
  if (phases.length === 1) return undefined;
  const peak = phases.find((p) => p.phase === estimate.peakRunPhase) ?? phases[0];
  const others = phases
    .filter((p) => p !== peak)
    .map((p) => `${p.name} ${p.verb ?? 'peaks at'} ${formatGiB(p.bytes)}`)
    .join('; ');
  return peak.phase === 'training'
    ? `peak in training; ${others}`
    : `peak at ${peak.name}; ${others}`;
}

/** The breakdown's label of a part. */
const PART_LABELS: Partial<Record<MemoryPart, string>> = { kvCache: 'kv cache' };

/** The parts a table shows: the KV cache only where generation holds one at the peak. */
function shownParts(e: MemoryEstimate): MemoryPart[] {
  return MEMORY_PARTS.filter((p) => p !== 'kvCache' || e.bytes.kvCache > 0);
}

const partLabel = (p: MemoryPart) => PART_LABELS[p] ?? p;

/** The time line of the hover and breakdown: the figure, its range and where it comes from. */
function timeSentence(t: TrainTimeDetail, tokensPerEpoch: number): string {
  const range = `${formatDuration(t.secondsLow)}–${formatDuration(t.secondsHigh)}`;
  const why = t.extrapolations.length ? ` Wider because: ${t.extrapolations.join('; ')}.` : '';
  return `**Time** ≈ ${formatDuration(t.seconds)} (${range}): ${t.steps.toLocaleString('en-US')} steps × ${t.secondsPerStep.toFixed(2)} s, ${formatCount(t.tokens)} tokens (${formatCount(tokensPerEpoch)} per epoch), ~${formatCount(t.tokensPerSecond)} tokens/s, from a step model calibrated on measured H100 runs.${why}`;
}

function costSentence(t: TrainTimeDetail): string {
  const c = t.cost!;
  return `cost ≈ ${formatCost(c.total)} (${formatCost(c.low)}–${formatCost(c.high)}) at ${c.perGpuHour} per GPU-hour`;
}

/** A cost in the price's own currency: no symbol, two decimals under 100. */
function formatCost(amount: number): string {
  return amount < 100 ? amount.toFixed(2) : Math.round(amount).toLocaleString('en-US');
}

export function formatDuration(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min`;
  if (seconds < 48 * 3600) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86400).toFixed(1)} days`;
}

/**
 * The breakdown as Markdown. Compact for the hover (two narrow columns that
 * fit a hover without scrolling); `detailed` for the "show estimate" view,
 * with why each part is what it is and the assumptions.
 */
export function estimateMarkdown(report: EstimateReport, detailed = false): string {
  const e = report.estimate;
  const peakLine = `on ${gpuLabel(e)}${e.gpu ? ` (${formatGiB(e.gpu.memoryBytes)} each)` : ''}: **${verdict(e, report.unknownGpu)}**`;
  const lines = detailed
    ? [
        `**Tunelab estimate** · ${METHOD_NAMES[e.method]} of \`${report.model.id}\` (${(e.paramsTotal / 1e9).toFixed(2)} B params, ${formatCount(e.paramsTrainable)} trainable) · ${e.tokensPerStep.toLocaleString('en-US')} tokens per micro-batch`,
        '',
        '| part | per GPU | why |',
        '|---|---:|---|',
        ...shownParts(e).map(
          (part) =>
            `| ${partLabel(part)} | ${formatGiB(e.bytes[part])} | ${e.notes[part].replace(/\|/g, '\\|')} |`,
        ),
        `| **peak** | **${formatGiB(e.perGpuBytes)}** | ${e.expandableSegments ? EXPANDABLE_WHY : 'as nvidia-smi shows it'}, ${peakLine} |`,
        `| smallest | ${formatGiB(e.minimumBytes)} | ${MINIMUM_WHY} |`,
      ]
    : [
        `**Tunelab estimate** · ${METHOD_NAMES[e.method]} · ${e.tokensPerStep.toLocaleString('en-US')} tokens per micro-batch`,
        '',
        '| part | per GPU |',
        '|---|---:|',
        ...shownParts(e).map((part) => `| ${partLabel(part)} | ${formatGiB(e.bytes[part])} |`),
        `| **peak** | **${formatGiB(e.perGpuBytes)}** |`,
        `| smallest | ${formatGiB(e.minimumBytes)} |`,
        '',
        `Peak ${peakLine}`,
      ];
  const phase = phaseSentence(e);
  if (phase) lines.push('', `${phase[0].toUpperCase()}${phase.slice(1)}.`);
  if (report.trainTime) {
    lines.push('', timeSentence(report.trainTime, report.tokensPerEpoch));
    if (report.trainTime.cost) lines.push('', costSentence(report.trainTime));
  }
  if (report.recommendation && report.recommendation.method !== e.method) {
    lines.push(
      '',
      `**Recommended method:** ${METHOD_NAMES[report.recommendation.method]}: ${report.recommendation.reason}`,
    );
  }
  if (detailed) {
    lines.push('', `Token counts: ${report.tokenSource}.`);
    if (e.assumptions.length)
      lines.push('', '**Assumptions**', '', ...e.assumptions.map((a) => `- ${a}`));
    if (report.trainTime?.assumptions.length)
      lines.push('', ...report.trainTime.assumptions.map((a) => `- ${a}`));
  }
  return lines.join('\n');
}

function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return String(n);
}

/** Why the smallest memory is below the peak: a capped process still completes. */
const EXPANDABLE_WHY =
  'what the run needs with expandable segments (the runner sets them; nvidia-smi on a larger card can show more, pages the allocator keeps while nothing else asks)';
const MINIMUM_WHY =
  'completes in ≥ this per GPU (the allocator gives back its cache under pressure)';

/** JSON keys are snake_case: the parts whose name is not one word. */
const JSON_PART_KEYS: Partial<Record<MemoryPart, string>> = { kvCache: 'kv_cache' };

/** The stable JSON shape of `tunelab estimate --format json` (spec/cli.md). */
export function estimateJson(report: EstimateReport) {
  const e = report.estimate;
  const f = e.finalEvaluation;
  return {
    model: {
      id: report.model.id,
      params_total: report.model.paramsTotal,
      source: report.model.source,
    },
    method: e.method,
    params_trainable: e.paramsTrainable,
    bytes: Object.fromEntries(MEMORY_PARTS.map((p) => [JSON_PART_KEYS[p] ?? p, e.bytes[p]])),
    per_gpu_bytes: e.perGpuBytes,
    minimum_bytes: e.minimumBytes,
    minimum_gib: Math.round((e.minimumBytes / 1024 ** 3) * 100) / 100,
    num_gpus: e.numGpus,
    gpu: e.gpu ? { id: e.gpu.id, memory_bytes: e.gpu.memoryBytes } : null,
    fits: e.fits ?? null,
    unknown_gpu: report.unknownGpu ?? null,
    phases: {
      training: e.runPhases.training,
      evaluation: e.runPhases.evaluation ?? null,
      export: e.runPhases.export ?? null,
      final_evaluation: e.runPhases.finalEvaluation ?? null,
    },
    export: e.export ? { what: e.export.words, only_if_it_fits: e.export.onlyIfItFits } : null,
    peak_phase: e.peakRunPhase === 'final-evaluation' ? 'final_evaluation' : e.peakRunPhase,
    tokens_per_micro_batch: e.tokensPerStep,
    token_source: report.tokenSource,
    eval_tokens_per_batch: e.evaluation?.tokens ?? null,
    final_evaluation: f
      ? {
          step: f.step,
          batch: f.batch,
          tokens: f.tokens,
          prompt_tokens: f.generation?.promptTokens ?? null,
          max_new_tokens: f.generation?.maxNewTokens ?? null,
          sequences: f.generation?.sequences ?? null,
          kv_cache_bytes: f.generation?.kvCacheBytes ?? null,
        }
      : null,
    train_time: {
      tokens: report.trainTime?.tokens ?? 0,
      seconds_estimate: report.trainTime ? Math.round(report.trainTime.seconds) : 0,
      steps: report.trainTime?.steps ?? 0,
      seconds_low: report.trainTime ? Math.round(report.trainTime.secondsLow) : 0,
      seconds_high: report.trainTime ? Math.round(report.trainTime.secondsHigh) : 0,
      uncertainty: report.trainTime?.uncertainty ?? null,
      cost: report.trainTime?.cost ?? null,
      host_pace: report.trainTime?.hostPace ?? null,
    },
  };
}

/** The text table of `tunelab estimate`. */
export function estimateText(report: EstimateReport): string {
  const e = report.estimate;
  const rows = shownParts(e).map(
    (p) => `  ${partLabel(p).padEnd(12)} ${formatGiB(e.bytes[p]).padStart(10)}  ${e.notes[p]}`,
  );
  const lines = [
    `${METHOD_NAMES[e.method]} of ${report.model.id} (${report.model.source}), ${(e.paramsTotal / 1e9).toFixed(2)} B params, ${formatCount(e.paramsTrainable)} trainable`,
    ...rows,
    `  ${'peak'.padEnd(12)} ${formatGiB(e.perGpuBytes).padStart(10)}  per GPU on ${gpuLabel(e)}: ${verdict(e, report.unknownGpu)}`,
    `  ${'smallest'.padEnd(12)} ${formatGiB(e.minimumBytes).padStart(10)}  ${MINIMUM_WHY}`,
  ];
  const phase = phaseSentence(e);
  if (phase) lines.push(`  ${phase}`);
  const rowLength = e.assumptions.find((a) => a.startsWith('row length: '));
  if (rowLength) lines.push(`  ${rowLength}`);
  lines.push(`  token counts: ${report.tokenSource}`);
  if (report.trainTime) {
    lines.push(
      `  time ≈ ${formatDuration(report.trainTime.seconds)} (±${Math.round(report.trainTime.uncertainty * 100)}%) for ${report.trainTime.steps.toLocaleString('en-US')} steps, ${formatCount(report.trainTime.tokens)} tokens`,
    );
    if (report.trainTime.cost) lines.push(`  ${costSentence(report.trainTime)}`);
    const pace = report.trainTime.hostPace;
    if (pace)
      lines.push(
        `  host pace ×${pace.pace.toFixed(2)}: learnt on ${pace.target} from ${pace.basis === 'config' ? "this config's own " : ''}${pace.runs} timed run${pace.runs === 1 ? '' : 's'}`,
      );
  }
  if (report.recommendation && report.recommendation.method !== e.method) {
    lines.push(
      `  recommended: ${METHOD_NAMES[report.recommendation.method]}: ${report.recommendation.reason}`,
    );
  }
  return lines.join('\n');
}

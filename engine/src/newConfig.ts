// The pure half of "new config": the text of a config made from a template,
// adapted to the chosen base model, GPU and method, and the method the
// estimate recommends. Reading the templates folder and writing the files is
// launch/src/newConfig.ts; `tunelab new` and the editor's wizard share both.
//
// What `new` quotes is the estimate of the very text it writes: each variant
// is adapted first (model, GPU, precision, fitted batch), then analysed, and
// the choice between methods compares those analyses. Every value it changes
// gets a comment written with it, so no template comment outlives its value.

import { chainEdits, setComment, setKey, applyTextEdits } from './edits';
import { analyze, type Analysis } from './engine';
import {
  cheapestFix,
  chooseMethod,
  formatGiB,
  placeOf,
  type MethodEstimates,
} from './estimate/index';
import type { GpuSpec } from './hardware/types';
import type { ChatTemplateFamily, ModelArchitecture } from './models/types';
import type { Method } from './plan';
import { exactSourceAt, valueAt, type ParsedYaml } from './parse';
import { TIGHT_FRACTION } from './rules/memory/memoryTight';
import { planChangeEdits } from './rules/memory/planChangeEdits';
import type { Path, TextEdit } from './types';

/** Template names the runner knows for each chat family (none: the tokenizer's own). */
const TEMPLATE_FOR_FAMILY: Partial<Record<ChatTemplateFamily, string>> = {
  'llama-3': 'llama-3',
  chatml: 'chatml',
  mistral: 'mistral',
  gemma: 'gemma',
  'phi-3': 'phi-3',
};

export const METHOD_LABELS: Record<Method, string> = {
  full: 'full fine-tuning',
  lora: 'LoRA',
  qlora: 'QLoRA',
};

export interface TemplateTarget {
  model?: ModelArchitecture;
  gpu?: GpuSpec;
  numGpus?: number;
}

/** One variant of a template: its method and its text. */
export interface TemplateSource {
  method: Method;
  text: string;
  fileName: string;
}

export type NewConfigChoice =
  | { ok: true; method: Method; text: string; analysis: Analysis; reason?: string }
  | { ok: false; message: string };

type Step = (p: ParsedYaml) => TextEdit[];

/** Sets a value and the comment beside it together. */
function setWithComment(section: Path, key: string, value: string, comment: string): Step[] {
  return [(p) => setKey(p, section, key, value), (p) => setComment(p, [...section, key], comment)];
}

function modelSteps(model: ModelArchitecture): Step[] {
  const steps = setWithComment(
    ['model'],
    'name_or_path',
    model.id,
    model.kind === 'base'
      ? 'base (non-instruct) model: data.chat_template gives the chat format'
      : 'instruct model: it brings its chat format',
  );
  const chatTemplate = TEMPLATE_FOR_FAMILY[model.chatTemplate] ?? 'model';
  steps.push((p) =>
    valueAt(p.value, ['data', 'chat_template']) !== undefined || model.kind === 'base'
      ? chainEditsOf(p, [
          ...setWithComment(
            ['data'],
            'chat_template',
            chatTemplate,
            chatTemplate === 'model'
              ? "the tokenizer's own chat template"
              : `the ${chatTemplate} chat markup of the model's family`,
          ),
        ])
      : [],
  );
  return steps;
}

function chainEditsOf(p: ParsedYaml, steps: Step[]): TextEdit[] {
  return chainEdits(p.text, steps);
}

/** fp16 mixed precision for a GPU without bfloat16 (what `bf16-unsupported` asks for). */
function fp16Steps(method: Method | undefined): Step[] {
  const full = method === 'full';
  return [
    (p) => {
      const node = exactSourceAt(p.root, ['training', 'bf16']);
      return node?.keyRange ? [{ range: node.keyRange, newText: 'fp16' }] : [];
    },
    (p) => setComment(p, ['training', 'fp16'], 'fp16 mixed precision: this GPU has no bfloat16'),
    (p) =>
      valueAt(p.value, ['model', 'dtype']) === 'bfloat16'
        ? chainEditsOf(
            p,
            setWithComment(
              ['model'],
              'dtype',
              full ? 'float32' : 'float16',
              full
                ? 'fp32 master weights: fp16 mixed precision cannot unscale fp16 gradients'
                : 'fp16 weights: this GPU has no bfloat16',
            ),
          )
        : [],
    (p) =>
      valueAt(p.value, ['quantization', 'bnb_4bit_compute_dtype']) === 'bfloat16'
        ? chainEditsOf(
            p,
            setWithComment(
              ['quantization'],
              'bnb_4bit_compute_dtype',
              'float16',
              'dequantize to fp16 for the matmuls: matches training.fp16',
            ),
          )
        : [],
  ];
}

/**
 * A template's text set to the model, the GPU (and its precision), then
 * fitted under the `memory-tight` threshold with changes that keep the method.
 */
export function adaptTemplate(text: string, fileName: string, target: TemplateTarget): string {
  const { model, gpu, numGpus } = target;
  const steps: Step[] = [];
  if (model) steps.push(...modelSteps(model));
  if (gpu)
    steps.push(
      ...setWithComment(['hardware'], 'gpu', gpu.id, 'the GPU the estimate checks against'),
    );
  if (numGpus && numGpus > 1)
    steps.push(...setWithComment(['hardware'], 'num_gpus', String(numGpus), 'GPUs of one machine'));
  let current = applyTextEdits(text, chainEdits(text, steps));
  const analysis = analyze(current, fileName);
  if (
    analysis.gpu?.bf16 === false &&
    valueAt(analysis.parsed?.value, ['training', 'bf16']) === true
  )
    current = applyTextEdits(current, chainEdits(current, fp16Steps(analysis.plan?.method)));
  return mergeAfterTheRun(fitToGpu(current, fileName), fileName);
}

/**
 * QLoRA's 16-bit merged model that the GPU cannot take would keep the
 * evaluation after training on the CPU (`qlora-merge-on-cpu`): the run keeps
 * its adapter and the merge comes after it.
 */
function mergeAfterTheRun(text: string, fileName: string): string {
  const analysis = analyze(text, fileName);
  if (!analysis.findings.some((f) => f.code === 'qlora-merge-on-cpu')) return text;
  const merged = formatGiB(analysis.estimate?.export?.movedBytes ?? 0);
  const why = `the ${merged} merged model does not fit ${analysis.gpu?.id ?? 'the GPU'}: merging here would keep the evaluation after training on the CPU; merge after the run with \`tunelab export RUN --merge\``;
  return applyTextEdits(text, chainEdits(text, setWithComment(['export'], 'merge', 'false', why)));
}

/**
 * Fits the run under the `memory-tight` threshold without changing the method:
 * the cheapest batch or checkpointing change; else a max_length that still
 * holds the longest example (nothing is cut); else whatever makes it fit at all.
 */
function fitToGpu(text: string, fileName: string): string {
  let current = text;
  const fix = (maxFraction: number): boolean => {
    const { plan, model, gpu, parsed, estimate } = analyze(current, fileName);
    if (!plan || !model || !gpu || !parsed) return false;
    // The run's inputs too (evaluation, row lengths): a written eval batch follows the micro-batch.
    const found = cheapestFix(plan, model, gpu, {
      keepMethod: true,
      maxFraction,
      run: estimate?.run,
    });
    if (found) current = applyTextEdits(current, planChangeEdits(parsed, found.changes));
    return found !== undefined;
  };
  if (roomy(analyze(current, fileName)) || fix(TIGHT_FRACTION)) return current;
  const shorter = shorterMaxLength(analyze(current, fileName));
  if (shorter) {
    current = applyTextEdits(
      current,
      chainEdits(
        current,
        setWithComment(
          ['data'],
          'max_length',
          String(shorter.maxLength),
          `the longest example has about ${shorter.longest} tokens: nothing is cut, and memory stays low`,
        ),
      ),
    );
    if (roomy(analyze(current, fileName)) || fix(TIGHT_FRACTION)) return current;
  }
  fix(1);
  return current;
}

/** The smallest power of two that holds every training example, when below max_length. */
function shorterMaxLength(analysis: Analysis): { maxLength: number; longest: number } | undefined {
  const lengths = analysis.data?.train?.tokenLengths ?? [];
  const current = analysis.plan?.data.maxLength;
  if (!lengths.length || analysis.data?.train?.partial || current === undefined) return undefined;
  const longest = Math.max(...lengths);
  let maxLength = 256;
  while (maxLength < longest) maxLength *= 2;
  return maxLength < current ? { maxLength, longest } : undefined;
}

function needs(analysis: Analysis): string {
  const e = analysis.estimate;
  return e ? `${formatGiB(e.perGpuBytes)} per GPU` : 'an unknown amount';
}

/** Under the threshold of `memory-tight`: what `new` writes must lint clean. */
function roomy(analysis: Analysis): boolean {
  const e = analysis.estimate;
  const gpu = analysis.gpu;
  return !e || !gpu || e.perGpuBytes <= gpu.memoryBytes * TIGHT_FRACTION;
}

/**
 * The config `new` writes: the requested method's variant, or the method the
 * estimates of the adapted variants recommend. Without a model, the default
 * (LoRA) variant's model, or the requested variant's own. Refuses when the
 * config would not fit its GPU, naming a method that does.
 */
export function chooseTemplateConfig(
  variants: readonly TemplateSource[],
  target: TemplateTarget,
  requested?: Method,
): NewConfigChoice {
  const byMethod = new Map(variants.map((v) => [v.method, v]));
  if (requested && !byMethod.has(requested))
    return { ok: false, message: `the template has no ${requested} variant` };
  const reference = byMethod.get(requested ?? 'lora') ?? variants[0];
  if (!reference) return { ok: false, message: 'the template has no variants' };
  const model = target.model ?? analyze(reference.text, reference.fileName).model;
  const adapted = new Map<Method, Analysis>();
  const adapt = (method: Method): Analysis => {
    let analysis = adapted.get(method);
    if (!analysis) {
      const v = byMethod.get(method)!;
      analysis = analyze(adaptTemplate(v.text, v.fileName, { ...target, model }), v.fileName);
      adapted.set(method, analysis);
    }
    return analysis;
  };
  const place = (a: Analysis) =>
    a.gpu
      ? `${a.gpu.id}${a.plan && a.plan.hardware.numGpus > 1 ? ` × ${a.plan.hardware.numGpus}` : ''}`
      : 'the GPU';
  const refuse = (method: Method): NewConfigChoice => {
    const a = adapt(method);
    const lighter = (['full', 'lora', 'qlora'] as Method[]).filter(
      (m) => m !== method && byMethod.has(m) && adapt(m).estimate?.fits && roomy(adapt(m)),
    );
    const alternative = lighter.length
      ? `; ${METHOD_LABELS[lighter[lighter.length - 1]]} fits (${needs(adapt(lighter[lighter.length - 1]))}): use --method ${lighter[lighter.length - 1]}`
      : '; no method of this template fits: choose a GPU with more memory, more GPUs or a smaller model';
    const batch = a.plan?.training.microBatch;
    const why =
      a.estimate?.fits === false
        ? `no smaller batch or gradient checkpointing makes it fit`
        : `above ${Math.round(TIGHT_FRACTION * 100)}% of its memory, too tight to run reliably`;
    return {
      ok: false,
      message: `${METHOD_LABELS[method]} of ${model?.id ?? 'the model'} does not fit ${place(a)}: it needs ${needs(a)} at per-device batch ${batch ?? '?'}, ${why}${alternative}`,
    };
  };
  if (requested) {
    const a = adapt(requested);
    if (a.estimate?.fits === false || !roomy(a)) return refuse(requested);
    return { ok: true, method: requested, text: a.parsed!.text, analysis: a };
  }
  const estimates: MethodEstimates = {};
  for (const method of byMethod.keys()) {
    const a = adapt(method);
    // A tight run is not offered: what `new` writes must not warn.
    estimates[method] = a.estimate && { ...a.estimate, fits: a.estimate.fits && roomy(a) };
  }
  const any = adapt(reference.method);
  const choice = chooseMethod(
    estimates,
    any.data?.train?.rows,
    any.gpu && placeOf(any.gpu, any.plan?.hardware.numGpus ?? 1),
  );
  const chosen = byMethod.has(choice.method) ? adapt(choice.method) : undefined;
  if (!chosen || chosen.estimate?.fits === false || !roomy(chosen)) return refuse(choice.method);
  return {
    ok: true,
    method: choice.method,
    text: chosen.parsed!.text,
    analysis: chosen,
    reason: choice.reason,
  };
}

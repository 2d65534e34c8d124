import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { applyTextEdits, chainEdits, setKey } from '../edits';
import { analyze } from '../engine';
import { findGpu } from '../hardware/gpus';
import { findCatalogModel } from '../models/catalog';
import { planEvaluation } from '../nativePlan';
import type { Plan } from '../plan';
import {
  buildEstimateReport,
  estimateJson,
  estimateLensTitle,
  estimateMarkdown,
  estimateText,
} from '../report/estimateReport';
import { kvCacheBytesPerToken } from './activations';
import { layoutOf, loraTargets, paramGroups } from './arch';
import { finalEvaluationPeak } from './generation';
import { estimateMemory, formatGiB, makePlan, MEMORY_PARTS, type RunInputs } from './index';
import { type PlanOverrides } from './plan-defaults';
import { resolveSettings } from './settings';
import { stateBytes } from './states';

const llama8 = findCatalogModel('meta-llama/Llama-3.1-8B')!;
const llama1 = findCatalogModel('meta-llama/Llama-3.2-1B')!;
const H100 = findGpu('H100-80GB')!;
const GiB = 1024 ** 3;

/** Eval rows of these token lengths, as the data summary gives them (ascending). */
function run(evalLengths: number[] | undefined, o: Partial<RunInputs> = {}): RunInputs {
  return {
    evaluates: false,
    evalBatch: undefined,
    train: undefined,
    eval: evalLengths && { sorted: evalLengths, partial: false },
    charsPerToken: 3.6,
    ...o,
  };
}

/** A plan with an eval file and an `evaluation:` section read as a config's would be. */
function evaluating(
  overrides: PlanOverrides,
  section: Record<string, unknown>,
  data: Partial<Plan['data']> = {},
): Plan {
  // PyTorch's default allocator: the phases compared here were sized with its reserve
  const plan = makePlan({
    maxLength: 2048,
    packing: true,
    checkpointing: true,
    expandableSegments: false,
    ...overrides,
  });
  const withData = { ...plan.data, evalFile: 'data/eval.jsonl', ...data };
  return {
    ...plan,
    data: withData,
    evaluation: planEvaluation(section, withData.evalFile, withData.generalDataFile),
  };
}

const LONG_REPLIES = { generation: { max_new_tokens: 8192 } };

describe('evaluation after training: generation', () => {
  it('sets the peak with 32 sequences × 8,192 new tokens on an 8B LoRA, by its KV cache', () => {
    const plan = evaluating({ method: 'lora', microBatch: 4 }, LONG_REPLIES);
    const e = estimateMemory(plan, llama8, H100, { run: run([120, 300, 642], { evalBatch: 32 }) });
    assert.equal(e.peakRunPhase, 'final-evaluation');
    assert.equal(e.finalEvaluation?.step, 'generation');
    assert.equal(e.perGpuBytes, e.runPhases.finalEvaluation);
    assert.ok(e.runPhases.finalEvaluation! > e.runPhases.training);
    // K and V × 32 layers × 8 kv heads × 128 × bf16 = 128 KiB per token per sequence,
    // over the longest eval row (642) + 8,192 new tokens, + one layer's copy in torch.cat.
    const perToken = 2 * 32 * 8 * 128 * 2;
    assert.equal(kvCacheBytesPerToken(layoutOf(llama8), resolveSettings(plan)), perToken);
    const kv = perToken * 32 * (642 + 8192) * (1 + 1 / 32);
    assert.equal(e.bytes.kvCache, Math.round(kv));
    assert.ok(e.bytes.kvCache > 35 * GiB);
    assert.deepEqual(e.finalEvaluation?.generation, {
      promptTokens: 642,
      maxNewTokens: 8192,
      sequences: 32,
      kvCacheBytes: Math.round(kv),
    });
    assert.equal(e.bytes.gradients, 0, 'the runner drops the gradients before evaluating');
    assert.equal(e.bytes.optimizer, 0, 'and the optimizer with its states');
    // One position's logits per step: the model's bf16 and generate's fp32 copy.
    assert.equal(e.bytes.logits, 6 * 128256 * 32);
    assert.equal(
      MEMORY_PARTS.reduce((a, p) => a + e.bytes[p], 0),
      e.perGpuBytes,
    );
    assert.match(e.notes.weights, /peak at evaluation after training \(generation\)/);
    assert.match(e.notes.kvCache, /DynamicCache.*128 KiB per token.*642 prompt \+ 8192 new/);
    assert.equal(e.fits, true);
    // Tensors and context: the allocator's slack after its cache was emptied is not measured.
    assert.ok(e.minimumBytes >= e.perGpuBytes - e.bytes.overhead);
    assert.ok(e.minimumBytes < e.perGpuBytes);
  });

  it('does not set the peak at the templates’ 256 new tokens and batch 4: training does', () => {
    const plan = evaluating(
      { method: 'lora', microBatch: 4 },
      { generation: { max_new_tokens: 256 } },
    );
    const withEval = estimateMemory(plan, llama8, H100, { run: run([120, 642]) });
    const trainingOnly = estimateMemory(plan, llama8, H100);
    assert.equal(withEval.peakRunPhase, 'training');
    assert.equal(withEval.perGpuBytes, trainingOnly.perGpuBytes);
    assert.equal(withEval.bytes.kvCache, 0);
    assert.equal(trainingOnly.finalEvaluation, undefined, 'no run inputs: training only');
    const g = withEval.finalEvaluation?.generation;
    assert.equal(g?.kvCacheBytes, Math.round(2 * 32 * 8 * 128 * 2 * 4 * (642 + 256) * (33 / 32)));
    assert.match(withEval.notes.kvCache, /generating replies after training holds 0\.5 GiB/);
    assert.ok(
      withEval.assumptions.some((a) =>
        /^evaluation after training peaks at .*: below training$/.test(a),
      ),
    );
  });

  it('beams multiply the sequences; prompts fall back to max_length when the eval rows are unread', () => {
    const plan = evaluating({ method: 'lora' }, { generation: { num_beams: 4 } });
    const e = estimateMemory(plan, llama1, H100, { run: run(undefined, { evalBatch: 2 }) });
    assert.deepEqual(e.finalEvaluation?.generation, {
      promptTokens: 2048,
      maxNewTokens: 256,
      sequences: 8,
      kvCacheBytes: Math.round(2 * 16 * 8 * 64 * 2 * 8 * (2048 + 256) * (17 / 16)),
    });
  });

  it('QLoRA with prepare_model_for_kbit_training keeps an fp32 cache (k/v follow the fp32 norms)', () => {
    const plan = evaluating({ method: 'qlora' }, LONG_REPLIES);
    assert.equal(kvCacheBytesPerToken(layoutOf(llama8), resolveSettings(plan)), 2 * 32 * 1024 * 4);
    const plain = evaluating({ method: 'qlora', prepareKbit: false }, LONG_REPLIES);
    assert.equal(kvCacheBytesPerToken(layoutOf(llama8), resolveSettings(plain)), 2 * 32 * 1024 * 2);
  });
});

describe('evaluation after training: when it runs and what it counts', () => {
  const inputs = run([100, 400], { evalBatch: 8 });
  const final = (plan: Plan) => estimateMemory(plan, llama1, H100, { run: inputs }).finalEvaluation;

  it('runs for when: end and every_eval on one GPU only', () => {
    assert.ok(final(evaluating({}, { when: 'end' })));
    assert.ok(final(evaluating({}, { when: 'every_eval' })));
    assert.equal(final(evaluating({}, { when: 'on_demand' })), undefined);
    assert.equal(final(evaluating({ numGpus: 2, backend: 'ddp' }, {})), undefined);
    assert.equal(final(makePlan()), undefined, 'no evaluation section');
  });

  it('max_samples 0 and text rows generate nothing: the loss over the eval rows remains', () => {
    const none = final(evaluating({}, { task: { max_samples: 0 } }));
    assert.equal(none?.generation, undefined);
    assert.equal(none?.step, 'task loss');
    assert.equal(none?.tokens, 8 * 400);
    assert.equal(final(evaluating({}, {}, { format: 'text' }))?.generation, undefined);
  });

  it('the loss over the eval rows: 10 B per logit entry (bf16 logits, fp32 copy, log_softmax)', () => {
    const plan = evaluating({ method: 'lora' }, { task: { max_samples: 0 } });
    const e = estimateMemory(plan, llama1, H100, { run: run([100, 5000], { evalBatch: 8 }) });
    assert.equal(e.finalEvaluation?.tokens, 8 * 2048, 'rows truncated at max_length');
    const s = resolveSettings(plan, run([100, 5000], { evalBatch: 8 }));
    const layout = layoutOf(llama1);
    const st = stateBytes(layout, paramGroups(layout), s, loraTargets(layout, 'all-linear'));
    const peak = finalEvaluationPeak(layout, s, s.finalEvaluation!, st);
    assert.equal(peak?.parts.logits, 10 * 128256 * 8 * 2048);
  });

  it('the forgetting measure is named with its max_length bound, not counted, while its file is unread', () => {
    const plan = evaluating(
      { method: 'full' },
      { forgetting: { file: 'data/general.jsonl' }, task: { max_samples: 0 } },
    );
    const e = estimateMemory(plan, llama1, H100, { run: inputs });
    assert.equal(e.finalEvaluation?.step, 'task loss');
    const bound = e.assumptions.find((a) => a.startsWith('forgetting measure after training'));
    assert.match(bound ?? '', /max_length \(2048\).*base loaded beside the tuned model/);
    const forgettingOnly = evaluating(
      {},
      { forgetting: {} },
      {
        evalFile: undefined,
        generalDataFile: 'data/general.jsonl',
      },
    );
    assert.equal(final(forgettingOnly), undefined, 'nothing counted: no phase');
  });

  it('counted once its lengths are known: a full fine-tune loads the base beside the tuned model', () => {
    const plan = evaluating(
      { method: 'full' },
      { forgetting: { file: 'data/general.jsonl' }, task: { max_samples: 0 } },
    );
    const known = run([100, 400], {
      evalBatch: 8,
      forgetting: { sorted: [50, 3000], partial: false },
    });
    const s = resolveSettings(plan, known);
    assert.deepEqual(s.finalEvaluation?.forgetting, {
      seqLen: 2048,
      rows: 2,
      lengthsKnown: true,
      loadsBase: true,
    });
    const layout = layoutOf(llama1);
    const st = stateBytes(layout, paramGroups(layout), s, []);
    const peak = finalEvaluationPeak(layout, s, s.finalEvaluation!, st);
    assert.equal(peak?.summary.step, 'forgetting');
    assert.equal(peak?.parts.weights, 2 * st.baseWeights);
    assert.equal(
      peak?.parts.logits,
      10 * 128256 * 2 * 2048,
      '2 rows scored, the longer cut at max_length',
    );
    assert.match(peak?.notes.weights ?? '', /base loaded beside it/);
    const e = estimateMemory(plan, llama1, H100, { run: known });
    assert.ok(!e.assumptions.some((a) => a.startsWith('forgetting measure after training')));
  });
});

describe('evaluation after training in every view of the estimate', () => {
  const FILE = path.resolve(
    __dirname,
    '..',
    '..',
    '..',
    'templates',
    'telecom-support',
    'lora.finetune.yaml',
  );
  /** The template with an eval batch and max_new_tokens, and eval_strategy as given. */
  function analysed(
    evalBatch: string,
    maxNewTokens: string,
    evalStrategy = 'steps',
    allocator?: string,
  ) {
    const base = fs.readFileSync(FILE, 'utf8');
    const text = applyTextEdits(
      base,
      chainEdits(base, [
        (p) => setKey(p, ['training'], 'per_device_eval_batch_size', evalBatch),
        (p) => setKey(p, ['training'], 'eval_strategy', evalStrategy),
        (p) => setKey(p, ['evaluation', 'generation'], 'max_new_tokens', maxNewTokens),
        ...(allocator
          ? [
              (p: Parameters<typeof setKey>[0]) =>
                setKey(p, ['launch', 'env'], 'PYTORCH_CUDA_ALLOC_CONF', allocator),
            ]
          : []),
      ]),
    );
    assert.ok(text.includes(`max_new_tokens: ${maxNewTokens}`));
    const report = buildEstimateReport(analyze(text, FILE));
    assert.ok(report);
    return report;
  }

  it('generation sets the peak: one figure in the lens, hover, breakdown, text and JSON', () => {
    // No evaluation during training (packed rows of 32 × 2048 would set the peak):
    // evaluation.when: end still generates once training is done.
    const report = analysed('32', '8192', 'no');
    const e = report.estimate;
    assert.equal(e.peakRunPhase, 'final-evaluation');
    const figure = formatGiB(e.perGpuBytes);
    const kv = formatGiB(e.bytes.kvCache);
    const lens = estimateLensTitle(report);
    assert.ok(lens.startsWith(`≈ ${figure}/GPU (generation) on 1× H100-80GB`), lens);
    const hover = estimateMarkdown(report);
    assert.ok(hover.includes(`| kv cache | ${kv} |`) && hover.includes(`**${figure}**`), hover);
    assert.ok(hover.includes('Peak at evaluation after training (generation: 32 sequences'), hover);
    const breakdown = estimateMarkdown(report, true);
    assert.ok(breakdown.includes(`| kv cache | ${kv} | DynamicCache`), breakdown);
    const text = estimateText(report);
    assert.ok(text.includes(figure) && text.includes('peak at evaluation after training'), text);
    assert.match(text, new RegExp(`kv cache +${kv.replace('.', '\\.')}`));
    const json = estimateJson(report);
    assert.equal(json.per_gpu_bytes, e.perGpuBytes);
    assert.equal(json.peak_phase, 'final_evaluation');
    assert.equal(json.phases.final_evaluation, json.per_gpu_bytes);
    assert.equal(json.bytes.kv_cache, e.bytes.kvCache);
    assert.equal(
      json.final_evaluation?.kv_cache_bytes,
      e.finalEvaluation?.generation?.kvCacheBytes,
    );
    assert.equal(json.final_evaluation?.max_new_tokens, 8192);
    assert.equal(
      Object.values(json.bytes).reduce((a, b) => a + b, 0),
      json.per_gpu_bytes,
    );
  });

  it('as shipped (expandable segments) the template peaks at the forgetting measure after training', () => {
    const e = analysed('4', '256').estimate;
    // export.merge: true and data/general.jsonl read: the base loaded beside the merged model,
    // above training once no cached logits block sits over training's tensors.
    assert.equal(e.peakRunPhase, 'final-evaluation');
    assert.equal(e.finalEvaluation?.step, 'forgetting');
    assert.equal(e.perGpuBytes, e.runPhases.finalEvaluation);
  });

  it("with PyTorch's default allocator the template peaks in training; the views name the evaluation after training beside it", () => {
    const report = analysed('4', '256', 'steps', 'expandable_segments:False');
    const e = report.estimate;
    assert.equal(e.peakRunPhase, 'training');
    // export.merge: true and data/general.jsonl read: the base loaded beside the merged model.
    assert.equal(e.finalEvaluation?.step, 'forgetting');
    assert.ok(e.runPhases.finalEvaluation! > 30 * GiB);
    assert.ok(!estimateLensTitle(report).includes('('), estimateLensTitle(report));
    assert.ok(!estimateMarkdown(report).includes('kv cache'), 'no KV cache row at a training peak');
    const final = formatGiB(e.runPhases.finalEvaluation!);
    assert.ok(estimateText(report).includes(`evaluation after training (`), estimateText(report));
    assert.ok(estimateText(report).includes(`peaks at ${final}`));
    const json = estimateJson(report);
    assert.equal(json.peak_phase, 'training');
    assert.equal(json.bytes.kv_cache, 0);
    assert.ok(json.phases.final_evaluation! < json.per_gpu_bytes);
  });
});

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
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
import type { DataFileSummary } from '../data/types';
import { finalEvaluationPeak } from './generation';
import { runInputsOf } from './inputs';
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
  const plan = makePlan({ maxLength: 2048, packing: true, checkpointing: true, ...overrides });
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

describe('the forgetting measure read from its file', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tunelab-forgetting-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const chat = (chars: number) =>
    JSON.stringify({
      messages: [
        { role: 'user', content: 'q'.repeat(chars) },
        { role: 'assistant', content: 'a' },
      ],
    });
  /** A full fine-tune of a 1B on its own folder's files; its eval rows are about 830 tokens. */
  function analysed(generalRows: string[], forgetting: string, data = '') {
    const folder = fs.mkdtempSync(path.join(dir, 'run-'));
    fs.mkdirSync(path.join(folder, 'data'));
    const write = (name: string, rows: string[]) =>
      fs.writeFileSync(path.join(folder, 'data', name), rows.join('\n') + '\n');
    write('train.jsonl', [chat(400), chat(400)]);
    write(
      'eval.jsonl',
      Array.from({ length: 10 }, () => chat(3000)),
    );
    write('general.jsonl', generalRows);
    const text = `method: full
model: { name_or_path: meta-llama/Llama-3.2-1B, dtype: bfloat16 }
data: { train_file: data/train.jsonl, eval_file: data/eval.jsonl, max_length: 2048, packing: true${data} }
training: { per_device_train_batch_size: 1, per_device_eval_batch_size: 8, gradient_checkpointing: true, bf16: true }
evaluation: { task: { max_samples: 0 }${forgetting} }
hardware: { gpu: H100-80GB }
`;
    const file = path.join(folder, 'run.finetune.yaml');
    const analysis = analyze(text, file, { hubCacheDir: folder });
    assert.ok(analysis.estimate);
    return { analysis, e: analysis.estimate };
  }
  const generalRows = (long: number) => [
    ...Array.from({ length: 2 }, () => chat(200)),
    ...Array.from({ length: long }, () => JSON.stringify({ text: 'w'.repeat(9000) })),
  ];
  const FILE = ', forgetting: { file: data/general.jsonl }';
  const withoutForgetting = analysed(generalRows(8), '').e;

  it('long general rows: the forgetting forward (8 × 2048 tokens, the base beside) sets the peak', () => {
    const { analysis, e } = analysed(generalRows(8), FILE);
    assert.equal(analysis.data?.forgetting?.rows, 10);
    assert.equal(e.run?.forgetting?.sorted.length, 10);
    assert.equal(e.finalEvaluation?.step, 'forgetting');
    assert.equal(e.finalEvaluation?.tokens, 8 * 2048, 'rows of ~2,500 tokens cut at max_length');
    assert.equal(withoutForgetting.finalEvaluation?.step, 'task loss');
    assert.ok(
      e.runPhases.finalEvaluation! > withoutForgetting.runPhases.finalEvaluation! + 10 * GiB,
    );
    assert.equal(e.peakRunPhase, 'final-evaluation');
    assert.match(
      e.notes.weights,
      /base loaded beside it.*peak at evaluation after training \(forgetting\)/,
    );
    assert.ok(!e.assumptions.some((a) => a.startsWith('forgetting measure after training')));
  });

  it('short general rows, or only the short first ones scored: the task loss sets the phase', () => {
    const short = analysed(generalRows(0), FILE).e;
    const firstTwo = analysed(
      generalRows(8),
      ', forgetting: { file: data/general.jsonl, max_samples: 2 }',
    ).e;
    for (const e of [short, firstTwo]) {
      assert.deepEqual(e.run?.forgetting?.sorted.length, 2);
      assert.equal(e.finalEvaluation?.step, 'task loss');
      assert.equal(e.runPhases.finalEvaluation, withoutForgetting.runPhases.finalEvaluation);
    }
  });

  it('longer general rows never lower the phase: its peak step is chosen by device bytes', () => {
    // The task loss's larger logits leave a reserve that can outweigh the base
    // the forgetting measure loads beside a full fine-tune.
    const plan = evaluating(
      { method: 'full' },
      { forgetting: { file: 'data/general.jsonl' }, task: { max_samples: 0 } },
    );
    let last = { bytes: 0, minimum: 0 };
    const steps = new Set<string>();
    for (let longest = 100; longest <= 2048; longest += 4) {
      const inputs = run([1000], {
        evalBatch: 8,
        forgetting: { sorted: Array<number>(8).fill(longest), partial: false },
      });
      const e = estimateMemory(plan, llama1, H100, { run: inputs });
      steps.add(e.finalEvaluation!.step);
      assert.ok(e.runPhases.finalEvaluation! >= last.bytes, `at ${longest} tokens`);
      assert.ok(e.minimumBytes >= last.minimum, `smallest memory at ${longest} tokens`);
      last = { bytes: e.runPhases.finalEvaluation!, minimum: e.minimumBytes };
    }
    assert.deepEqual([...steps], ['task loss', 'forgetting']);
  });

  it('a file of its own that was not read is not taken for the general file', () => {
    const general: DataFileSummary = {
      ...{ path: '/g.jsonl', exists: true, rows: 3, partial: false, sizeBytes: 1, badLines: 0 },
      tokenLengths: [300, 100, 200],
    };
    const inputs = (forgetting: Record<string, unknown>) =>
      runInputsOf(
        { data: { general_data: { file: '/g.jsonl' } }, evaluation: { forgetting } },
        { general },
      );
    assert.deepEqual(inputs({}).forgetting, { sorted: [100, 200, 300], partial: false });
    assert.deepEqual(inputs({ max_samples: 2 }).forgetting?.sorted, [100, 300], 'the first rows');
    assert.equal(inputs({ file: 'held-out.jsonl' }).forgetting, undefined);
  });

  it('data.general_data.file, its default: one summary for both, counted the same', () => {
    const { analysis, e } = analysed(
      generalRows(8),
      ', forgetting: {}',
      ', general_data: { file: data/general.jsonl, ratio: 0.05 }',
    );
    assert.ok(analysis.data?.general);
    assert.equal(analysis.data?.forgetting, analysis.data?.general, 'read once');
    assert.equal(e.finalEvaluation?.step, 'forgetting');
    assert.equal(e.finalEvaluation?.tokens, 8 * 2048);
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
  function analysed(evalBatch: string, maxNewTokens: string, evalStrategy = 'steps') {
    const base = fs.readFileSync(FILE, 'utf8');
    const text = applyTextEdits(
      base,
      chainEdits(base, [
        (p) => setKey(p, ['training'], 'per_device_eval_batch_size', evalBatch),
        (p) => setKey(p, ['training'], 'eval_strategy', evalStrategy),
        (p) => setKey(p, ['evaluation', 'generation'], 'max_new_tokens', maxNewTokens),
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

  it('the template as shipped peaks in training; the views name the evaluation after training beside it', () => {
    const report = analysed('4', '256');
    const e = report.estimate;
    assert.equal(e.peakRunPhase, 'training');
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

// The forgetting measure of the evaluation after training (generation.ts):
// counted from the rows of its file, and the base it loads beside a model
// with no adapter to switch off (full fine-tuning, export.merge).

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import type { DataFileSummary } from '../data/types';
import { analyze } from '../engine';
import { findGpu } from '../hardware/gpus';
import { findCatalogModel } from '../models/catalog';
import { planEvaluation } from '../nativePlan';
import type { Plan } from '../plan';
import { layoutOf, loraTargets, paramGroups } from './arch';
import { finalEvaluationPeak } from './generation';
import { estimateMemory, makePlan, type RunInputs } from './index';
import { runInputsOf } from './inputs';
import { type PlanOverrides } from './plan-defaults';
import { resolveSettings } from './settings';
import { stateBytes } from './states';

const llama8 = findCatalogModel('meta-llama/Llama-3.1-8B')!;
const llama1 = findCatalogModel('meta-llama/Llama-3.2-1B')!;
const H100 = findGpu('H100-80GB')!;
const GiB = 1024 ** 3;

/** Eval rows of these token lengths, as the data summary gives them (ascending). */
function run(evalLengths: number[], o: Partial<RunInputs> = {}): RunInputs {
  return {
    evaluates: false,
    evalBatch: undefined,
    train: undefined,
    eval: { sorted: evalLengths, partial: false },
    charsPerToken: 3.6,
    ...o,
  };
}

/** A plan with an eval file and an `evaluation:` section read as a config's would be. */
function evaluating(overrides: PlanOverrides, section: Record<string, unknown>): Plan {
  const plan = makePlan({ maxLength: 2048, packing: true, checkpointing: true, ...overrides });
  const data = { ...plan.data, evalFile: 'data/eval.jsonl' };
  return { ...plan, data, evaluation: planEvaluation(section, data.evalFile, undefined) };
}

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

describe('export.merge before the evaluation after training', () => {
  const general = { sorted: Array<number>(8).fill(600), partial: false };
  const inputs = run([100, 400], { evalBatch: 8, forgetting: general });
  const SECTION = { forgetting: { file: 'data/general.jsonl' }, task: { max_samples: 0 } };
  const withMerge = (method: 'lora' | 'qlora', merge: boolean | undefined): Plan => ({
    ...evaluating({ method }, SECTION),
    ...(merge === undefined ? {} : { export: { merge } }),
  });
  const final = (plan: Plan) => {
    const s = resolveSettings(plan, inputs);
    const layout = layoutOf(llama8);
    const st = stateBytes(layout, paramGroups(layout), s, loraTargets(layout, s.lora!.targets));
    const e = estimateMemory(plan, llama8, H100, { run: inputs });
    return {
      fe: s.finalEvaluation!,
      st,
      peak: finalEvaluationPeak(layout, s, s.finalEvaluation!, st)!,
      e,
    };
  };

  it('the native plan keeps export.merge as written (the runner: merge only for full)', () => {
    const text = (exp: string) =>
      `method: lora\nmodel: { name_or_path: meta-llama/Llama-3.1-8B }\nlora: { r: 8 }\n${exp}`;
    const planOf = (exp: string) => analyze(text(exp), '/virtual/m.finetune.yaml').plan;
    assert.deepEqual(planOf('export: { merge: true }\n')?.export, { merge: true });
    assert.deepEqual(planOf('export: { merge: false }\n')?.export, { merge: false });
    assert.equal(planOf('export: { adapter: true }\n')?.export, undefined);
    assert.deepEqual(planOf('export: { merge: true }\n')?.where['export.merge'], [
      'export',
      'merge',
    ]);
  });

  it('LoRA merged in place: no adapter left, and the forgetting measure loads the base beside it', () => {
    const { fe, st, peak, e } = final(withMerge('lora', true));
    assert.equal(fe.merged, 'in-place');
    assert.equal(fe.forgetting?.loadsBase, true);
    assert.equal(peak.summary.step, 'forgetting');
    assert.equal(peak.parts.weights, 2 * st.baseWeights);
    assert.equal(peak.parts.adapter, 0);
    assert.match(peak.notes.weights ?? '', /export\.merge merged the adapter/);
    assert.ok(!e.assumptions.some((a) => a.includes('would merge it first')));
  });

  it('LoRA not merged (the default): the adapter is switched off, the merge named with its cost', () => {
    for (const plan of [withMerge('lora', false), withMerge('lora', undefined)]) {
      const { fe, st, peak, e } = final(plan);
      assert.equal(fe.merged, undefined);
      assert.equal(peak.parts.weights, st.baseWeights);
      assert.equal(peak.parts.adapter, st.adapter);
      assert.ok(
        e.assumptions.some((a) => /export\.merge: true would merge it first.*\+15\.0 GiB/.test(a)),
      );
    }
  });

  it('QLoRA merged: the 4-bit base loaded beside the 4-bit model, the 16-bit merged model named', () => {
    const plan = withMerge('qlora', true);
    const { fe, st, peak, e } = final(plan);
    assert.equal(fe.merged, 'reloaded');
    // evaluate.load_base: quantized, but not prepared: embeddings and norms stay 16-bit.
    const layout = layoutOf(llama8);
    const unprepared = { ...resolveSettings(plan, inputs), prepareKbit: false };
    const loaded = stateBytes(layout, paramGroups(layout), unprepared, []).baseWeights;
    assert.ok(loaded < st.baseWeights - 1.5 * GiB);
    assert.equal(peak.parts.weights, st.baseWeights + loaded);
    assert.equal(peak.parts.adapter, st.adapter, 'the Trainer still holds the trained model');
    assert.ok(
      e.assumptions.some((a) =>
        /^export\.merge on QLoRA: .*16-bit merged model \(≈ 15\.0 GiB/.test(a),
      ),
    );
  });
});

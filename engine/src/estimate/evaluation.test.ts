import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findGpu } from '../hardware/gpus';
import { findCatalogModel } from '../models/catalog';
import { planEvaluation } from '../nativePlan';
import {
  estimateMemory,
  expectedLongestOf,
  makePlan,
  MEMORY_PARTS,
  runInputsOf,
  type RunInputs,
} from './index';

const llama1 = findCatalogModel('meta-llama/Llama-3.2-1B')!;
const H100 = findGpu('H100-80GB')!;
const GiB = 1024 ** 3;

function run(o: Partial<RunInputs> = {}): RunInputs {
  return {
    evaluates: true,
    evalBatch: undefined,
    train: undefined,
    eval: undefined,
    charsPerToken: 3.6,
    ...o,
  };
}

const packed = makePlan({ method: 'lora', maxLength: 2048, microBatch: 1, packing: true });

describe('evaluation phase', () => {
  it('sets the peak with HF eval batch 8 on a packed config, by the eval logits', () => {
    const e = estimateMemory(packed, llama1, H100, { run: run({ evalBatch: 8 }) });
    assert.equal(e.peakRunPhase, 'evaluation');
    assert.ok(e.runPhases.evaluation !== undefined);
    assert.equal(e.perGpuBytes, e.runPhases.evaluation);
    assert.ok(e.runPhases.evaluation > e.runPhases.training + 5 * GiB);
    assert.equal(e.evaluation?.tokens, 8 * 2048);
    // 10 B per vocabulary entry per token: bf16 logits, the fp32 upcast, log_softmax.
    assert.equal(e.bytes.logits, Math.round(10 * 128256 * 8 * 2048));
    assert.equal(e.bytes.gradients, 0, 'gradients are freed before evaluation');
    assert.equal(
      MEMORY_PARTS.reduce((a, p) => a + e.bytes[p], 0),
      e.perGpuBytes,
    );
    assert.match(e.notes.weights, /peak at evaluation/);
    assert.match(e.notes.logits, /per_device_eval_batch_size/);
  });

  it('does not set the peak with eval batch 1, and training-only figures are unchanged', () => {
    const trainingOnly = estimateMemory(packed, llama1, H100);
    const e = estimateMemory(packed, llama1, H100, { run: run({ evalBatch: 1 }) });
    assert.equal(e.peakRunPhase, 'training');
    assert.equal(e.perGpuBytes, trainingOnly.perGpuBytes);
    assert.ok(e.runPhases.evaluation! < e.runPhases.training);
    assert.ok(e.assumptions.some((a) => a.startsWith('evaluation peaks at')));
  });

  it('an unset eval batch follows the training micro-batch (the runner default)', () => {
    const plan = makePlan({ method: 'lora', maxLength: 2048, microBatch: 2, packing: true });
    const e = estimateMemory(plan, llama1, H100, { run: run() });
    assert.equal(e.evaluation?.batch, 2);
    assert.equal(e.peakRunPhase, 'training');
  });

  it('is a phase apart from the evaluation after training, whose figure it does not change', () => {
    const section = planEvaluation({ when: 'end' }, 'data/eval.jsonl', undefined);
    const withSection = {
      ...packed,
      data: { ...packed.data, evalFile: 'data/eval.jsonl' },
      evaluation: section,
    };
    const inputs = run({ evalBatch: 8, eval: { sorted: [200, 600], partial: false } });
    const e = estimateMemory(withSection, llama1, H100, { run: inputs });
    const trainerOnly = estimateMemory(packed, llama1, H100, { run: inputs });
    assert.equal(e.runPhases.evaluation, trainerOnly.runPhases.evaluation);
    assert.equal(trainerOnly.runPhases.finalEvaluation, undefined);
    // The runner scores the eval rows as they are (600 tokens), the Trainer packed rows of 2048.
    assert.equal(e.finalEvaluation?.step, 'task loss');
    assert.equal(e.finalEvaluation?.tokens, 8 * 600);
    assert.ok(e.runPhases.finalEvaluation! < e.runPhases.evaluation!);
    assert.equal(e.peakRunPhase, 'evaluation');
    assert.equal(e.perGpuBytes, trainerOnly.perGpuBytes);
  });

  it('is absent when the config does not evaluate', () => {
    const e = estimateMemory(packed, llama1, H100, {
      run: run({ evaluates: false, evalBatch: 8 }),
    });
    assert.equal(e.runPhases.evaluation, undefined);
    assert.equal(e.evaluation, undefined);
    assert.equal(e.perGpuBytes, estimateMemory(packed, llama1, H100).perGpuBytes);
  });
});

describe('row length of unpacked runs', () => {
  const unpacked = makePlan({ method: 'lora', maxLength: 2048, microBatch: 4, packing: false });
  const lengths = (sorted: number[]) => ({ sorted, partial: false });

  it("follows the data's longest sample", () => {
    const e = estimateMemory(unpacked, llama1, H100, {
      run: run({ evaluates: false, train: lengths([120, 300, 576]) }),
    });
    assert.equal(e.tokensPerStep, 4 * 576);
    assert.equal(e.seqLen, 576);
    const atMax = estimateMemory(unpacked, llama1, H100);
    assert.ok(e.perGpuBytes < atMax.perGpuBytes * 0.75);
    assert.match(e.assumptions[0], /longest row, 576 tokens.*chars-per-token 3\.6/);
  });

  it('caps the longest sample at max_length', () => {
    const e = estimateMemory(unpacked, llama1, H100, {
      run: run({ evaluates: false, train: lengths([100, 5000]) }),
    });
    assert.equal(e.tokensPerStep, 4 * 2048);
  });

  it('falls back to max_length when the data cannot be read, and says so', () => {
    const e = estimateMemory(unpacked, llama1, H100, {
      run: run({ evaluates: false, trainUnreadable: 'data/train.jsonl not found' }),
    });
    assert.equal(e.tokensPerStep, 4 * 2048);
    assert.match(e.assumptions[0], /data not read \(data\/train\.jsonl not found\)/);
  });

  it('packed rows stay max_length whatever the data', () => {
    const e = estimateMemory(
      { ...unpacked, data: { ...unpacked.data, packing: true } },
      llama1,
      H100,
      {
        run: run({ evaluates: false, train: lengths([100]) }),
      },
    );
    assert.equal(e.tokensPerStep, 4 * 2048);
  });

  it('expected longest of k draws, exactly', () => {
    // Two rows of 1 and 2 tokens, two draws: the max is 1 only when both draw 1 (1/4).
    assert.equal(expectedLongestOf([1, 2], 2, 100), 1 * 0.25 + 2 * 0.75);
    assert.equal(expectedLongestOf([1, 2], 1, 100), 1.5);
    assert.equal(expectedLongestOf([10, 3000], 1, 2048), (10 + 2048) / 2);
  });
});

describe('runInputsOf', () => {
  const config = (training: Record<string, unknown>) => ({
    data: { train_file: 'train.jsonl', eval_file: 'eval.jsonl' },
    training,
  });
  it('evaluates only with an eval file and an eval strategy other than no', () => {
    assert.equal(runInputsOf(config({ eval_strategy: 'steps' }), {}).evaluates, true);
    assert.equal(runInputsOf(config({ evaluation_strategy: 'epoch' }), {}).evaluates, true);
    assert.equal(runInputsOf(config({ eval_strategy: 'no' }), {}).evaluates, false);
    assert.equal(runInputsOf(config({}), {}).evaluates, false, "transformers' default is no");
    assert.equal(
      runInputsOf({ training: { eval_strategy: 'steps' } }, {}).evaluates,
      false,
      'no eval file',
    );
  });
  it('reads the eval batch and says why the data is missing', () => {
    const inputs = runInputsOf(config({ per_device_eval_batch_size: 8 }), {});
    assert.equal(inputs.evalBatch, 8);
    assert.equal(inputs.train, undefined);
    assert.match(inputs.trainUnreadable ?? '', /train\.jsonl not read/);
    assert.equal(runInputsOf(config({ per_device_eval_batch_size: 0 }), {}).evalBatch, undefined);
  });
});

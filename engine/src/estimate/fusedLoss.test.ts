import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { analyze } from '../engine';
import { runInputsOfAnalysis } from '../report/proposal';
import { fusedLossBytes, fusedLossChunkRows, usesFusedLoss, withFusedLoss } from './fusedLoss';
import { estimateMemory } from './memory';

const GiB = 1024 ** 3;
const TEMPLATES = path.resolve(__dirname, '..', '..', '..', 'templates', 'telecom-support');

function analysed(name: string) {
  const file = path.join(TEMPLATES, name);
  const a = analyze(fs.readFileSync(file, 'utf8'), file);
  assert.ok(a.plan && a.model && a.gpu && a.estimate, `${name} analyses with an estimate`);
  return {
    // PyTorch's default allocator: the phases compared here were sized with its reserve
    plan: { ...a.plan, cudaAllocator: { expandableSegments: false } },
    model: a.model,
    gpu: a.gpu,
    run: runInputsOfAnalysis(a),
    before: a.estimate,
  };
}

describe('Liger fused linear cross-entropy', () => {
  it("sizes chunks as Liger's source does", () => {
    // The worked example in fused_linear_cross_entropy.py: BT = 4096*4, V = 32000, H = 4096 → 2048.
    assert.equal(fusedLossChunkRows(4096 * 4, 32000, 4096), 2048);
    // Llama-3 vocab on 8B: inc_factor 32; 8192 tokens → 256 rows.
    assert.equal(fusedLossChunkRows(8192, 128256, 4096), 256);
    // Rounded up to a power of two, never past the tokens' own power of two.
    assert.equal(fusedLossChunkRows(3000, 128256, 4096), 128);
    assert.equal(fusedLossChunkRows(1, 128256, 4096), 1);
  });

  it('the flag round-trips through the plan', () => {
    const { plan } = analysed('lora.finetune.yaml');
    assert.equal(usesFusedLoss(plan), false);
    assert.equal(usesFusedLoss(withFusedLoss(plan, true)), true);
    assert.equal(usesFusedLoss(plan), false, 'the original plan is untouched');
  });

  it("shrinks the 8B LoRA template's fp32 logits to a chunk, evaluation unchanged", () => {
    const { plan, model, gpu, run } = analysed('lora.finetune.yaml');
    const plain = estimateMemory(plan, model, gpu, { run });
    const fused = estimateMemory(withFusedLoss(plan, true), model, gpu, { run });
    // 12 B × 128256 × (4 × 2048) tokens = 11.7 GiB, the figure issue 16 quotes.
    assert.ok(Math.abs(plain.bytes.logits / GiB - 11.7) < 0.1, `${plain.bytes.logits / GiB}`);
    assert.equal(plain.peakRunPhase, 'training');
    // 256 rows × 128256 × 2 B (62.6 MiB) + grad_input 8192 × 4096 × 2 B (64 MiB) + fp32 loss;
    // once the chunk is freed the last layer's backward temporaries (Liger's SwiGLU: the
    // product's gradient, + two residual gradients: 45056 B × 8192 = 352 MiB) outweigh it.
    const chunk = 256 * 128256 * 2;
    const layerBackward = (14336 * 2 + 2 * 2 * 4096) * 8192;
    const expected = Math.max(chunk, layerBackward) + 8192 * 4096 * 2 + 4 * 8192;
    assert.ok(plain.runPhases.training - fused.runPhases.training > 10 * GiB);
    // The run's peak moves to the evaluation after training, whose loss Liger does not fuse:
    // export.merge: true, so the forgetting measure loads the base beside the merged model.
    assert.equal(fused.peakRunPhase, 'final-evaluation');
    assert.equal(fused.runPhases.evaluation, plain.runPhases.evaluation);
    assert.equal(fused.runPhases.finalEvaluation, plain.runPhases.finalEvaluation);
    // Without checkpointing the peak is the start of backward, where the loss's part is reported.
    const saving = { ...plan, training: { ...plan.training, gradientCheckpointing: false } };
    const trainingOnly = estimateMemory(withFusedLoss(saving, true), model, gpu);
    assert.equal(trainingOnly.peakPhase, 'backward-start');
    assert.equal(trainingOnly.bytes.logits, expected);
    assert.match(trainingOnly.notes.logits, /one chunk of 256 × 128256 logits/);
    assert.ok(fused.assumptions.some((a) => a.includes('Liger')));
  });

  it('QLoRA with prepare_model_for_kbit_training: fp32 hidden states make an fp32 grad_input', () => {
    const { plan, model, gpu, run } = analysed('qlora.finetune.yaml');
    assert.ok(plan.prepareKbit);
    const fused = estimateMemory(withFusedLoss(plan, true), model, gpu, { run });
    const plain = estimateMemory(plan, model, gpu, { run });
    assert.ok(fused.runPhases.training < plain.runPhases.training);
    const saving = { ...plan, training: { ...plan.training, gradientCheckpointing: false } };
    const trainingOnly = estimateMemory(withFusedLoss(saving, true), model, gpu);
    assert.equal(trainingOnly.peakPhase, 'backward-start');
    const T = trainingOnly.tokensPerStep;
    const rows = fusedLossChunkRows(T, 128256, 4096);
    const lmHeadCast = 2 * 128256 * 4096; // the frozen fp32 lm_head's bf16 cast
    // the last layer's backward (fp32 MLP and residual: (4 × 14336 + 2 × 4 × 4096) B per token)
    // outweighs the chunk once it is freed
    const layerBackward = (4 * 14336 + 2 * 4 * 4096) * T;
    assert.equal(
      trainingOnly.bytes.logits,
      Math.max(rows * 128256 * 2, layerBackward) + T * 4096 * 4 + 4 * T + lmHeadCast,
    );
  });
});

describe("Liger fused loss: the layers' backward after the chunk", () => {
  it('the bigger of the chunk and the last layer backward is alive with grad_input', () => {
    // 8B, 8192 tokens: chunk 256 × 128256 bf16 = 62.6 MiB
    const small = fusedLossBytes(8192, 128256, 4096, 2, 2, 0, 1024);
    assert.equal(small.total, small.chunk + small.gradInput);
    assert.equal(small.loss, small.total);
    const big = fusedLossBytes(8192, 128256, 4096, 2, 2, 0, 2 * GiB);
    assert.equal(big.total, 2 * GiB + big.gradInput);
    assert.equal(big.loss, big.chunk + big.gradInput, "the loss's own tensors exclude the layer");
    assert.equal(
      fusedLossBytes(8192, 128256, 4096, 2, 2, 0).total,
      small.total,
      'default: no layer',
    );
  });
});

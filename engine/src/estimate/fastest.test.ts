import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { applyTextEdits } from '../edits';
import { analyze } from '../engine';
import { tuneAnalysis, tuneEdits } from '../report/tune';
import { TUNE_MEMORY_FRACTION } from './fastest';

const TEMPLATES = path.resolve(__dirname, '..', '..', '..', 'templates', 'telecom-support');

function analysed(name: string, gpu: string) {
  const file = path.join(TEMPLATES, name);
  return analyze(fs.readFileSync(file, 'utf8'), file, { gpu });
}

const FLEX = { field: 'model.attnImplementation', from: 'sdpa', to: 'flex_attention' };
const LIGER = { field: 'training.useLigerKernel', from: false, to: true };
const COMPILED = [
  { field: 'training.torchCompile', from: false, to: true },
  { field: 'training.ligerLayerKernels', from: true, to: false },
];

function effectiveBatch(t: NonNullable<ReturnType<typeof tuneAnalysis>>) {
  return t.plan.training.microBatch * t.plan.training.gradAccum;
}

describe('fastest that fits (telecom templates)', () => {
  it('8B LoRA on an H100: checkpointing off, same effective batch, under the margin', () => {
    const a = analysed('lora.finetune.yaml', 'H100-80GB');
    const t = tuneAnalysis(a);
    assert.ok(t);
    assert.equal(t.plan.training.gradientCheckpointing, false);
    assert.equal(effectiveBatch(t), 4 * 8);
    assert.ok(t.after.tokensPerSecond > t.before.tokensPerSecond * 1.1, 'faster');
    assert.ok(t.after.peakBytes <= 0.95 * 80 * 1024 ** 3);
    assert.ok(t.after.peakBytes > t.before.peakBytes, 'the speed is bought with memory');
    // Each step quotes tokens/s and memory before → after; the last lands on the result.
    for (const s of t.steps)
      assert.match(s.explanation, /tokens\/s → .* tokens\/s, peak .* GiB → .* GiB/);
    assert.equal(t.steps.at(-1)!.after.peakBytes, t.after.peakBytes);
    // The written config, analysed again, has the figure the search promised.
    const text = applyTextEdits(a.parsed!.text, t.edits);
    const again = analyze(text, path.join(TEMPLATES, 'lora.finetune.yaml'), { gpu: 'H100-80GB' });
    assert.equal(again.estimate?.perGpuBytes, t.after.peakBytes);
    assert.equal(t.checkedPeakBytes, t.after.peakBytes);
    assert.match(text, /gradient_checkpointing: false # recompute activations/, 'comment kept');
  });

  it('the search is bounded by the GPU: more memory never picks a slower run', () => {
    const small = tuneAnalysis(analysed('lora.finetune.yaml', 'A100-40GB'));
    const big = tuneAnalysis(analysed('lora.finetune.yaml', 'H200-141GB'));
    assert.ok(small && big);
    assert.ok(small.after.peakBytes <= 0.95 * 40 * 1024 ** 3);
    assert.equal(effectiveBatch(small), 32);
    assert.equal(effectiveBatch(big), 32);
    // Checkpointing off needs the micro-batch down to 1 on 40 GB, not on 141 GB.
    assert.equal(small.plan.training.microBatch, 1);
    assert.ok(big.plan.training.microBatch > 1);
  });

  it('nothing fits an 8B LoRA on 24 GB: no proposal (the fit fix may change the method)', () => {
    assert.equal(tuneAnalysis(analysed('lora.finetune.yaml', 'RTX4090-24GB')), undefined);
  });

  it("QLoRA on its own RTX 4090: Liger's loss, compiled layers and flex attention; without Liger, compiled and flex", () => {
    const a = analysed('qlora.finetune.yaml', 'RTX4090-24GB');
    const t = tuneAnalysis(a);
    assert.ok(t);
    assert.deepEqual(t.changes, [LIGER, ...COMPILED, FLEX]);
    assert.ok(t.after.tokensPerSecond > t.before.tokensPerSecond * 1.1);
    const eager = tuneAnalysis(a, { compileAllowed: false });
    assert.ok(eager);
    assert.deepEqual(eager.changes, [LIGER, FLEX]);
    assert.ok(t.after.tokensPerSecond > eager.after.tokensPerSecond * 1.1, 'compiling pays');
    const without = tuneAnalysis(a, { fusedLossAllowed: false, compileAllowed: false });
    assert.ok(without);
    assert.deepEqual(without.changes, [FLEX]);
    assert.match(
      applyTextEdits(a.parsed!.text, without.edits),
      /attn_implementation: flex_attention/,
    );
  });

  it('flex attention only replaces sdpa on packed rows', () => {
    const file = path.join(TEMPLATES, 'qlora.finetune.yaml');
    const text = fs.readFileSync(file, 'utf8');
    assert.match(text, /packing: true/);
    for (const edited of [
      text.replace(/packing: true/, 'packing: false'),
      text.replace(/(\n\s*)attn_implementation: sdpa/, '$1attn_implementation: eager'),
    ]) {
      assert.notEqual(edited, text);
      const t = tuneAnalysis(analyze(edited, file, { gpu: 'RTX4090-24GB' }), {
        fusedLossAllowed: false,
      });
      assert.ok(!t?.changes.some((c) => c.field === 'model.attnImplementation'));
    }
  });

  it('QLoRA on a T4: the fused loss makes it fit with one change; without it, the micro-batch', () => {
    const a = analysed('qlora.finetune.yaml', 'T4-16GB');
    assert.equal(a.estimate?.fits, false);
    const t = tuneAnalysis(a);
    assert.ok(t);
    assert.deepEqual(
      t.changes.map((c) => c.field),
      [
        'training.useLigerKernel',
        'training.torchCompile',
        'training.ligerLayerKernels',
        'model.attnImplementation',
      ],
    );
    assert.ok(t.after.peakBytes <= Math.floor(16 * 1024 ** 3 * TUNE_MEMORY_FRACTION) + 1e9);
    assert.match(t.steps[0].explanation, /pip install liger-kernel/);
    assert.match(applyTextEdits(a.parsed!.text, t.edits), /use_liger_kernel: true/);
    const without = tuneAnalysis(a, { fusedLossAllowed: false, compileAllowed: false });
    assert.ok(without);
    assert.ok(!without.changes.some((c) => c.field === 'training.useLigerKernel'));
    assert.ok(without.changes.length > 1, 'more to change without the fused loss');
  });

  it("full fine-tuning of 1B on an H100: Liger's kernels and checkpointing off", () => {
    const a = analysed('full.finetune.yaml', 'H100-80GB');
    const t = tuneAnalysis(a);
    assert.ok(t);
    const fields = t.changes.map((c) => c.field);
    assert.ok(fields.includes('training.useLigerKernel'), fields.join());
    assert.ok(fields.includes('training.gradientCheckpointing'), fields.join());
    // the same examples per optimizer step whatever the split
    assert.equal(
      t.plan.training.microBatch * t.plan.training.gradAccum,
      a.plan!.training.microBatch * a.plan!.training.gradAccum,
    );
    const without = tuneAnalysis(a, { fusedLossAllowed: false });
    assert.ok(without);
    assert.deepEqual(without.changes, [
      FLEX,
      { field: 'training.gradientCheckpointing', from: true, to: false },
    ]);
    assert.equal(without.steps.length, 2);
    // compiled layers were measured with LoRA and QLoRA only
    assert.ok(!fields.includes('training.torchCompile'), fields.join());
  });

  it("compiled layers: written with Liger's layer kernels off, and the written config estimates the same", () => {
    const a = analysed('lora.finetune.yaml', 'H100-80GB');
    const t = tuneAnalysis(a);
    assert.ok(t);
    assert.deepEqual(t.changes.slice(0, 3), [LIGER, ...COMPILED]);
    assert.equal(t.plan.training.torchCompile, true);
    assert.deepEqual(t.plan.training.ligerKernelConfig, { rmsNorm: false, swiglu: false });
    const text = applyTextEdits(a.parsed!.text, t.edits);
    assert.match(text, /torch_compile: true/);
    assert.match(
      text,
      /liger_kernel_config:\n\s+rms_norm: false\n\s+swiglu: false\n\s+rope: false/,
    );
    const again = analyze(text, path.join(TEMPLATES, 'lora.finetune.yaml'), { gpu: 'H100-80GB' });
    assert.equal(again.plan?.training.torchCompile, true);
    assert.equal(again.estimate?.perGpuBytes, t.after.peakBytes);
    assert.equal(tuneAnalysis(again)?.changes.length ?? 0, 0, 'nothing left to change');
    // a config already compiled, without Liger: Liger comes with its layer kernels off
    const compiledOnly = applyTextEdits(
      a.parsed!.text,
      tuneEdits(a.parsed!, [{ field: 'training.torchCompile', from: false, to: true }]),
    );
    const c = analyze(compiledOnly, path.join(TEMPLATES, 'lora.finetune.yaml'), {
      gpu: 'H100-80GB',
    });
    const tc = tuneAnalysis(c);
    assert.ok(tc);
    assert.deepEqual(tc.changes.slice(0, 2), [LIGER, COMPILED[1]]);
    assert.deepEqual(tc.plan.training.ligerKernelConfig, { rmsNorm: false, swiglu: false });
    const written = analyze(
      applyTextEdits(compiledOnly, tc.edits),
      path.join(TEMPLATES, 'lora.finetune.yaml'),
      {
        gpu: 'H100-80GB',
      },
    );
    assert.equal(written.estimate?.perGpuBytes, tc.after.peakBytes);
    const step = t.steps.find((s) => s.changes.some((c) => c.field === 'training.torchCompile'));
    assert.match(step!.explanation, /compiled decoder layers .* tokens\/s → .* tokens\/s/);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findGpu } from '../hardware/gpus';
import { findCatalogModel } from '../models/catalog';
import { buildNativePlan } from '../nativePlan';
import {
  compiledLayers,
  fusedLayerKernels,
  usesFusedLoss,
  withCompiledLayers,
  withFusedLoss,
} from './fusedLoss';
import { estimateMemory } from './memory';
import { makePlan } from './plan-defaults';
import { chatLikeLengths } from './throughput';
import { FITTED } from './throughputConstants';
import { estimateTrainTime } from './time';
import { MEASURED_RUNS, timeRatio } from './timeCalibration';

const H100 = findGpu('H100-80GB')!;
const llama8 = findCatalogModel('meta-llama/Llama-3.1-8B')!;

const trainingOf = (training: Record<string, unknown>) =>
  buildNativePlan({
    method: 'lora',
    model: { name_or_path: 'meta-llama/Llama-3.1-8B' },
    training,
  }).training;

function lora8b(checkpointing: boolean) {
  return makePlan({
    method: 'lora',
    model: 'meta-llama/Llama-3.1-8B',
    maxLength: 2048,
    microBatch: 2,
    gradAccum: 4,
    checkpointing,
    packing: true,
    targets: 'all-linear',
    r: 16,
    attention: 'flex_attention',
  });
}

describe('compiled layers (training.torch_compile)', () => {
  it('the plan reads torch_compile, a backend or mode alone, and liger_kernel_config', () => {
    assert.equal(trainingOf({ torch_compile: true }).torchCompile, true);
    assert.equal(
      trainingOf({ torch_compile_mode: 'max-autotune-no-cudagraphs' }).torchCompile,
      true,
    );
    assert.equal(trainingOf({ torch_compile: false }).torchCompile, undefined);
    const t = trainingOf({
      use_liger_kernel: true,
      liger_kernel_config: { rms_norm: false, swiglu: false, rope: false },
    });
    assert.deepEqual(t.ligerKernelConfig, { rmsNorm: false, swiglu: false });
    const plan = withFusedLoss(lora8b(false), true);
    plan.training.ligerKernelConfig = t.ligerKernelConfig;
    assert.ok(usesFusedLoss(plan), "Liger's loss stays on");
    assert.ok(!fusedLayerKernels(plan), 'its layer kernels are off');
    plan.training.ligerKernelConfig = { fusedLinearCrossEntropy: false };
    assert.ok(!usesFusedLoss(plan));
  });

  it("compiling with Liger on turns Liger's layer kernels off and keeps its loss", () => {
    const liger = withFusedLoss(lora8b(false), true);
    const compiled = withCompiledLayers(liger, true);
    assert.ok(compiledLayers(compiled) && usesFusedLoss(compiled) && fusedLayerKernels(compiled));
    assert.deepEqual(compiled.training.ligerKernelConfig, { rmsNorm: false, swiglu: false });
    assert.equal(withCompiledLayers(lora8b(false), true).training.ligerKernelConfig, undefined);
  });

  it("a compiled layer keeps what Liger's fused norm and MLP keep, not eager PyTorch's", () => {
    const gib = (p: ReturnType<typeof lora8b>) =>
      estimateMemory(p, llama8, H100).perGpuBytes / 1024 ** 3;
    const liger = withFusedLoss(lora8b(false), true);
    const lossOnly = withFusedLoss(lora8b(false), true);
    lossOnly.training.ligerKernelConfig = { rmsNorm: false, swiglu: false };
    const compiled = withCompiledLayers(liger, true);
    assert.ok(gib(lossOnly) > gib(liger) + 1, 'eager norms and MLP keep more');
    assert.equal(gib(compiled), gib(liger));
    assert.match(estimateMemory(compiled, llama8, H100).notes.activations, /compiled layers/);
    // measured, runner/bench/results/throughput-h100-compile.json: 42.4 GiB reserved compiled
    assert.ok(Math.abs(gib(compiled) / 42.4 - 1) < 0.03, `${gib(compiled).toFixed(2)} GiB`);
  });

  it('the compile scales are measured below one, and every compiled row is predicted within 10%', () => {
    for (const key of ['compiledAdapterScale', 'compiledHostScale', 'compiledUpcastScale'] as const)
      assert.ok(FITTED[key] > 0 && FITTED[key] < 1, key);
    const rows = MEASURED_RUNS.filter((r) => r.compiled);
    assert.ok(rows.length >= 9);
    for (const run of rows) {
      const ratio = timeRatio(run);
      assert.ok(
        Math.abs(ratio - 1) <= 0.1,
        `${run.id}: predicted/measured time ${ratio.toFixed(3)}`,
      );
    }
  });

  it('the estimate: compiled is faster than the same run eager, with or without recomputation', () => {
    for (const ckpt of [false, true]) {
      const eager = withFusedLoss(lora8b(ckpt), true);
      const tps = (p: typeof eager) =>
        estimateTrainTime(p, llama8, H100, 1e6, { tokenLengths: chatLikeLengths(452, 2048) })
          .tokensPerSecond;
      const ratio = tps(withCompiledLayers(eager, true)) / tps(eager);
      // measured 1.21x (no recomputation) and 1.22x (recomputation, sdpa to flex as well)
      assert.ok(
        ratio > 1.1 && ratio < 1.4,
        `${ckpt ? 'recomputation' : 'none'}: ${ratio.toFixed(2)}x`,
      );
    }
  });
});

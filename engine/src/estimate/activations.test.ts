import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findGpu } from '../hardware/gpus';
import { findCatalogModel } from '../models/catalog';
import { layerBackwardTempPerToken, layerSavedPerToken } from './activations';
import { layoutOf, loraTargets } from './arch';
import { withFusedLoss } from './fusedLoss';
import { estimateMemory } from './memory';
import { makePlan, type PlanOverrides } from './plan-defaults';
import { resolveSettings } from './settings';

const GiB = 1024 ** 3;
const LLAMA_8B = 'meta-llama/Llama-3.1-8B';

function layerOf(o: PlanOverrides) {
  const model = findCatalogModel(o.model ?? LLAMA_8B)!;
  const layout = layoutOf(model);
  const s = resolveSettings(makePlan({ model: LLAMA_8B, ...o }));
  const lora = s.lora ? loraTargets(layout, s.lora.targets) : [];
  return { layout, s, lora };
}

describe("Liger Kernel's per-layer activations", () => {
  it('RMSNorm keeps its 16-bit input + an fp32 rstd; SwiGLU keeps gate and up only', () => {
    const { layout, s, lora } = layerOf({ method: 'lora' });
    const hf = layerSavedPerToken(layout, s, lora);
    const liger = layerSavedPerToken(layout, s, lora, { fusedNormAndMlp: true });
    const h = layout.hidden;
    const I = layout.mlpWidthPerToken;
    assert.equal(hf.norms, 2 * 4 * h);
    assert.equal(liger.norms, 2 * (2 * h + 4));
    assert.equal(hf.mlp - liger.mlp, 2 * I, 'silu(gate) no longer saved');
    // attention (RoPE in place saves what HF's rotation saves) and LoRA are unchanged
    assert.equal(liger.attention, hf.attention);
    assert.equal(liger.lora, hf.lora);
    assert.equal(hf.total - liger.total, 4 * h - 2 * 4 + 2 * I);
  });

  it('prepared QLoRA (fp32 residual): the norm saves the same fp32 input, the MLP one fp32 tensor less', () => {
    const { layout, s, lora } = layerOf({ method: 'qlora' });
    const hf = layerSavedPerToken(layout, s, lora);
    const liger = layerSavedPerToken(layout, s, lora, { fusedNormAndMlp: true });
    assert.equal(liger.norms, hf.norms + 2 * 4, 'input kept as is (fp32) + rstd');
    assert.equal(hf.mlp - liger.mlp, 4 * layout.mlpWidthPerToken);
  });

  it('full fine-tuning: a trained norm weight costs nothing more under Liger', () => {
    const { layout, s } = layerOf({ method: 'full' });
    const hf = layerSavedPerToken(layout, s, []);
    const liger = layerSavedPerToken(layout, s, [], { fusedNormAndMlp: true });
    assert.equal(hf.norms, 2 * (4 + 2) * layout.hidden);
    assert.equal(liger.norms, 2 * (2 * layout.hidden + 4));
  });

  it("SwiGLU's backward leaves only the product's gradient as a temporary", () => {
    const { layout, s } = layerOf({ method: 'lora' });
    const hf = layerBackwardTempPerToken(layout, s);
    const liger = layerBackwardTempPerToken(layout, s, { fusedNormAndMlp: true });
    assert.equal(hf - liger, 2 * 2 * layout.mlpWidthPerToken);
  });

  it('without Liger nothing changes (no option = the HF count)', () => {
    const { layout, s, lora } = layerOf({ method: 'lora' });
    assert.deepEqual(layerSavedPerToken(layout, s, lora, {}), layerSavedPerToken(layout, s, lora));
    assert.deepEqual(
      layerSavedPerToken(layout, s, lora, { fusedNormAndMlp: false }),
      layerSavedPerToken(layout, s, lora),
    );
  });
});

describe("packed rows through sdpa: the block-diagonal mask's cost", () => {
  it('repeats k/v to all heads and saves a compute-dtype bias per layer', () => {
    const { layout, s, lora } = layerOf({ method: 'lora', packing: true });
    const unpacked = layerOf({ method: 'lora', packing: false });
    const plain = layerSavedPerToken(layout, unpacked.s, lora);
    const masked = layerSavedPerToken(layout, s, lora);
    assert.equal(
      masked.attention - plain.attention,
      2 * 2 * (layout.qWidth - layout.kvWidth) + 2 * s.seqLen,
    );
  });

  it('eager attention already counts its repeat: no double count', () => {
    const { layout, s, lora } = layerOf({ method: 'lora', packing: true, attention: 'eager' });
    const unpacked = layerOf({ method: 'lora', packing: false, attention: 'eager' });
    assert.deepEqual(
      layerSavedPerToken(layout, s, lora),
      layerSavedPerToken(layout, unpacked.s, lora),
    );
  });

  it('estimateMemory: packed sdpa pays it, flex_attention and unpacked rows do not', () => {
    const model = findCatalogModel(LLAMA_8B)!;
    const gpu = findGpu('H100-80GB');
    const base = { method: 'lora' as const, model: LLAMA_8B, microBatch: 2, checkpointing: false };
    const est = (o: PlanOverrides) => estimateMemory(makePlan({ ...base, ...o }), model, gpu);
    const sdpa = est({ packing: true }).phases['backward-start'];
    const flex = est({ packing: true, attention: 'flex_attention' }).phases['backward-start'];
    const unpacked = est({ packing: false }).phases['backward-start'];
    // 8B, 2 × 2048 tokens, 32 layers: (4 × 3072 + 2 × 2048) B per token per layer = 2 GiB
    assert.equal((sdpa - flex) / GiB, 2);
    assert.equal(flex, unpacked);
  });
});

describe('measured Liger peaks (runner/bench/results/throughput-h100-*.json)', () => {
  const model = findCatalogModel(LLAMA_8B)!;
  const gpu = findGpu('H100-80GB');
  const peak = (o: PlanOverrides, kbitUpcast = true) => {
    const plan = makePlan({ model: LLAMA_8B, packing: true, ...o });
    if (!kbitUpcast) plan.kbitUpcast = false;
    const e = estimateMemory(withFusedLoss(plan, true), model, gpu);
    return { allocated: e.phases[e.peakPhase] / GiB, perGpu: e.perGpuBytes / GiB };
  };

  // [settings, measured max_memory_allocated, max_memory_reserved] (GiB)
  const rows: [string, PlanOverrides, boolean, number, number][] = [
    [
      '8B LoRA fastflex 2×4',
      {
        method: 'lora',
        microBatch: 2,
        gradAccum: 4,
        checkpointing: false,
        attention: 'flex_attention',
      },
      true,
      41.71,
      41.89,
    ],
    [
      '8B LoRA fast (sdpa) 2×4',
      { method: 'lora', microBatch: 2, gradAccum: 4, checkpointing: false },
      true,
      43.71,
      44.12,
    ],
    [
      '8B LoRA fastflex2x 4×2',
      {
        method: 'lora',
        microBatch: 4,
        gradAccum: 2,
        checkpointing: false,
        attention: 'flex_attention',
      },
      true,
      67.69,
      67.88,
    ],
    [
      '8B QLoRA fastflex 2×4',
      {
        method: 'qlora',
        microBatch: 2,
        gradAccum: 4,
        checkpointing: false,
        attention: 'flex_attention',
      },
      true,
      43.96,
      44.45,
    ],
    [
      '8B LoRA lean (ckpt) 4×2',
      { method: 'lora', microBatch: 4, gradAccum: 2, checkpointing: true },
      true,
      19.81,
      20.29,
    ],
    [
      '8B QLoRA lean (ckpt, no upcast) 4×2',
      { method: 'qlora', microBatch: 4, gradAccum: 2, checkpointing: true },
      false,
      10.17,
      10.66,
    ],
  ];
  for (const [name, o, upcast, allocated, reserved] of rows) {
    it(`${name}: allocated within 2%, per-GPU at or above it and within 8% of reserved`, () => {
      const e = peak(o, upcast);
      assert.ok(
        Math.abs(e.allocated / allocated - 1) < 0.02,
        `allocated ${e.allocated.toFixed(2)} vs ${allocated}`,
      );
      assert.ok(
        e.perGpu >= allocated,
        `per-GPU ${e.perGpu.toFixed(2)} below allocated ${allocated}`,
      );
      assert.ok(
        e.perGpu / reserved - 1 < 0.08,
        `per-GPU ${e.perGpu.toFixed(2)} vs reserved ${reserved}`,
      );
    });
  }

  it('checkpointing under the fused loss: the peak holds every checkpoint and the recomputed last layer', () => {
    const plan = makePlan({
      method: 'lora',
      model: LLAMA_8B,
      packing: true,
      microBatch: 4,
      checkpointing: true,
    });
    const on = estimateMemory(withFusedLoss(plan, true), model, gpu);
    const off = estimateMemory(plan, model, gpu);
    assert.equal(on.peakPhase, 'backward-start');
    // all 32 bf16 checkpoints (8192 tokens × 4096 × 2 B = 64 MiB each) are in the Liger peak
    assert.ok(on.bytes.activations >= 32 * 64 * 2 ** 20);
    assert.ok(on.bytes.logits > 1 * GiB, 'the recomputed layer, not a 63 MiB chunk');
    assert.ok(on.perGpuBytes < off.perGpuBytes, 'still far below the fp32 logits');
  });
});

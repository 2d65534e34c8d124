import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findGpu } from '../hardware/gpus';
import type { GpuSpec } from '../hardware/types';
import { findCatalogModel } from '../models/catalog';
import { planEvaluation } from '../nativePlan';
import type { Plan } from '../plan';
import { applyFix, findings } from '../rules/testing';
import { cheapestFix, estimateMemory, makePlan, type RunInputs } from './index';

const llama8 = findCatalogModel('meta-llama/Llama-3.1-8B')!;
const H100 = findGpu('H100-80GB')!;
const GiB = 1024 ** 3;
const gpuOf = (gb: number): GpuSpec => ({ ...H100, id: `GPU-${gb}GB`, memoryBytes: gb * GiB });

describe('cheapestFix: the eval batch first when evaluation sets the peak', () => {
  // 32 replies of up to 8,192 tokens to 642-token prompts: a 35.6 GiB KV cache after training.
  const plan: Plan = (() => {
    const p = makePlan({ method: 'lora', microBatch: 4, maxLength: 2048, packing: true });
    const data = { ...p.data, evalFile: 'data/eval.jsonl' };
    const section = { generation: { max_new_tokens: 8192 } };
    return { ...p, data, evaluation: planEvaluation(section, data.evalFile, undefined) };
  })();
  const run: RunInputs = {
    evaluates: false,
    evalBatch: 32,
    train: undefined,
    eval: { sorted: [120, 300, 642], partial: false },
    charsPerToken: 3.6,
  };

  it('the evaluation after training: halves per_device_eval_batch_size, training untouched', () => {
    const gpu = gpuOf(40);
    const before = estimateMemory(plan, llama8, gpu, { run });
    assert.equal(before.peakRunPhase, 'final-evaluation');
    assert.equal(before.fits, false);
    const fix = cheapestFix(plan, llama8, gpu, { run });
    assert.ok(fix);
    assert.deepEqual(fix.changes, [{ field: 'training.evalBatch', value: 16 }]);
    assert.match(fix.description, /^per-device eval batch 32 → 16 \(/);
    assert.equal(fix.estimate.fits, true);
    assert.equal(fix.estimate.run?.evalBatch, 16);
  });

  it('not when training sets the peak', () => {
    const training = { ...plan, evaluation: undefined };
    assert.equal(estimateMemory(training, llama8, gpuOf(24), { run }).peakRunPhase, 'training');
    const fix = cheapestFix(training, llama8, gpuOf(24), { run });
    assert.ok(fix);
    assert.doesNotMatch(fix.description, /^per-device eval batch/);
  });
});

describe('cheapestFix: ZeRO-3 over a QLoRA base stores its 4-bit weights in the model dtype', () => {
  const config = (o: { method?: string; dtype?: string; gpus?: number; bits?: number }) => {
    const quant =
      o.bits === 8
        ? 'quantization: { load_in_8bit: true }\n'
        : 'quantization: { load_in_4bit: true, bnb_4bit_quant_type: nf4, bnb_4bit_compute_dtype: bfloat16, bnb_4bit_use_double_quant: true }\n';
    return `method: ${o.method ?? 'qlora'}
model: { name_or_path: meta-llama/Llama-3.1-70B${o.dtype ? `, dtype: ${o.dtype}` : ''} }
${o.method === 'lora' ? '' : `${quant}prepare_model_for_kbit_training: true\n`}lora: { r: 16, lora_alpha: 32, target_modules: all-linear }
data: { train_file: data/train.jsonl, max_length: 2048 }
training: { per_device_train_batch_size: 1, gradient_checkpointing: true, bf16: true }
hardware: { gpu: A100-40GB, num_gpus: ${o.gpus ?? 8} }
launch: { distributed: { backend: deepspeed, zero_stage: 2 } }
`;
  };
  const STORAGE = 'qlora-sharded-quant-storage';
  const memoryFix = (yaml: string) => {
    const [hit] = findings('memory-exceeds-gpu', yaml);
    assert.ok(hit?.fixes?.length, 'a fix is offered');
    return { hit, fixed: applyFix(yaml, hit) };
  };

  it('QLoRA on 8 GPUs: the fix writes zero_stage 3 and bnb_4bit_quant_storage, and the rule is silent', () => {
    const { hit, fixed } = memoryFix(config({ dtype: 'bfloat16' }));
    assert.match(hit.message, /ZeRO-3, 4-bit weights stored as bfloat16 for ZeRO-3/);
    assert.match(fixed, /zero_stage: 3/);
    assert.match(fixed, /bnb_4bit_quant_storage: bfloat16/);
    assert.deepEqual(findings(STORAGE, fixed), []);
    assert.deepEqual(findings('memory-exceeds-gpu', fixed), []);
  });

  it('the model dtype it stores in: float16 as written; bfloat16 for auto on a bf16 GPU', () => {
    assert.match(memoryFix(config({ dtype: 'float16' })).fixed, /bnb_4bit_quant_storage: float16/);
    const auto = memoryFix(config({})).fixed;
    assert.match(auto, /bnb_4bit_quant_storage: bfloat16/);
    assert.deepEqual(findings(STORAGE, auto), []);
  });

  it('LoRA that needs QLoRA and ZeRO-3 together gets the storage too; LoRA alone does not', () => {
    const both = memoryFix(config({ method: 'lora', dtype: 'bfloat16', gpus: 4 }));
    assert.match(both.fixed, /method: qlora/);
    assert.match(both.fixed, /zero_stage: 3/);
    assert.match(both.fixed, /bnb_4bit_quant_storage: bfloat16/);
    assert.deepEqual(findings(STORAGE, both.fixed), []);
    const shardedLora = memoryFix(config({ method: 'lora', dtype: 'bfloat16', gpus: 8 }));
    assert.match(shardedLora.fixed, /method: lora[\s\S]*zero_stage: 3/);
    assert.doesNotMatch(shardedLora.fixed, /quant_storage/);
  });

  it('8-bit QLoRA, which ZeRO-3 cannot shard, is not offered ZeRO-3', () => {
    const [hit] = findings('memory-exceeds-gpu', config({ dtype: 'bfloat16', bits: 8 }));
    assert.ok(hit);
    assert.doesNotMatch(hit.message, /ZeRO-3/);
  });
});

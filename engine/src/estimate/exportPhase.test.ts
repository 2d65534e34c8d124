// The export after training as a phase of the run (exportPhase.ts): what it
// holds per method, and where it can set the peak.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findGpu } from '../hardware/gpus';
import { findCatalogModel } from '../models/catalog';
import { buildNativePlan } from '../nativePlan';
import type { Plan } from '../plan';
import {
  buildEstimateReport,
  estimateJson,
  estimateLensTitle,
  phaseSentence,
} from '../report/estimateReport';
import { applyTextEdits } from '../edits';
import { analyze } from '../engine';
import { layoutOf, loraTargets } from './arch';
import { estimateMemory } from './memory';
import { CUDA_CONTEXT_BYTES, TRAINING_WORKSPACE_BYTES } from './overhead';
import { makePlan, type PlanOverrides } from './plan-defaults';

const llama8 = findCatalogModel('meta-llama/Llama-3.1-8B')!;
const llama1 = findCatalogModel('meta-llama/Llama-3.2-1B')!;
const CONTEXT = CUDA_CONTEXT_BYTES + TRAINING_WORKSPACE_BYTES;

function withExport(o: PlanOverrides, exp: Plan['export']): Plan {
  return { ...makePlan({ maxLength: 2048, microBatch: 2, ...o }), export: exp };
}

/** An 8B LoRA config whose merge is saved in float32, on the given GPU. */
function float32Merge(gpu: string): string {
  return [
    'method: lora',
    'model:',
    '  name_or_path: meta-llama/Llama-3.1-8B',
    'data:',
    '  train_file: data/train.jsonl',
    '  max_length: 512',
    'training:',
    '  per_device_train_batch_size: 1',
    'export:',
    '  merge: true',
    '  dtype: float32',
    'hardware:',
    `  gpu: ${gpu}`,
    '',
  ].join('\n');
}

describe('export after training', () => {
  it('LoRA merged in place: the trained model, its optimizer states and one module’s delta', () => {
    const e = estimateMemory(withExport({ method: 'lora' }, { merge: true }), llama8, undefined);
    const plain = estimateMemory(
      makePlan({ method: 'lora', maxLength: 2048, microBatch: 2 }),
      llama8,
      undefined,
    );
    const largest = Math.max(
      ...loraTargets(layoutOf(llama8), 'all-linear').map((l) => l.inFeatures * l.outFeatures),
    );
    const held = plain.bytes.weights + plain.bytes.adapter + plain.bytes.optimizer;
    assert.ok(e.runPhases.export !== undefined);
    assert.ok(Math.abs(e.runPhases.export - (held + largest * 6 + CONTEXT)) < 1e6);
    assert.ok(e.runPhases.export < e.runPhases.training);
    assert.equal(e.peakRunPhase, 'training');
    assert.match(phaseSentence(e)!, /export \(LoRA merged in place.*bfloat16\) peaks at/);
    // without the merge only the adapter is written: nothing on the GPU
    assert.equal(
      estimateMemory(withExport({ method: 'lora' }, { merge: false }), llama8, undefined).runPhases
        .export,
      undefined,
    );
    assert.equal(plain.export, undefined);
  });

  it('QLoRA merged: a 16-bit model moved to the GPU only if it fits never sets the peak', () => {
    const e = estimateMemory(
      withExport({ method: 'qlora', maxLength: 512, microBatch: 1 }, { merge: true }),
      llama8,
      findGpu('T4-16GB'),
    );
    assert.equal(e.export?.onlyIfItFits, true);
    assert.ok(
      e.runPhases.export! > e.runPhases.training,
      'the 16-bit 8B model is larger than training',
    );
    assert.equal(e.peakRunPhase, 'training');
    assert.ok(
      Math.abs(e.runPhases.export! - (2 * (e.paramsTotal - e.paramsTrainable) + CONTEXT)) < 1e6,
    );
    assert.match(phaseSentence(e)!, /moved to the GPU only if it fits\) would take 15\.\d GiB/);
  });

  it('a merge saved in a wider dtype converts the whole model on the GPU: it can set the peak', () => {
    const full = estimateMemory(withExport({ method: 'full' }, undefined), llama1, undefined);
    assert.ok(full.runPhases.export! < full.runPhases.training, 'full, bfloat16: saved as trained');
    const e = estimateMemory(
      withExport(
        { method: 'lora', microBatch: 1, maxLength: 512 },
        { merge: true, dtype: 'float32' },
      ),
      llama8,
      findGpu('H100-80GB'),
    );
    assert.equal(e.peakRunPhase, 'export');
    assert.equal(e.perGpuBytes, e.runPhases.export);
    assert.ok(
      e.bytes.weights >= 4 * (e.paramsTotal - e.paramsTrainable),
      'every base weight in fp32',
    );
    assert.match(e.notes.weights, /peak at the export after training: LoRA merged/);
    const bf16 = estimateMemory(
      withExport({ method: 'lora', microBatch: 1, maxLength: 512 }, { merge: true }),
      llama8,
      undefined,
    );
    assert.equal(bf16.peakRunPhase, 'training');
  });

  it('the config’s export.dtype reaches the plan; the JSON and the lens name the phase', () => {
    const plan = buildNativePlan({
      method: 'lora',
      model: { name_or_path: 'x' },
      export: { dtype: 'float32' },
    });
    assert.deepEqual(plan.export, { dtype: 'float32' });
    const text = float32Merge('H100-80GB');
    const report = buildEstimateReport(analyze(text, 'x.finetune.yaml'))!;
    const json = estimateJson(report) as {
      phases: { export: number };
      peak_phase: string;
      export: { what: string };
    };
    assert.equal(json.peak_phase, 'export');
    assert.equal(json.phases.export, report.estimate.perGpuBytes);
    assert.match(json.export.what, /merged in place.*saved in float32/);
    assert.match(estimateLensTitle(report), /GiB\/GPU \(export\) on 1× H100-80GB/);
  });

  it('an export that does not fit is fixed by saving in the weights’ own precision', () => {
    const text = float32Merge('RTX4090-24GB');
    const a = analyze(text, 'x.finetune.yaml');
    assert.equal(a.estimate?.peakRunPhase, 'export');
    assert.equal(a.estimate?.fits, false);
    const finding = a.findings.find((f) => f.code === 'memory-exceeds-gpu');
    assert.ok(finding?.fixes?.[0], 'a quick fix');
    assert.match(finding.message, /export\.dtype float32 → bfloat16/);
    const fixed = applyTextEdits(text, finding.fixes[0].edits);
    assert.match(fixed, /dtype: bfloat16/);
    assert.equal(analyze(fixed, 'x.finetune.yaml').estimate?.fits, true);
  });
});

// Every figure a proposed change quotes is the estimate of the config it
// writes: the memory quick fix ("… → 21.0 GiB per GPU"), the method
// recommendation and the "Convert to …" figures. Each proposal is applied to
// the text and the result analysed afresh, over the templates varied by GPU,
// model, batch and checkpointing.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { convertMethodEdits } from '../convert/method';
import { applyTextEdits, chainEdits, setKey } from '../edits';
import { analyze } from '../engine';
import { formatGiB } from '../estimate/index';
import type { MemoryEstimate } from '../estimate/types';
import type { Method } from '../plan';
import { buildEstimateReport, estimateText } from './estimateReport';

const TEMPLATE_DIR = path.resolve(__dirname, '..', '..', '..', 'templates', 'telecom-support');
const GPUS = ['T4-16GB', 'A10G-24GB', 'A100-40GB', 'H100-80GB'];
const MODELS = ['meta-llama/Llama-3.2-1B', 'meta-llama/Llama-3.1-8B', 'Qwen/Qwen2.5-7B'];

function* configs(): Generator<{ label: string; file: string; text: string }> {
  for (const method of ['full', 'lora', 'qlora']) {
    const file = path.join(TEMPLATE_DIR, `${method}.finetune.yaml`);
    const base = fs.readFileSync(file, 'utf8');
    for (const gpu of GPUS)
      for (const model of MODELS)
        for (const batch of ['4', '16'])
          for (const checkpointing of ['true', 'false']) {
            const text = applyTextEdits(
              base,
              chainEdits(base, [
                (p) => setKey(p, ['hardware'], 'gpu', gpu),
                (p) => setKey(p, ['model'], 'name_or_path', model),
                (p) => setKey(p, ['training'], 'per_device_train_batch_size', batch),
                (p) => setKey(p, ['training'], 'gradient_checkpointing', checkpointing),
              ]),
            );
            yield {
              label: `${method} ${model} ${gpu} batch ${batch} ckpt ${checkpointing}`,
              file,
              text,
            };
          }
  }
}

const peakOf = (text: string, file: string) => {
  const estimate = analyze(text, file).estimate;
  assert.ok(estimate);
  return formatGiB(estimate.perGpuBytes);
};

test('every fix and recommendation quotes the estimate of the config it produces', () => {
  let fixes = 0;
  let recommendations = 0;
  for (const { label, file, text } of configs()) {
    const analysis = analyze(text, file);
    assert.ok(analysis.estimate && analysis.parsed, label);
    const report = buildEstimateReport(analysis);
    assert.ok(report);
    assert.ok(estimateText(report).includes(formatGiB(analysis.estimate.perGpuBytes)), label);

    for (const finding of analysis.findings) {
      for (const fix of finding.fixes ?? []) {
        const quoted = /→ (\d+\.\d GiB) per GPU\)/.exec(fix.title)?.[1];
        if (!quoted) continue;
        fixes++;
        const after = applyTextEdits(text, fix.edits);
        assert.equal(peakOf(after, file), quoted, `${label}: ${fix.title}`);
        const refit = analyze(after, file);
        assert.ok(
          !refit.findings.some((f) => f.code === 'memory-exceeds-gpu'),
          `${label}: ${fix.title}`,
        );
        assert.equal(refit.plan?.hardware.numGpus, analysis.plan?.hardware.numGpus, 'no GPU added');
      }
    }

    const recommendation = report.recommendation;
    assert.ok(recommendation, label);
    recommendations++;
    for (const method of ['full', 'lora', 'qlora'] as Method[]) {
      const estimate: MemoryEstimate | undefined = recommendation.estimates[method];
      assert.ok(estimate, `${label}: ${method}`);
      // The current method's figure is the config as it is; others, the converted config.
      const converted: string =
        method === analysis.plan?.method
          ? text
          : applyTextEdits(text, convertMethodEdits(analysis.parsed, method));
      assert.equal(formatGiB(estimate.perGpuBytes), peakOf(converted, file), `${label}: ${method}`);
    }
    const chosen = recommendation.estimates[recommendation.method];
    assert.ok(chosen && recommendation.reason.includes(formatGiB(chosen.perGpuBytes)), label);
  }
  assert.ok(fixes > 10, `only ${fixes} fixes exercised`);
  assert.ok(recommendations > 100);
});

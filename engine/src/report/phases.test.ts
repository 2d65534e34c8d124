// The evaluation phase and the data's row lengths in every view of the
// estimate: the lens, the hover, the CLI's text and JSON quote one figure.
// The analysis' estimate is made with the config's run inputs, as the engine
// makes it once it passes them (see runInputsOfAnalysis).

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { applyTextEdits, chainEdits, setKey } from '../edits';
import { analyze, type Analysis } from '../engine';
import { estimateMemory, formatGiB } from '../estimate/index';
import {
  buildEstimateReport,
  estimateJson,
  estimateLensTitle,
  estimateMarkdown,
  estimateText,
} from './estimateReport';
import { runInputsOfAnalysis } from './proposal';

const FILE = path.resolve(
  __dirname,
  '..',
  '..',
  '..',
  'templates',
  'telecom-support',
  'lora.finetune.yaml',
);

function analysed(settings: Array<[string[], string, string]>): Analysis {
  const base = fs.readFileSync(FILE, 'utf8');
  const text = applyTextEdits(
    base,
    chainEdits(
      base,
      settings.map(
        ([section, key, value]) =>
          (p: Parameters<typeof setKey>[0]) =>
            setKey(p, section, key, value),
      ),
    ),
  );
  const analysis = analyze(text, FILE);
  const { plan, model, gpu } = analysis;
  assert.ok(plan && model);
  return {
    ...analysis,
    estimate: estimateMemory(plan, model, gpu, { run: runInputsOfAnalysis(analysis) }),
  };
}

const SMALL = [['model'], 'name_or_path', 'meta-llama/Llama-3.2-1B'] as [string[], string, string];

test('evaluation at eval batch 8 on packed rows sets the peak, the same figure everywhere', () => {
  const analysis = analysed([
    SMALL,
    [['data'], 'packing', 'true'],
    [['training'], 'per_device_train_batch_size', '1'],
    [['training'], 'per_device_eval_batch_size', '8'],
  ]);
  const report = buildEstimateReport(analysis);
  assert.ok(report);
  const e = report.estimate;
  assert.equal(e.peakRunPhase, 'evaluation');
  const figure = formatGiB(e.perGpuBytes);
  const lens = estimateLensTitle(report);
  assert.ok(lens.startsWith(`≈ ${figure}/GPU (eval) on 1× H100-80GB`), lens);
  const hover = estimateMarkdown(report);
  assert.ok(hover.includes(`**${figure}**`) && hover.includes('Peak at evaluation'), hover);
  assert.ok(estimateMarkdown(report, true).includes('peak at evaluation'));
  const text = estimateText(report);
  assert.ok(text.includes(figure) && text.includes('peak at evaluation'), text);
  const json = estimateJson(report);
  assert.equal(json.per_gpu_bytes, e.perGpuBytes);
  assert.equal(json.peak_phase, 'evaluation');
  assert.equal(json.phases.evaluation, json.per_gpu_bytes);
  assert.ok(json.phases.training < json.per_gpu_bytes);
  assert.equal(json.eval_tokens_per_batch, 8 * 2048);
  const parts = Object.values(json.bytes).reduce((a, b) => a + b, 0);
  assert.equal(parts, json.per_gpu_bytes);
});

test('evaluation at eval batch 1 stays below training: the lens has no (eval)', () => {
  const analysis = analysed([
    SMALL,
    [['data'], 'packing', 'true'],
    [['training'], 'per_device_train_batch_size', '1'],
    [['training'], 'per_device_eval_batch_size', '1'],
  ]);
  const report = buildEstimateReport(analysis);
  assert.ok(report);
  assert.equal(report.estimate.peakRunPhase, 'training');
  assert.ok(!estimateLensTitle(report).includes('(eval)'));
  const json = estimateJson(report);
  assert.equal(json.peak_phase, 'training');
  assert.equal(json.phases.training, json.per_gpu_bytes);
  assert.ok(json.phases.evaluation !== null && json.phases.evaluation < json.per_gpu_bytes);
});

test("an unpacked run is sized by the data's longest chat, and says so", () => {
  const analysis = analysed([
    SMALL,
    [['data'], 'packing', 'false'],
    [['training'], 'per_device_train_batch_size', '4'],
  ]);
  const report = buildEstimateReport(analysis);
  assert.ok(report);
  const longest = Math.max(...(analysis.data?.train?.tokenLengths ?? []));
  assert.ok(longest > 300 && longest < 2048, `longest ${longest}`);
  assert.equal(report.estimate.tokensPerStep, 4 * longest);
  assert.equal(estimateJson(report).tokens_per_micro_batch, 4 * longest);
  assert.ok(estimateText(report).includes(`longest row, ${longest} tokens`));
  assert.ok(estimateMarkdown(report, true).includes('chars-per-token 3.6'));
  const { plan, model, gpu } = analysis;
  const everyRowMaxLength = estimateMemory(plan!, model!, gpu).perGpuBytes;
  assert.ok(report.estimate.perGpuBytes < everyRowMaxLength);
});

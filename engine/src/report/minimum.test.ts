// The smallest memory a run completes in (minimumBytes): one figure, the same
// in the estimate's JSON, text and hover.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { analyze } from '../engine';
import { formatGiB } from '../estimate/index';
import {
  buildEstimateReport,
  estimateJson,
  estimateMarkdown,
  estimateText,
} from './estimateReport';

const TEMPLATES = path.resolve(__dirname, '..', '..', '..', 'templates', 'telecom-support');

for (const method of ['lora', 'full', 'qlora']) {
  test(`${method}: minimum_bytes below the peak, quoted in every view`, () => {
    const file = path.join(TEMPLATES, `${method}.finetune.yaml`);
    const report = buildEstimateReport(analyze(fs.readFileSync(file, 'utf8'), file));
    assert.ok(report);
    const e = report.estimate;
    const allocated = Math.max(...Object.values(e.phases));
    assert.ok(e.minimumBytes > allocated, 'tensors + context + slack');
    // nvidia-smi on a roomy card is never below it (memory.ts raises the reserve)
    assert.ok(e.minimumBytes <= e.perGpuBytes);
    const json = estimateJson(report);
    assert.equal(json.minimum_bytes, e.minimumBytes);
    assert.equal(json.minimum_gib, Math.round((e.minimumBytes / 1024 ** 3) * 100) / 100);
    assert.match(estimateText(report), new RegExp(`smallest +${formatGiB(e.minimumBytes)}`));
    assert.ok(
      estimateMarkdown(report, true).includes(`| smallest | ${formatGiB(e.minimumBytes)} |`),
    );
  });
}

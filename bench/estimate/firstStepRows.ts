// Held-out check of engine/src/estimate/firstStepReserve.ts: full fine-tuning
// with checkpointing at token counts the shared CSVs lack, measured with
// runner/bench/truth_rows.py after the rule was written from the CSV rows'
// traces (predictions in FIRST_STEP_ROWS' comment there).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { FRAGMENTATION } from '../../engine/src/estimate/overhead';
import { OUTSIDE_RESERVED_GIB } from './plans';
import { settingsLabel, type Row } from './rows';
import { score } from './score';
import { median, pct, worst } from './statistics';

const RESULTS = path.resolve(
  __dirname,
  '../../runner/bench/results/truth-rows-h100/truth-rows-first-step.json',
);
/** truth_rows.py's shapes, as the catalog names their models. */
const MODEL_OF_SHAPE: Record<string, string> = {
  '0.5b': 'Qwen/Qwen2.5-0.5B',
  '1b': 'meta-llama/Llama-3.2-1B',
};

interface TruthRowsFile {
  rows: Record<string, { seq: number; mb: number; ckpt: boolean; shape?: string }>;
  results: { row: string; peak_allocated_gib: number; peak_reserved_gib: number }[];
}

function rowsOf(file: TruthRowsFile): Row[] {
  return file.results.map((r) => {
    const spec = file.rows[r.row]!;
    return {
      __file: path.basename(RESULTS),
      model_id: MODEL_OF_SHAPE[spec.shape ?? '0.5b']!,
      method: 'full',
      weights_dtype: 'bf16',
      seq_len: String(spec.seq),
      micro_batch: String(spec.mb),
      grad_ckpt: String(spec.ckpt),
      optimizer: 'adamw_torch_fused',
      status: 'ok',
      peak_allocated_gib: String(r.peak_allocated_gib),
      peak_reserved_gib: String(r.peak_reserved_gib),
      device_used_gib: (r.peak_reserved_gib + OUTSIDE_RESERVED_GIB).toFixed(3),
    };
  });
}

export function printFirstStepRows(): void {
  const file = JSON.parse(fs.readFileSync(RESULTS, 'utf8')) as TruthRowsFile;
  const scored = score(rowsOf(file), FRAGMENTATION);
  console.log(
    `\nFull fine-tuning with checkpointing, held out (firstStepReserve.ts; random weights, H100, ` +
      `runner/bench/truth_rows.py, ${path.relative(process.cwd(), RESULTS)}; device used = reserved + ${OUTSIDE_RESERVED_GIB.toFixed(3)} GiB)`,
  );
  for (const s of scored) {
    const r = s.row;
    const allocated = Number(r.peak_allocated_gib);
    const reserveMeasured = Number(r.peak_reserved_gib) - allocated;
    const reserveEstimated = s.estimate - s.allocatedEstimate - OUTSIDE_RESERVED_GIB;
    const signed = (s.estimate - s.measured) / s.measured;
    console.log(
      `  ${r.model_id.split('/')[1]!.padEnd(14)} full ${settingsLabel(r).padEnd(26)} est ${s.estimate.toFixed(2).padStart(6)} ` +
        `meas ${s.measured.toFixed(2).padStart(6)} ${((signed >= 0 ? '+' : '') + pct(signed)).padStart(6)}   ` +
        `reserve over allocation est ${reserveEstimated.toFixed(2)} meas ${reserveMeasured.toFixed(2)}   ` +
        `allocated est ${s.allocatedEstimate.toFixed(2)} meas ${allocated.toFixed(2)}`,
    );
  }
  const errors = scored.map((s) => s.err);
  console.log(
    `  device used: median ${pct(median(errors))} worst ${pct(worst(errors))} (n=${errors.length})`,
  );
}

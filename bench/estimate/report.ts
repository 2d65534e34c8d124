// The printed report, section by section: plan check, per-row table, error
// summaries per file, the out-of-memory rows' verdicts, rules of thumb.

import { estimateMemory } from '../../engine/src/estimate/memory';
import { naiveFull, naiveLora, naiveQlora } from './naive';
import { H100, modelForRow, planForRow, planFromRow } from './plans';
import { settingsLabel, sharedDir, type Row } from './rows';
import { summaryLine, type Scored } from './score';
import { GiB, median, pct, worst } from './statistics';

/** Title, and whether the config path (YAML → buildNativePlan) describes the same run as the hand-built Plan. */
export function printPlanCheck(rows: Row[]): void {
  const mismatches = rows.filter((r) => {
    const viaYaml = estimateMemory(planForRow(r), modelForRow(r), undefined).perGpuBytes;
    const byHand = estimateMemory(planFromRow(r), modelForRow(r), undefined).perGpuBytes;
    return Math.abs(viaYaml - byHand) > 1;
  });

  console.log(`Memory estimator vs measured device_used_gib (${sharedDir})`);
  console.log(
    `Plans built from each row's native YAML config (buildNativePlan); ` +
      `${mismatches.length === 0 ? 'identical to' : `${mismatches.length} rows DIFFER from`} the hand-built plans\n`,
  );
  for (const r of mismatches) console.log(`  differs: ${r.model_id} ${settingsLabel(r)}`);
}

/** One line per scored row: estimate, measurement, signed error (and allocated peaks when asked). */
export function printRowTable(scored: Scored[], showAllocated: boolean): void {
  console.log(
    'file'.padEnd(26) +
      'model'.padEnd(25) +
      'method'.padEnd(7) +
      'settings'.padEnd(52) +
      'est GiB'.padStart(8) +
      'meas GiB'.padStart(9) +
      'err'.padStart(8) +
      (showAllocated ? 'alloc est'.padStart(10) + 'alloc meas'.padStart(11) : ''),
  );
  for (const s of scored) {
    const r = s.row;
    const signed = (s.estimate - s.measured) / s.measured;
    console.log(
      r.__file.replace('memory-truth', 'mt').padEnd(26) +
        r.model_id.split('/')[1]!.padEnd(25) +
        r.method.padEnd(7) +
        settingsLabel(r).padEnd(52) +
        s.estimate.toFixed(2).padStart(8) +
        s.measured.toFixed(2).padStart(9) +
        `${signed >= 0 ? '+' : ''}${(100 * signed).toFixed(1)}%`.padStart(8) +
        (showAllocated
          ? s.allocatedEstimate.toFixed(2).padStart(10) +
            Number(r.peak_allocated_gib).toFixed(2).padStart(11)
          : ''),
    );
  }
}

/** Median and worst relative error per file and overall. */
export function printErrorSummaries(scored: Scored[], files: string[]): void {
  console.log('\nRelative error |estimate − device_used| / device_used');
  for (const f of files)
    console.log(
      summaryLine(
        f,
        scored.filter((s) => s.row.__file === f),
      ),
    );
  console.log(summaryLine('overall', scored));
}

/** Rows measured out of memory must not fit 80 GB. */
export function printOomVerdicts(rows: Row[]): void {
  const ooms = rows.filter((r) => r.status === 'oom');
  let notFitting = 0;
  console.log(`\nRows measured out of memory on an 80 GB H100: ${ooms.length}`);
  for (const r of ooms) {
    const est = estimateMemory(planForRow(r), modelForRow(r), H100);
    if (est.fits === false) notFitting++;
    console.log(
      `  ${r.model_id.padEnd(26)} ${r.method.padEnd(6)} ${settingsLabel(r).padEnd(50)} ` +
        `estimate ${(est.perGpuBytes / GiB).toFixed(1)} GiB → ${est.fits ? 'FITS (wrong)' : 'does not fit'}`,
    );
  }
  console.log(`  reported as not fitting: ${notFitting}/${ooms.length}`);
}

/** Each rule of thumb scored on the rows of its own method only. */
export function printRulesOfThumb(scored: Scored[]): void {
  console.log('\nRules of thumb on their own method rows:');
  for (const [label, method, f] of [
    ['LoRA 2.5 B/param', 'lora', naiveLora],
    ['full 14 B/param', 'full', naiveFull],
    ['QLoRA 0.7 B/param + 2 GB', 'qlora', naiveQlora],
  ] as const) {
    const errs = scored
      .filter((s) => s.row.method === method)
      .map((s) => Math.abs(f(s.row) - s.measured) / s.measured);
    console.log(
      `  ${label.padEnd(26)} n=${errs.length}  median ${pct(median(errs))}  worst ${pct(worst(errs))}`,
    );
  }
}

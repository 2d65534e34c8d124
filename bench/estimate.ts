// Accuracy benchmark of the memory estimator against measured runs.
//
//   node --import tsx bench/estimate.ts [--verbose] [--allocated]
//
// Reads every memory-truth*.csv in the shared data folder
// (`../shared/data` next to the repo, or $TUNELAB_SHARED/data), turns each
// row into a config, estimates it, and prints per row: model, method,
// settings, estimate, measured `device_used_gib` and relative error; then
// median and worst relative error per file and overall, the `oom` rows'
// verdicts, the same figures for naive rules of thumb, and a hold-out check
// of the fragmentation constants (fitted on Qwen2.5-0.5B + Llama-3.1-8B
// rows only, scored on the others).
//
// The parts live in bench/estimate/: rows.ts (CSV rows), plans.ts (row →
// config → Plan, model, GPU), naive.ts (rules of thumb, gpu_poor), score.ts,
// fragmentation.ts (hold-out fit), slackFit.ts (the smallest memory's
// slack, refitted under the shared truth's bound), reserveQuanta.ts (the
// rows missed by more than 8%: allocated vs reserve, against their siblings), spotChecks.ts (measured shapes not in the
// CSVs), wholeRuns.ts (the templates as whole runs: memory with evaluation,
// and time), statistics.ts and report.ts.

import { FRAGMENTATION } from '../engine/src/estimate/overhead';
import { printFirstStepRows } from './estimate/firstStepRows';
import { printHoldOut } from './estimate/fragmentation';
import { printLigerPeaks } from './estimate/ligerPeaks';
import {
  printErrorSummaries,
  printOomVerdicts,
  printPlanCheck,
  printRowTable,
  printRulesOfThumb,
} from './estimate/report';
import { loadRows } from './estimate/rows';
import { printReserveQuanta } from './estimate/reserveQuanta';
import { score } from './estimate/score';
import { spotChecks } from './estimate/spotChecks';
import { printSlackFit } from './estimate/slackFit';
import { loadWholeRuns, printSmallestMemory, WHOLE_RUN_SETS } from './estimate/smallestMemory';
import { printWholeRuns } from './estimate/wholeRuns';
import { TIMED_RUN_SETS } from './timedRunSets';
import { printTimedRuns } from './timeWholeRuns';

const verbose = process.argv.includes('--verbose');
const showAllocated = process.argv.includes('--allocated');

function main(): void {
  const rows = loadRows();
  const scored = score(rows, FRAGMENTATION);
  const files = [...new Set(scored.map((s) => s.row.__file))];

  printPlanCheck(rows);
  printRowTable(scored, showAllocated);
  printErrorSummaries(scored, files);
  printReserveQuanta(scored);
  printOomVerdicts(rows);
  // Hold-out: fit the fragmentation constants on two models, score the others.
  printHoldOut(rows, files, verbose);
  printFirstStepRows();
  spotChecks();
  printRulesOfThumb(scored);
  // Whole runs (evaluation included) and the time model (bench/time.ts alone prints more).
  // each run read and analysed once: the runner's expandable segments, and before them
  // PyTorch's default allocator, whose slack model the fit below checks
  const wholeRuns = loadWholeRuns(WHOLE_RUN_SETS.expandable);
  const cachedRuns = loadWholeRuns(WHOLE_RUN_SETS.cached);
  printWholeRuns(wholeRuns, cachedRuns);
  printSmallestMemory(wholeRuns);
  // time over 24 steps, the same configs through the final runner: held out of the time fit
  printTimedRuns(TIMED_RUN_SETS.heldOut);
  printSmallestMemory(cachedRuns);
  printSlackFit(rows, cachedRuns);
  printLigerPeaks();
}

main();

// The rows the estimate misses by more than 8%, taken apart: is the miss in
// the allocated peak or in the allocator's reserve over it, and how does that
// reserve compare with the same model's rows of the same tokens per step?
//
// The reserve over allocation of sibling rows (same model, same tokens, so the
// same logits) differs by about one fp32 logits block (4 B × tokens × vocab):
// whether a step's loss finds a cached free block of that size or opens a
// fresh segment beside a split one is decided by the order of allocations, and
// a linear fragmentation model can only sit between the two outcomes.

import { estimateMemory } from '../../engine/src/estimate/memory';
import {
  CUDA_CONTEXT_BYTES,
  NCCL_BYTES,
  TRAINING_WORKSPACE_BYTES,
} from '../../engine/src/estimate/overhead';
import { gpuForRow, modelForRow, planForRow } from './plans';
import { settingsLabel, type Row } from './rows';
import type { Scored } from './score';
import { GiB } from './statistics';

const tokensOf = (r: Row) => Number(r.seq_len) * Number(r.micro_batch);
const gpusOf = (r: Row) => Number(r.num_gpus || '1');
const measuredReserve = (r: Row) => Number(r.peak_reserved_gib) - Number(r.peak_allocated_gib);

function estimatedReserve(r: Row): number {
  const est = estimateMemory(planForRow(r), modelForRow(r), gpuForRow(r));
  const outside = CUDA_CONTEXT_BYTES + TRAINING_WORKSPACE_BYTES + (gpusOf(r) > 1 ? NCCL_BYTES : 0);
  return (est.bytes.overhead - outside) / GiB;
}

export function printReserveQuanta(scored: Scored[], limit = 0.08): void {
  const misses = scored.filter((s) => Math.abs(s.estimate - s.measured) / s.measured > limit);
  if (misses.length === 0) {
    console.log(
      `\nRows missed by more than ${(100 * limit).toFixed(0)}%: none of ${scored.length}`,
    );
    return;
  }
  console.log(
    `\nRows missed by more than ${(100 * limit).toFixed(0)}%: allocated peak and the reserve over it (reserved − allocated), GiB, ` +
      `against the same model's rows of the same tokens per step (one fp32 logits block = 4 B × tokens × vocab)`,
  );
  for (const s of misses) {
    const r = s.row;
    const block = (4 * tokensOf(r) * modelForRow(r).vocabSize) / GiB;
    const signed = (s.estimate - s.measured) / s.measured;
    console.log(
      `  ${r.model_id.split('/')[1]} ${r.method} ${settingsLabel(r)}: ${signed >= 0 ? '+' : ''}${(100 * signed).toFixed(1)}%; ` +
        `allocated est ${s.allocatedEstimate.toFixed(2)} meas ${Number(r.peak_allocated_gib).toFixed(2)}; ` +
        `reserve est ${estimatedReserve(r).toFixed(2)} meas ${measuredReserve(r).toFixed(2)}; fp32 logits block ${block.toFixed(2)}`,
    );
    const siblings = scored
      .map((x) => x.row)
      .filter(
        (x) =>
          x !== r &&
          x.model_id === r.model_id &&
          tokensOf(x) === tokensOf(r) &&
          gpusOf(x) === gpusOf(r),
      );
    for (const x of siblings) {
      const d = measuredReserve(r) - measuredReserve(x);
      console.log(
        `      ${x.method.padEnd(6)}${settingsLabel(x).padEnd(46)} reserve meas ${measuredReserve(x).toFixed(2)} ` +
          `(this row ${d >= 0 ? '+' : ''}${d.toFixed(2)} = ${d >= 0 ? '+' : ''}${(d / block).toFixed(2)} blocks)`,
      );
    }
  }
}

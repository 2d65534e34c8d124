// Liger Kernel peaks: the throughput benchmark's packed runs (runner/bench,
// H100 80GB, LoRA r16 all-linear dropout 0.05, bf16, adamw_torch_fused, rows
// of 2048 tokens, no evaluation) estimated as plans and set against the
// measured torch peaks (max_memory_allocated / max_memory_reserved). The
// Liger rows (`training.use_liger_kernel: true`) are what activations.ts
// counts Liger's fused kernels for; the others are controls. `device` is
// reserved + 0.749 GiB (CUDA context and workspaces outside torch's pools, as
// on every shared-truth row): the figure perGpuBytes stands for. Rows marked
// `cast` ran with peft's fp32 input cast (the first session's LoRA runs and
// `peftcast`), whose transient fp32 copies the estimate does not count.
//
//   node --import tsx bench/estimate/ligerPeaks.ts
//
// Also printed at the end of `npm run -s bench:estimate`.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { withFusedLoss } from '../../engine/src/estimate/fusedLoss';
import { estimateMemory } from '../../engine/src/estimate/memory';
import { makePlan } from '../../engine/src/estimate/plan-defaults';
import { findGpu } from '../../engine/src/hardware/gpus';
import { findCatalogModel } from '../../engine/src/models/catalog';
import type { Method } from '../../engine/src/plan';
import { OUTSIDE_RESERVED_GIB } from './plans';
import { GiB, median } from './statistics';

const RESULTS = path.resolve(__dirname, '../../runner/bench/results');
const FILES = [
  'throughput-h100.json',
  'throughput-h100-8b-rerun.json',
  'throughput-h100-tuned-rerun.json',
  'throughput-h100-compile.json',
  'throughput-h100-tuned-compile.json',
];

interface BenchRow {
  shape: '1b' | '8b';
  method: Method;
  run: string;
  peak_allocated: number;
  peak_reserved: number;
  config?: {
    model?: { attn_implementation?: string };
    data?: { packing?: boolean; max_length?: number };
    training?: {
      per_device_train_batch_size?: number;
      gradient_accumulation_steps?: number;
      gradient_checkpointing?: boolean;
      use_liger_kernel?: boolean;
      liger_kernel_config?: { rms_norm?: boolean; swiglu?: boolean };
      torch_compile?: boolean;
    };
    prepare_model_for_kbit_training?: boolean | { upcast_to_fp32?: boolean };
  };
}

export interface LigerPeak {
  id: string;
  /** peft's fp32 input cast (transient copies not estimated). */
  peftCast: boolean;
  liger: boolean;
  checkpointing: boolean;
  /** Estimated per-GPU figure (GiB): tensors + context + allocator reserve. */
  perGpu: number;
  /** Estimated tensors alive at the peak (GiB): what max_memory_allocated sees. */
  allocatedEstimate: number;
  allocated: number;
  reserved: number;
}

function kbitUpcast(row: BenchRow): boolean {
  const prep = row.config?.prepare_model_for_kbit_training;
  // runner_overrides writes `prepare_model_for_kbit_training.upcast_to_fp32: false`
  // for QLoRA lean; the config kept in the results omits the section.
  if (typeof prep === 'object' && prep.upcast_to_fp32 === false) return false;
  return !(row.method === 'qlora' && row.run === 'lean');
}

export function ligerPeaks(): LigerPeak[] {
  const gpu = findGpu('H100-80GB');
  if (!gpu) throw new Error('H100-80GB missing from the GPU catalog');
  const out: LigerPeak[] = [];
  for (const file of FILES) {
    const rows = (
      JSON.parse(readFileSync(path.join(RESULTS, file), 'utf8')) as { rows: BenchRow[] }
    ).rows;
    for (const row of rows) {
      const t = row.config?.training;
      if (!t || row.config?.data?.packing !== true) continue; // unpacked 'plain' rows: other data
      const name = row.shape === '1b' ? 'meta-llama/Llama-3.2-1B' : 'meta-llama/Llama-3.1-8B';
      const model = findCatalogModel(name);
      if (!model) throw new Error(`${name} missing from the catalog`);
      const checkpointing = t.gradient_checkpointing !== false;
      const liger = t.use_liger_kernel === true;
      const plan = makePlan({
        method: row.method,
        model: name,
        maxLength: row.config?.data?.max_length ?? 2048,
        microBatch: t.per_device_train_batch_size ?? 1,
        gradAccum: t.gradient_accumulation_steps ?? 1,
        checkpointing,
        optimizer: 'adamw_torch_fused',
        packing: true,
        targets: 'all-linear',
        r: 16,
        dropout: 0.05,
        attention:
          row.config?.model?.attn_implementation === 'flex_attention' ? 'flex_attention' : 'sdpa',
        // these runs predate the runner's expandable segments: PyTorch's default allocator
        expandableSegments: false,
      });
      if (!kbitUpcast(row)) plan.kbitUpcast = false;
      if (t.torch_compile === true) plan.training.torchCompile = true;
      const lkc = t.liger_kernel_config;
      if (lkc) plan.training.ligerKernelConfig = { rmsNorm: lkc.rms_norm, swiglu: lkc.swiglu };
      const est = estimateMemory(withFusedLoss(plan, liger), model, gpu);
      const b = t.per_device_train_batch_size ?? 1;
      const a = t.gradient_accumulation_steps ?? 1;
      out.push({
        id: `${file.replace(/^throughput-h100-?|\.json$/g, '') || 'first'} ${row.shape} ${row.method} ${row.run} (${b}×${a})${t.torch_compile ? ' compiled' : ''}`,
        liger,
        checkpointing,
        peftCast:
          row.method === 'lora' && (file === 'throughput-h100.json' || row.run === 'peftcast'),
        perGpu: est.perGpuBytes / GiB,
        allocatedEstimate: est.phases[est.peakPhase] / GiB,
        allocated: row.peak_allocated / GiB,
        reserved: row.peak_reserved / GiB,
      });
    }
  }
  return out;
}

const pct = (est: number, measured: number) =>
  `${est >= measured ? '+' : ''}${(((est - measured) / measured) * 100).toFixed(1)}%`;

export function printLigerPeaks(): void {
  const rows = ligerPeaks();
  console.log(
    '\n## Liger Kernel peaks (runner/bench/results/throughput-h100*.json, H100, packed 2048)',
  );
  console.log(
    'run'.padEnd(44) +
      'liger ckpt ' +
      'est/GPU'.padStart(8) +
      'reserved'.padStart(9) +
      'err'.padStart(8) +
      'device'.padStart(8) +
      'err'.padStart(8) +
      ' │' +
      'est alloc'.padStart(10) +
      'allocated'.padStart(10) +
      'err'.padStart(8),
  );
  for (const r of rows) {
    console.log(
      r.id.padEnd(44) +
        (r.liger ? 'yes  ' : 'no   ').padEnd(6) +
        (r.checkpointing ? 'yes  ' : 'no   ') +
        r.perGpu.toFixed(2).padStart(8) +
        r.reserved.toFixed(2).padStart(9) +
        pct(r.perGpu, r.reserved).padStart(8) +
        (r.reserved + OUTSIDE_RESERVED_GIB).toFixed(2).padStart(8) +
        pct(r.perGpu, r.reserved + OUTSIDE_RESERVED_GIB).padStart(8) +
        ' │' +
        r.allocatedEstimate.toFixed(2).padStart(10) +
        r.allocated.toFixed(2).padStart(10) +
        pct(r.allocatedEstimate, r.allocated).padStart(8) +
        (r.peftCast ? '  cast' : ''),
    );
  }
  const liger = rows.filter((r) => r.liger);
  const errs = liger.map((r) => Math.abs(r.perGpu / r.reserved - 1));
  const under = liger.filter((r) => r.perGpu < r.allocated * 0.98).map((r) => r.id);
  const allocUnder = liger
    .filter((r) => !r.peftCast && r.allocatedEstimate < r.allocated * 0.98)
    .map((r) => r.id);
  console.log(
    `Liger rows: ${liger.length}, per-GPU vs reserved median ${(median(errs) * 100).toFixed(1)}%, ` +
      `worst ${(Math.max(0, ...errs) * 100).toFixed(1)}%; per-GPU more than 2% below the allocated peak: ` +
      (under.length ? under.join(', ') : 'none') +
      `; estimated allocated more than 2% below it (runs without peft's cast): ${allocUnder.length ? allocUnder.join(', ') : 'none'}`,
  );
}

if (require.main === module) printLigerPeaks();

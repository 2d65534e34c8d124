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

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { GpuSpec } from '../engine/src/hardware/types';
import type { ModelArchitecture } from '../engine/src/models/types';
import YAML from 'yaml';
import { buildNativePlan } from '../engine/src/nativePlan';
import type { Plan } from '../engine/src/plan';
import { estimateMemory } from '../engine/src/estimate/memory';
import { FRAGMENTATION, type FragmentationCoefficients } from '../engine/src/estimate/overhead';
import { makePlan, type PlanOverrides } from '../engine/src/estimate/plan-defaults';
import { countParameters } from '../engine/src/models/params';
import { findGpu } from '../engine/src/hardware/gpus';
import { findCatalogModel } from '../engine/src/models/catalog';

const GiB = 1024 ** 3;
const repoRoot = path.resolve(__dirname, '..');
const sharedDir = process.env.TUNELAB_SHARED
  ? path.join(process.env.TUNELAB_SHARED, 'data')
  : path.resolve(repoRoot, '..', 'shared', 'data');
const verbose = process.argv.includes('--verbose');
const showAllocated = process.argv.includes('--allocated');

// ---------------------------------------------------------------- CSV rows

type Row = Record<string, string> & { __file: string };

function parseCsv(text: string, file: string): Row[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const split = (line: string): string[] => {
    const out: string[] = [];
    let cur = '';
    let quoted = false;
    for (let i = 0; i < line.length; i++) {
      const c = line[i];
      if (quoted) {
        if (c === '"' && line[i + 1] === '"') {
          cur += '"';
          i++;
        } else if (c === '"') quoted = false;
        else cur += c;
      } else if (c === '"') quoted = true;
      else if (c === ',') {
        out.push(cur);
        cur = '';
      } else cur += c;
    }
    out.push(cur);
    return out;
  };
  const header = split(lines[0] ?? '');
  return lines.slice(1).map((line) => {
    const cells = split(line);
    const row: Row = { __file: file };
    header.forEach((h, i) => (row[h] = cells[i] ?? ''));
    return row;
  });
}

// ----------------------------------------------------- row → config → plan

/** The native config a row describes (what a user would write). */
export function rowToYaml(row: Row): string {
  const method = row.method;
  const fp32 = row.weights_dtype === 'fp32_amp_bf16';
  const bf16 = row.training_bf16 ? row.training_bf16 === 'true' : true;
  const numGpus = Number(row.num_gpus || 1);
  const lines = [
    `method: ${method}`,
    'model:',
    `  name_or_path: ${row.model_id}`,
    `  dtype: ${fp32 ? 'float32' : 'bfloat16'}`,
    '  attn_implementation: sdpa',
  ];
  if (method === 'qlora') {
    lines.push(
      'quantization:',
      '  load_in_4bit: true',
      '  bnb_4bit_quant_type: nf4',
      '  bnb_4bit_compute_dtype: bfloat16',
      '  bnb_4bit_use_double_quant: true',
      `prepare_model_for_kbit_training: ${row.prepare_kbit === 'false' ? 'false' : 'true'}`,
    );
  }
  if (method !== 'full') {
    const targets =
      row.lora_targets === 'all-linear'
        ? 'all-linear'
        : `[${row.lora_targets.split('+').join(', ')}]`;
    lines.push(
      'lora:',
      `  r: ${row.lora_r}`,
      `  lora_alpha: ${row.lora_alpha}`,
      `  lora_dropout: ${row.lora_dropout}`,
      `  target_modules: ${targets}`,
    );
  }
  lines.push(
    'data:',
    '  train_file: data/random.jsonl',
    '  format: text',
    `  max_length: ${row.seq_len}`,
    '  packing: false',
    'training:',
    '  output_dir: runs/bench',
    `  per_device_train_batch_size: ${row.micro_batch}`,
    '  gradient_accumulation_steps: 1',
    `  bf16: ${bf16}`,
    `  gradient_checkpointing: ${row.grad_ckpt}`,
    `  optim: ${row.optimizer}`,
    'hardware:',
    `  gpu: ${numGpus > 1 || row.__file.includes('multigpu') ? 'H200-141GB' : 'H100-80GB'}`,
    `  num_gpus: ${numGpus}`,
  );
  if (numGpus > 1) {
    const backend = row.parallelism.startsWith('fsdp') ? 'fsdp' : 'ddp';
    lines.push('launch:', `  distributed: { backend: ${backend}, num_processes: ${numGpus} }`);
  }
  return lines.join('\n') + '\n';
}

/**
 * The Plan of a row, through the real config path: the native YAML a user
 * would write (`rowToYaml`), parsed and mapped by the same `buildNativePlan`
 * the editor and the CLI use. `planFromRow` builds the Plan by hand; the bench
 * checks both give the same estimate on every row.
 */
function planForRow(row: Row): Plan {
  return buildNativePlan(YAML.parse(rowToYaml(row)));
}

function planFromRow(row: Row): Plan {
  const method = row.method as 'full' | 'lora' | 'qlora';
  const numGpus = Number(row.num_gpus || 1);
  return makePlan({
    method,
    model: row.model_id,
    dtype: row.weights_dtype === 'fp32_amp_bf16' ? 'float32' : 'bfloat16',
    r: row.lora_r ? Number(row.lora_r) : undefined,
    alpha: row.lora_alpha ? Number(row.lora_alpha) : undefined,
    dropout: row.lora_dropout ? Number(row.lora_dropout) : undefined,
    targets:
      method === 'full'
        ? undefined
        : row.lora_targets === 'all-linear'
          ? 'all-linear'
          : row.lora_targets.split('+'),
    maxLength: Number(row.seq_len),
    microBatch: Number(row.micro_batch),
    checkpointing: row.grad_ckpt === 'true',
    optimizer: row.optimizer,
    bf16: row.training_bf16 ? row.training_bf16 === 'true' : true,
    prepareKbit: row.prepare_kbit ? row.prepare_kbit === 'true' : true,
    numGpus,
    backend: numGpus > 1 ? (row.parallelism.startsWith('fsdp') ? 'fsdp' : 'ddp') : 'none',
  });
}

function modelForRow(row: Row): ModelArchitecture {
  const m = findCatalogModel(row.model_id);
  if (!m) throw new Error(`${row.model_id} is not in the models catalog`);
  return m;
}

function gpuOrThrow(id: string): GpuSpec {
  const g = findGpu(id);
  if (!g) throw new Error(`${id} is not in the GPU catalog`);
  return g;
}
const H100 = gpuOrThrow('H100-80GB');
const H200 = gpuOrThrow('H200-141GB');

/** The measured machine: H100 80GB, or H200 for the two-GPU file. */
function gpuForRow(row: Row): GpuSpec {
  return row.__file.includes('multigpu') ? H200 : H100;
}

// ------------------------------------------------------------ naive rules

function naiveLora(row: Row): number {
  return (2.5 * Number(row.params_total)) / GiB;
}
function naiveFull(row: Row): number {
  return (14 * Number(row.params_total)) / GiB;
}
function naiveQlora(row: Row): number {
  return (0.7 * Number(row.params_total)) / GiB + 2;
}
/** The rule of thumb for the row's method. */
function naiveRule(row: Row): number {
  if (row.method === 'full') return naiveFull(row);
  if (row.method === 'qlora') return naiveQlora(row);
  return naiveLora(row);
}

/**
 * gpu_poor's training formula (github.com/RahulSChand/gpu_poor, src/App.js),
 * re-derived from its description: params = V·h·2 + L·(4h² + 3·I·h); weights
 * at 2 B (QLoRA: a quarter, minus absmax credit, +6%); activations per layer
 * from h, I, heads and the sequence length (×0.15 with checkpointing);
 * gradients+Adam: full 3 × params × 2 B, LoRA a fixed L·8·h·2·4·3·2 bytes,
 * QLoRA L·8·h·0.5·4·3 + an empirical term; + 650 MiB overhead. Results in MiB.
 */
function gpuPoor(row: Row, model: ModelArchitecture): number {
  const MiB = 1024 * 1024;
  const h = model.hiddenSize;
  const I = model.intermediateSize;
  const L = model.numLayers;
  const heads = model.numAttentionHeads;
  const V = model.vocabSize;
  const len = Number(row.seq_len);
  const batch = Number(row.micro_batch);
  const fB = 2;
  const params = V * h * 2 + L * 4 * h * h + L * 3 * I * h;
  let modelMiB = (params * fB) / MiB;
  if (row.method === 'qlora') modelMiB = modelMiB / 4 - (params * 2) / (64 * MiB) + 0.06 * modelMiB;
  const attn =
    len * h * 3 * fB +
    len * h * 2 * fB +
    len * len * heads * fB +
    len * len * heads * 4 +
    len * len * heads * fB +
    3 * len * h * fB;
  const ffn = 2 * h * len * fB + 5 * fB * len * I + I * len * fB;
  const norm = len * 4 * 2 + len * h * fB * 6;
  let act = ((attn + ffn + norm) * L * batch) / MiB;
  if (row.grad_ckpt === 'true') act *= 0.15;
  let gradOpt: number;
  if (row.method === 'full') gradOpt = params * 3 * fB;
  else if (row.method === 'lora') gradOpt = L * 8 * h * 2 * 4 * 3 * 2;
  else {
    const common = (15 * h + 6 * I) * L;
    const extra = 0.75 * common * 50 * Math.sqrt(Math.max(1, len / 50));
    gradOpt = L * 8 * h * 0.5 * 4 * 3 + extra * batch;
  }
  return (modelMiB + gradOpt / MiB + act + 650) / 1024;
}

// -------------------------------------------------------------- statistics

function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}
function worst(xs: number[]): number {
  return xs.length ? Math.max(...xs) : NaN;
}
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

// ----------------------------------------------------------------- rows in

function loadRows(): Row[] {
  if (!fs.existsSync(sharedDir)) {
    console.error(`no shared data folder at ${sharedDir} (set TUNELAB_SHARED)`);
    process.exit(2);
  }
  const files = fs
    .readdirSync(sharedDir)
    .filter((f) => /^memory-truth.*\.csv$/.test(f))
    .sort();
  return files.flatMap((f) => parseCsv(fs.readFileSync(path.join(sharedDir, f), 'utf8'), f));
}

const CALIBRATION_MODELS = new Set(['Qwen/Qwen2.5-0.5B', 'meta-llama/Llama-3.1-8B']);

function settingsLabel(row: Row): string {
  const bits = [
    row.method === 'full' ? row.weights_dtype : `r${row.lora_r} ${row.lora_targets}`,
    `${row.seq_len}x${row.micro_batch}`,
    row.grad_ckpt === 'true' ? 'ckpt' : 'no-ckpt',
    row.optimizer.replace('adamw_torch_fused', 'fused').replace('paged_adamw_8bit', 'paged8'),
  ];
  if (row.prepare_kbit === 'false') bits.push('no-prep');
  if (row.num_gpus && row.num_gpus !== '1') bits.push(`${row.num_gpus}x ${row.parallelism}`);
  if (row.training_bf16 === 'false') bits.push('bf16=false');
  return bits.join(' ');
}

interface Scored {
  row: Row;
  measured: number;
  estimate: number;
  allocatedEstimate: number;
  err: number;
  naive: number;
  poor: number;
}

function score(rows: Row[], frag: FragmentationCoefficients): Scored[] {
  const out: Scored[] = [];
  for (const row of rows) {
    if (row.status !== 'ok') continue;
    const model = modelForRow(row);
    const est = estimateMemory(planForRow(row), model, gpuForRow(row), { fragmentation: frag });
    const measured = Number(row.device_used_gib);
    const estimate = est.perGpuBytes / GiB;
    out.push({
      row,
      measured,
      estimate,
      allocatedEstimate: est.phases[est.peakPhase] / GiB,
      err: Math.abs(estimate - measured) / measured,
      naive: Math.abs(naiveRule(row) - measured) / measured,
      poor: Math.abs(gpuPoor(row, model) - measured) / measured,
    });
  }
  return out;
}

// -------------------------------------------------- fragmentation hold-out

const FRAG_KEYS = ['base', 'logits', 'recompute', 'backwardGrads', 'sharded'] as const;

/**
 * Least-squares fit (relative residuals) of the fragmentation coefficients on
 * the given rows: device_used − estimate(without fragmentation) is linear in
 * the coefficients, so each coefficient's column is the estimate with that
 * coefficient at 1 minus the estimate with all at 0. Negative coefficients
 * are dropped and the rest refitted (every driver can only add memory).
 */
function fitFragmentation(rows: Row[]): FragmentationCoefficients {
  const zero: FragmentationCoefficients = {
    base: 0,
    logits: 0,
    recompute: 0,
    backwardGrads: 0,
    sharded: 0,
  };
  const X: number[][] = [];
  const y: number[] = [];
  for (const row of rows) {
    if (row.status !== 'ok') continue;
    const plan = planForRow(row);
    const model = modelForRow(row);
    const measured = Number(row.device_used_gib) * GiB;
    const base = estimateMemory(plan, model, undefined, { fragmentation: zero }).perGpuBytes;
    const feats = FRAG_KEYS.map(
      (k) =>
        estimateMemory(plan, model, undefined, {
          fragmentation: { ...zero, [k]: k === 'base' ? GiB : 1 },
        }).perGpuBytes - base,
    );
    const w = 1 / measured;
    X.push(feats.map((v) => v * w));
    y.push((measured - base) * w);
  }
  let active: number[] = FRAG_KEYS.map((_, i) => i);
  for (;;) {
    const k = active.length;
    const A = Array.from({ length: k }, () => new Array<number>(k).fill(0));
    const b = new Array<number>(k).fill(0);
    X.forEach((xr, i) => {
      active.forEach((p, a) => {
        b[a]! += xr[p]! * y[i]!;
        active.forEach((q, c) => (A[a]![c]! += xr[p]! * xr[q]!));
      });
    });
    active.forEach((_, a) => (A[a]![a]! += 1e-9));
    const sol = solve(A, b);
    let neg = -1;
    sol.forEach((v, i) => {
      if (v < 0 && (neg < 0 || v < sol[neg]!)) neg = i;
    });
    if (neg >= 0 && k > 1) {
      active = active.filter((_, i) => i !== neg);
      continue;
    }
    const c = { ...zero };
    active.forEach((p, a) => {
      const key = FRAG_KEYS[p]!;
      c[key] = Math.max(0, sol[a]!) * (key === 'base' ? GiB : 1);
    });
    return c;
  }
}

function describeFrag(c: FragmentationCoefficients): string {
  return (
    `base ${(c.base / GiB).toFixed(3)} GiB, logits ${c.logits.toFixed(3)}, ` +
    `recompute ${c.recompute.toFixed(3)}, backward grads ${c.backwardGrads.toFixed(3)}, sharded ${c.sharded.toFixed(3)}`
  );
}

function solve(A: number[][], b: number[]): number[] {
  const n = b.length;
  const M = A.map((r, i) => [...r, b[i] as number]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r]![c]!) > Math.abs(M[p]![c]!)) p = r;
    [M[c], M[p]] = [M[p]!, M[c]!];
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = M[r]![c]! / M[c]![c]!;
      for (let k = c; k <= n; k++) M[r]![k]! -= f * M[c]![k]!;
    }
  }
  return M.map((r, i) => r[n]! / r[i]!);
}

// ------------------------------------------------------------- spot checks

/**
 * Runs measured in this repo's session on an H100 with the same stack as the
 * shared CSVs (torch 2.11, transformers 5.17, peft 0.21; HF Trainer, bf16,
 * sdpa unless eager, fused AdamW unless stated) but random weights of shapes
 * NOT in those files: a 32k-vocabulary Mistral-like model, Gemma 2 2B
 * (256k vocabulary, softcapping, 4 norms), Qwen3 0.6B (q/k norms), Phi-3
 * mini (fused projections), a small Mixtral-like MoE, plus settings the CSVs
 * lack (LoRA dropout 0, eager attention, r=64, DoRA, foreach AdamW with
 * accumulation). Figures: peak allocated and peak reserved (GiB); device used
 * = reserved + 0.749 GiB as on every CSV row. The script is in ESTIMATE.md.
 * Not used for any calibration.
 */
interface SpotCheck {
  name: string;
  shape: string;
  plan: PlanOverrides;
  allocated: number;
  reserved: number;
}

function shapeArch(
  family: string,
  h: number,
  layers: number,
  heads: number,
  kv: number,
  inter: number,
  vocab: number,
  tied: boolean,
  headDim: number,
  experts?: [number, number],
): ModelArchitecture {
  const a: ModelArchitecture = {
    id: `${family}-shape`,
    family,
    hiddenSize: h,
    numLayers: layers,
    numAttentionHeads: heads,
    numKeyValueHeads: kv,
    headDim,
    intermediateSize: inter,
    vocabSize: vocab,
    tiedEmbeddings: tied,
    paramsTotal: 0,
    linearModules: [],
    chatTemplate: 'none',
    kind: 'base',
    source: 'config',
    ...(experts ? { numExperts: experts[0], numExpertsPerToken: experts[1] } : {}),
  };
  a.paramsTotal = countParameters(a);
  return a;
}

const SPOT_SHAPES: Record<string, ModelArchitecture> = {
  'Llama-3.2-1B shape': shapeArch('llama', 2048, 16, 32, 8, 8192, 128256, true, 64),
  'Mistral-like 1.1B (32k vocab)': shapeArch('mistral', 2048, 16, 16, 8, 5632, 32000, false, 128),
  'Gemma-2-2B shape': shapeArch('gemma2', 2304, 26, 8, 4, 9216, 256000, true, 256),
  'Qwen3-0.6B shape': shapeArch('qwen3', 1024, 28, 16, 8, 3072, 151936, true, 128),
  'Phi-3-mini shape': shapeArch('phi3', 3072, 32, 32, 32, 8192, 32064, false, 96),
  'MoE 8x(1024/2048) top-2': shapeArch('mixtral', 1024, 8, 16, 8, 2048, 32000, false, 64, [8, 2]),
};

const SPOT_CHECKS: SpotCheck[] = [
  {
    name: 'LoRA dropout 0, 2048, no ckpt',
    shape: 'Llama-3.2-1B shape',
    plan: { method: 'lora', dropout: 0, maxLength: 2048, checkpointing: false },
    allocated: 9.022,
    reserved: 9.641,
  },
  {
    name: 'LoRA eager attention, 1024',
    shape: 'Llama-3.2-1B shape',
    plan: { method: 'lora', maxLength: 1024, checkpointing: false, attention: 'eager' },
    allocated: 9.106,
    reserved: 9.506,
  },
  {
    name: 'LoRA r64, 4096, ckpt',
    shape: 'Llama-3.2-1B shape',
    plan: { method: 'lora', r: 64, maxLength: 4096, checkpointing: true },
    allocated: 9.023,
    reserved: 10.328,
  },
  {
    name: 'DoRA, 2048, ckpt',
    shape: 'Llama-3.2-1B shape',
    plan: { method: 'lora', dora: true, maxLength: 2048, checkpointing: true },
    allocated: 5.572,
    reserved: 7.035,
  },
  {
    name: 'LoRA dropout 0, 2048x2, ckpt',
    shape: 'Llama-3.2-1B shape',
    plan: { method: 'lora', dropout: 0, maxLength: 2048, microBatch: 2, checkpointing: true },
    allocated: 8.644,
    reserved: 10.059,
  },
  {
    name: 'LoRA r8 q/v, 2048x2, ckpt',
    shape: 'Mistral-like 1.1B (32k vocab)',
    plan: {
      method: 'lora',
      r: 8,
      targets: ['q_proj', 'v_proj'],
      maxLength: 2048,
      microBatch: 2,
      checkpointing: true,
    },
    allocated: 3.472,
    reserved: 3.957,
  },
  {
    name: 'full, 2048, no ckpt',
    shape: 'Mistral-like 1.1B (32k vocab)',
    plan: { method: 'full', maxLength: 2048, checkpointing: false },
    allocated: 8.536,
    reserved: 8.777,
  },
  {
    name: 'full foreach AdamW, 1024x2, accum 2',
    shape: 'Mistral-like 1.1B (32k vocab)',
    plan: {
      method: 'full',
      maxLength: 1024,
      microBatch: 2,
      gradAccum: 2,
      checkpointing: true,
      optimizer: 'adamw_torch',
    },
    allocated: 8.323,
    reserved: 8.871,
  },
  {
    name: 'LoRA, 2048, ckpt',
    shape: 'Gemma-2-2B shape',
    plan: { method: 'lora', maxLength: 2048, checkpointing: true },
    allocated: 12.249,
    reserved: 13.746,
  },
  {
    name: 'LoRA eager, 1024, no ckpt',
    shape: 'Gemma-2-2B shape',
    plan: { method: 'lora', maxLength: 1024, checkpointing: false, attention: 'eager' },
    allocated: 14.592,
    reserved: 15.447,
  },
  {
    name: 'LoRA, 2048, no ckpt',
    shape: 'Qwen3-0.6B shape',
    plan: { method: 'lora', maxLength: 2048, checkpointing: false },
    allocated: 9.176,
    reserved: 9.836,
  },
  {
    name: 'full foreach AdamW, 2048x2, ckpt',
    shape: 'Qwen3-0.6B shape',
    plan: {
      method: 'full',
      maxLength: 2048,
      microBatch: 2,
      checkpointing: true,
      optimizer: 'adamw_torch',
    },
    allocated: 10.599,
    reserved: 11.984,
  },
  {
    name: 'LoRA, 1024, no ckpt',
    shape: 'Phi-3-mini shape',
    plan: { method: 'lora', maxLength: 1024, checkpointing: false },
    allocated: 12.909,
    reserved: 13.186,
  },
  {
    name: 'full, 2048, ckpt',
    shape: 'MoE 8x(1024/2048) top-2',
    plan: { method: 'full', maxLength: 2048, checkpointing: true },
    allocated: 3.771,
    reserved: 4.33,
  },
];

function spotChecks(): void {
  console.log(
    '\nSpot checks: shapes and settings not in the CSVs (measured here, random weights; not used for calibration)',
  );
  const errs: number[] = [];
  const allocErrs: number[] = [];
  for (const c of SPOT_CHECKS) {
    const model = SPOT_SHAPES[c.shape]!;
    const est = estimateMemory(makePlan(c.plan), model, undefined);
    const dev = est.perGpuBytes / GiB;
    const measured = c.reserved + 0.749;
    const alloc = est.phases[est.peakPhase] / GiB;
    const e = (dev - measured) / measured;
    const ea = (alloc - c.allocated) / c.allocated;
    errs.push(Math.abs(e));
    allocErrs.push(Math.abs(ea));
    console.log(
      `  ${c.shape.padEnd(30)} ${c.name.padEnd(38)} est ${dev.toFixed(2).padStart(6)} meas ${measured.toFixed(2).padStart(6)} ${`${e >= 0 ? '+' : ''}${(100 * e).toFixed(1)}%`.padStart(7)}` +
        `   allocated est ${alloc.toFixed(2).padStart(6)} meas ${c.allocated.toFixed(2).padStart(6)} ${`${ea >= 0 ? '+' : ''}${(100 * ea).toFixed(1)}%`.padStart(7)}`,
    );
  }
  console.log(
    `  device used: median ${pct(median(errs))} worst ${pct(worst(errs))}; allocated: median ${pct(median(allocErrs))} worst ${pct(worst(allocErrs))}`,
  );
}

// -------------------------------------------------------------------- main

function summaryLine(label: string, s: Scored[]): string {
  const e = s.map((x) => x.err);
  const n = s.map((x) => x.naive);
  const p = s.map((x) => x.poor);
  return (
    `${label.padEnd(34)} n=${String(s.length).padStart(3)}  ` +
    `estimator median ${pct(median(e)).padStart(6)} worst ${pct(worst(e)).padStart(6)} | ` +
    `rule of thumb median ${pct(median(n)).padStart(6)} worst ${pct(worst(n)).padStart(7)} | ` +
    `gpu_poor median ${pct(median(p)).padStart(6)} worst ${pct(worst(p)).padStart(7)}`
  );
}

function main(): void {
  const rows = loadRows();
  const scored = score(rows, FRAGMENTATION);

  // The config path (YAML → buildNativePlan) must describe the same run as the hand-built Plan.
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

  console.log('\nRelative error |estimate − device_used| / device_used');
  const files = [...new Set(scored.map((s) => s.row.__file))];
  for (const f of files)
    console.log(
      summaryLine(
        f,
        scored.filter((s) => s.row.__file === f),
      ),
    );
  console.log(summaryLine('overall', scored));

  // OOM rows must not fit 80 GB.
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

  // Hold-out: fit the fragmentation constants on two models, score the others.
  const calib = rows.filter((r) => CALIBRATION_MODELS.has(r.model_id));
  const fitted = fitFragmentation(calib);
  const held = score(
    rows.filter((r) => !CALIBRATION_MODELS.has(r.model_id)),
    fitted,
  );
  const tuned = score(calib, fitted);
  console.log(
    `\nHold-out: fragmentation constants fitted on ${[...CALIBRATION_MODELS].join(' + ')} rows only:\n` +
      `  fitted:  ${describeFrag(fitted)}\n  shipped: ${describeFrag(FRAGMENTATION)}`,
  );
  console.log(summaryLine('  tuned-on rows (0.5B, 8B)', tuned));
  console.log(summaryLine('  rows it was not tuned on (1B, 7B)', held));
  for (const f of files) {
    const h = held.filter((s) => s.row.__file === f);
    if (h.length) console.log(summaryLine(`    ${f}`, h));
  }
  if (verbose) {
    for (const s of held.sort((a, b) => b.err - a.err).slice(0, 8)) {
      console.log(`    ${pct(s.err).padStart(6)} ${s.row.model_id} ${settingsLabel(s.row)}`);
    }
  }

  spotChecks();

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

main();

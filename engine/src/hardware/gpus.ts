// The GPU catalog behind `hardware.gpu` / `--gpu` (config.md, "GPU ids").
//
// Memory convention: memoryBytes = the marketed size read as GiB (80 GB →
// 80 × 2^30 bytes). It is close to what nvidia-smi reports as total memory
// (an H100 80GB shows 81559 MiB = 79.6 GiB) and is the figure users compare
// the estimate with; the estimate itself already includes the CUDA context.
//
// tflopsBf16 is the vendor's dense (no 2:4 sparsity) bf16 tensor-core peak
// with fp32 accumulation, or fp16 where the card has no bf16 (T4, V100).

import { editDistance } from '../schema/didYouMean';
import type { GpuSpec } from './types';

const GiB = 2 ** 30;

interface GpuEntry extends GpuSpec {
  /** Model names this entry answers to (normalised: lowercase, no spaces or dashes). */
  models: string[];
}

function gpu(
  id: string,
  name: string,
  memoryGb: number,
  computeCapability: number,
  tflopsBf16: number,
  models: string[],
): GpuEntry {
  // bf16 and FlashAttention 2 both need Ampere (compute capability 8.0) or newer.
  const ampereOrNewer = computeCapability >= 8;
  return {
    id,
    name,
    memoryBytes: memoryGb * GiB,
    bf16: ampereOrNewer,
    flashAttention: ampereOrNewer,
    tflopsBf16,
    computeCapability,
    models,
  };
}

// Where one model name has several memory sizes, the smallest comes first: a
// bare `a100` then means the 40 GB card, so a fit check never promises memory
// the user's card may not have. H100 80GB (SXM) is both the smallest and the
// most common H100.
const GPUS: readonly GpuEntry[] = [
  gpu('B200-180GB', 'NVIDIA B200', 180, 10.0, 2250, ['b200']),
  gpu('H200-141GB', 'NVIDIA H200', 141, 9.0, 989, ['h200']),
  gpu('H100-80GB', 'NVIDIA H100 80GB HBM3', 80, 9.0, 989, [
    'h100',
    'h100sxm',
    'h100sxm5',
    'h100pcie',
  ]),
  gpu('H100-94GB', 'NVIDIA H100 NVL', 94, 9.0, 835, ['h100', 'h100nvl']),
  gpu('H20-96GB', 'NVIDIA H20', 96, 9.0, 148, ['h20']),
  gpu('A100-40GB', 'NVIDIA A100-SXM4-40GB', 40, 8.0, 312, [
    'a100',
    'a100sxm',
    'a100sxm4',
    'a100pcie',
  ]),
  gpu('A100-80GB', 'NVIDIA A100-SXM4-80GB', 80, 8.0, 312, [
    'a100',
    'a100sxm',
    'a100sxm4',
    'a100pcie',
  ]),
  gpu('L40S-48GB', 'NVIDIA L40S', 48, 8.9, 362, ['l40s']),
  gpu('RTX6000Ada-48GB', 'NVIDIA RTX 6000 Ada Generation', 48, 8.9, 364, ['rtx6000ada', '6000ada']),
  gpu('A6000-48GB', 'NVIDIA RTX A6000', 48, 8.6, 155, ['a6000', 'rtxa6000']),
  // A10G (AWS g5) has fewer tensor-core TFLOP/s than the A10 (125).
  gpu('A10G-24GB', 'NVIDIA A10G', 24, 8.6, 70, ['a10g']),
  gpu('L4-24GB', 'NVIDIA L4', 24, 8.9, 121, ['l4']),
  gpu('RTX4090-24GB', 'NVIDIA GeForce RTX 4090', 24, 8.9, 165, ['rtx4090', '4090']),
  gpu('RTX3090-24GB', 'NVIDIA GeForce RTX 3090', 24, 8.6, 71, ['rtx3090', '3090']),
  gpu('T4-16GB', 'Tesla T4', 16, 7.5, 65, ['t4']),
  gpu('V100-16GB', 'Tesla V100-SXM2-16GB', 16, 7.0, 125, ['v100', 'v100sxm2', 'v100pcie']),
  gpu('V100-32GB', 'Tesla V100-SXM2-32GB', 32, 7.0, 125, ['v100', 'v100sxm2', 'v100pcie']),
];

function toSpec({ models: _models, ...spec }: GpuEntry): GpuSpec {
  return spec;
}

/** Every catalog GPU, largest first. */
export function listGpus(): GpuSpec[] {
  return GPUS.map(toSpec);
}

// Words in vendor and nvidia-smi names that do not tell cards apart.
const NOISE_WORDS = new Set([
  'nvidia',
  'geforce',
  'tesla',
  'quadro',
  'generation',
  'hbm3',
  'hbm3e',
  'hbm2',
  'hbm2e',
  'gpu',
]);

/** Splits a user's GPU name into its model name and, when given, its memory in GB. */
function parseGpuName(text: string): { model: string; memoryGb?: number } {
  const words = text
    .toLowerCase()
    // '80 GB' → '80gb', so the size stays one word.
    .replace(/(\d)\s+(gib|gb|g)\b/g, '$1$2')
    .split(/[\s\-_/,()]+/)
    .filter((word) => word && !NOISE_WORDS.has(word));
  let memoryGb: number | undefined;
  const modelWords: string[] = [];
  for (const word of words) {
    const memory = /^(\d+(?:\.\d+)?)(?:gb|g|gib)$/.exec(word);
    if (memory) memoryGb = Number(memory[1]);
    else modelWords.push(word);
  }
  return { model: modelWords.join(''), memoryGb };
}

/**
 * The catalog GPU for an id or a forgiving name: `H100-80GB`, `h100`,
 * `A100 80GB`, `a100-80g`, `rtx 4090`, `4090`, or nvidia-smi's
 * `NVIDIA A100-SXM4-80GB`. A name without memory gets the smallest variant.
 */
export function findGpu(idOrName: string): GpuSpec | undefined {
  const wanted = idOrName.trim().toLowerCase();
  if (!wanted) return undefined;
  const exact = GPUS.find((entry) => entry.id.toLowerCase() === wanted);
  if (exact) return toSpec(exact);

  const { model, memoryGb } = parseGpuName(idOrName);
  if (!model) return undefined;
  const candidates = GPUS.filter((entry) => entry.models.includes(model));
  const chosen =
    memoryGb === undefined
      ? candidates.reduce<GpuEntry | undefined>(
          (smallest, entry) =>
            !smallest || entry.memoryBytes < smallest.memoryBytes ? entry : smallest,
          undefined,
        )
      : candidates.find((entry) => entry.memoryBytes === memoryGb * GiB);
  return chosen && toSpec(chosen);
}

/** `hardware.gpu` as a mapping (config.md): snake_case as written, or the Plan's camelCase. */
export interface GpuObject {
  name?: string;
  memory_gb?: number;
  memoryGb?: number;
  bf16?: boolean;
  flash_attention?: boolean;
  flashAttention?: boolean;
}

/**
 * A GpuSpec for a card described by hand. What the mapping leaves out comes
 * from the catalog card of the same name when there is one; otherwise bf16
 * and FlashAttention are assumed (most cards in use are Ampere or newer, and a
 * false "unsupported" error is worse than silence), and throughput and compute
 * capability are 0, meaning unknown. Undefined when the memory is not a
 * positive number.
 */
export function gpuFromObject(object: GpuObject): GpuSpec | undefined {
  const memoryGb = object.memory_gb ?? object.memoryGb;
  if (typeof memoryGb !== 'number' || !Number.isFinite(memoryGb) || memoryGb <= 0) return undefined;
  const name = object.name?.trim() || `GPU ${memoryGb}GB`;
  const known = findGpu(`${name} ${memoryGb}GB`) ?? findGpu(name);
  return {
    id: name,
    name,
    memoryBytes: Math.round(memoryGb * GiB),
    bf16: object.bf16 ?? known?.bf16 ?? true,
    flashAttention:
      object.flash_attention ?? object.flashAttention ?? known?.flashAttention ?? true,
    tflopsBf16: known?.tflopsBf16 ?? 0,
    computeCapability: known?.computeCapability ?? 0,
  };
}

/**
 * Catalog ids close to a GPU name that `findGpu` does not know, nearest first:
 * a model name one or two edits away (`H1OO` → H100-80GB, `A10O 80GB` →
 * A100-80GB), or the right model with a memory size the catalog lacks
 * (`A100 90GB` → the A100s, nearest size first). Empty when nothing is close.
 */
export function suggestGpuIds(name: string, limit = 3): string[] {
  const { model, memoryGb } = parseGpuName(name);
  const whole = name.toLowerCase().replace(/[^a-z0-9]/g, '');
  if (!model && !whole) return [];
  const scored: { id: string; distance: number; memoryGap: number }[] = [];
  for (const entry of GPUS) {
    const distance = Math.min(
      editDistance(whole, entry.id.toLowerCase().replace(/[^a-z0-9]/g, '')),
      ...entry.models.map((alias) => editDistance(model, alias)),
    );
    const memoryGap =
      memoryGb === undefined
        ? entry.memoryBytes / GiB
        : Math.abs(entry.memoryBytes / GiB - memoryGb);
    scored.push({ id: entry.id, distance, memoryGap });
  }
  // Short names tolerate one edit, longer ones two (`h1oo` → h100, not every `h`-card).
  const allowed = model.length <= 3 ? 1 : 2;
  // The right model with a size the catalog lacks: its sizes only.
  const exactModel = scored.some((s) => s.distance === 0);
  return scored
    .filter((s) => s.distance <= (exactModel ? 0 : allowed))
    .sort((a, b) => a.distance - b.distance || a.memoryGap - b.memoryGap)
    .slice(0, limit)
    .map((s) => s.id);
}

export interface GpuSpec {
  /** Catalog id such as 'H100-80GB', or the name a user gave. */
  id: string;
  name: string;
  /** Memory as the vendor states it, in bytes (80 GB H100 → 80 GiB = 85899345920). */
  memoryBytes: number;
  bf16: boolean;
  flashAttention: boolean;
  /** Dense bf16 (or fp16 where bf16 is missing) tensor throughput, TFLOP/s, for time estimates. */
  tflopsBf16: number;
  /** Compute capability, e.g. 9.0 for Hopper. */
  computeCapability: number;
}

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findGpu, gpuFromObject, listGpus, suggestGpuIds } from './gpus';

const GiB = 2 ** 30;

describe('GPU catalog', () => {
  const REQUIRED = [
    'H200-141GB',
    'H100-80GB',
    'H100-94GB',
    'A100-80GB',
    'A100-40GB',
    'L40S-48GB',
    'A10G-24GB',
    'L4-24GB',
    'RTX4090-24GB',
    'RTX3090-24GB',
    'T4-16GB',
    'V100-32GB',
    'V100-16GB',
  ];

  it('holds every id of config.md with memory from the id', () => {
    const byId = new Map(listGpus().map((gpu) => [gpu.id, gpu]));
    for (const id of REQUIRED) {
      const gpu = byId.get(id);
      assert.ok(gpu, id);
      const memoryGb = Number(/-(\d+)GB$/.exec(id)?.[1]);
      assert.equal(gpu.memoryBytes, memoryGb * GiB, id);
    }
  });

  it('has unique ids', () => {
    const ids = listGpus().map((gpu) => gpu.id);
    assert.equal(new Set(ids).size, ids.length);
  });

  it('marks bf16 and FlashAttention from Ampere on', () => {
    for (const id of ['T4-16GB', 'V100-32GB', 'V100-16GB']) {
      assert.equal(findGpu(id)?.bf16, false, id);
      assert.equal(findGpu(id)?.flashAttention, false, id);
    }
    for (const id of [
      'A100-40GB',
      'A10G-24GB',
      'RTX3090-24GB',
      'L4-24GB',
      'H100-80GB',
      'H200-141GB',
    ]) {
      assert.equal(findGpu(id)?.bf16, true, id);
      assert.equal(findGpu(id)?.flashAttention, true, id);
    }
  });

  it('gives dense bf16 throughput and compute capability', () => {
    assert.equal(findGpu('H100-80GB')?.tflopsBf16, 989);
    assert.equal(findGpu('A100-80GB')?.tflopsBf16, 312);
    assert.equal(findGpu('H100-80GB')?.computeCapability, 9.0);
    assert.equal(findGpu('RTX4090-24GB')?.computeCapability, 8.9);
    for (const gpu of listGpus())
      assert.ok(gpu.tflopsBf16 > 0 && gpu.computeCapability > 0, gpu.id);
  });
});

describe('findGpu', () => {
  const cases: [string, string | undefined][] = [
    ['H100-80GB', 'H100-80GB'],
    ['h100-80gb', 'H100-80GB'],
    ['h100', 'H100-80GB'],
    ['H100 NVL', 'H100-94GB'],
    ['h100 94gb', 'H100-94GB'],
    ['A100 80GB', 'A100-80GB'],
    ['a100-80g', 'A100-80GB'],
    ['A100 80 GB', 'A100-80GB'],
    ['a100', 'A100-40GB'],
    ['rtx 4090', 'RTX4090-24GB'],
    ['4090', 'RTX4090-24GB'],
    ['RTX_3090', 'RTX3090-24GB'],
    ['t4', 'T4-16GB'],
    ['v100', 'V100-16GB'],
    ['V100 32GB', 'V100-32GB'],
    ['l40s', 'L40S-48GB'],
    ['A10G', 'A10G-24GB'],
    // nvidia-smi names
    ['NVIDIA H100 80GB HBM3', 'H100-80GB'],
    ['NVIDIA A100-SXM4-40GB', 'A100-40GB'],
    ['NVIDIA GeForce RTX 4090', 'RTX4090-24GB'],
    ['Tesla V100-SXM2-32GB', 'V100-32GB'],
    ['NVIDIA RTX 6000 Ada Generation', 'RTX6000Ada-48GB'],
    // unknown cards and sizes
    ['a100 60gb', undefined],
    ['MI300X', undefined],
    ['', undefined],
  ];
  for (const [input, id] of cases) {
    it(`reads ${JSON.stringify(input)} as ${id ?? 'unknown'}`, () =>
      assert.equal(findGpu(input)?.id, id));
  }
});

describe('gpuFromObject', () => {
  it('takes the mapping as written', () => {
    const gpu = gpuFromObject({
      name: 'MI300X',
      memory_gb: 192,
      bf16: true,
      flash_attention: false,
    });
    assert.deepEqual(gpu, {
      id: 'MI300X',
      name: 'MI300X',
      memoryBytes: 192 * GiB,
      bf16: true,
      flashAttention: false,
      tflopsBf16: 0,
      computeCapability: 0,
    });
  });

  it('fills unstated capabilities from a known card of that name', () => {
    const gpu = gpuFromObject({ name: 'T4', memory_gb: 15 });
    assert.equal(gpu?.memoryBytes, 15 * GiB);
    assert.equal(gpu?.bf16, false);
    assert.equal(gpu?.flashAttention, false);
    assert.equal(gpu?.tflopsBf16, 65);
  });

  it("accepts the Plan's camelCase and rejects a missing memory", () => {
    assert.equal(
      gpuFromObject({ name: 'box', memoryGb: 24, flashAttention: false })?.flashAttention,
      false,
    );
    assert.equal(gpuFromObject({ name: 'box' }), undefined);
    assert.equal(gpuFromObject({ name: 'box', memory_gb: 0 }), undefined);
  });
});

describe('suggestGpuIds (did you mean, for a name findGpu does not know)', () => {
  it('suggests the card one or two edits away, smallest memory first', () => {
    assert.equal(findGpu('H1OO'), undefined);
    assert.deepEqual(suggestGpuIds('H1OO'), ['H100-80GB', 'H100-94GB']);
    assert.deepEqual(suggestGpuIds('A1OO-80GB').slice(0, 1), ['A100-80GB']);
    assert.deepEqual(suggestGpuIds('RTX 5090'), ['RTX4090-24GB', 'RTX3090-24GB']);
    assert.deepEqual(suggestGpuIds('L40'), ['L4-24GB', 'L40S-48GB']);
  });

  it('for a known model with a size it does not come in, its sizes only, nearest first', () => {
    assert.equal(findGpu('A100 90GB'), undefined);
    assert.deepEqual(suggestGpuIds('A100 90GB'), ['A100-80GB', 'A100-40GB']);
  });

  it('nothing for a card far from every catalog name', () => {
    assert.deepEqual(suggestGpuIds('MI300X'), []);
    assert.deepEqual(suggestGpuIds('Gaudi 3'), []);
    assert.deepEqual(suggestGpuIds(''), []);
  });

  it('every suggestion is a catalog id that findGpu resolves', () => {
    for (const name of ['H1OO', 'A100 90GB', 'RTX 5090', 'GH200', 'Tesla P100']) {
      for (const id of suggestGpuIds(name)) assert.equal(findGpu(id)?.id, id, `${name} → ${id}`);
    }
  });
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyze } from '../../engine';
import { findings, textAt } from '../testing';

const yamlFor = (gpu: string) => `method: lora
model:
  name_or_path: meta-llama/Llama-3.1-8B
lora: { r: 16, lora_alpha: 32, target_modules: all-linear }
data: { max_length: 2048 }
training:
  per_device_train_batch_size: 4
  gradient_checkpointing: true
hardware:
  gpu: ${gpu}
launch:
  env: { PYTORCH_CUDA_ALLOC_CONF: "expandable_segments:False" } # as the measured run had it
`;

function fraction(gpu: string): number {
  const analysis = analyze(yamlFor(gpu), '/virtual/tight.finetune.yaml');
  return analysis.estimate!.perGpuBytes / analysis.gpu!.memoryBytes;
}

test('fires between 90% and 100% of the GPU, on the method', () => {
  // The measured run (2048×4, checkpointing) used 34.9 GiB: on a 36-38 GiB card that is tight.
  const gpu = '{ name: Card, memory_gb: 37 }';
  assert.ok(fraction(gpu) > 0.9 && fraction(gpu) <= 1, String(fraction(gpu)));
  const yaml = yamlFor(gpu);
  const [hit] = findings('memory-tight', yaml);
  assert.equal(hit.severity, 'warning');
  assert.equal(textAt(yaml, hit.range), 'lora');
  assert.match(hit.message, /\d+% of Card/);
});

test('silent with headroom, and when it does not fit at all (that is memory-exceeds-gpu)', () => {
  assert.deepEqual(findings('memory-tight', yamlFor('H100-80GB')), []);
  assert.deepEqual(findings('memory-tight', yamlFor('RTX4090-24GB')), []);
  assert.equal(findings('memory-exceeds-gpu', yamlFor('RTX4090-24GB')).length, 1);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findings, textAt } from '../testing';

const config = (opts: {
  method?: string;
  bf16?: boolean;
  backend?: string;
  model?: string;
}) => `method: ${opts.method ?? 'full'}
model:
  name_or_path: ${opts.model ?? 'meta-llama/Llama-3.1-8B'}
${opts.method && opts.method !== 'full' ? 'lora:\n  r: 16\n  lora_alpha: 32\n' : ''}training:
  bf16: ${opts.bf16 ?? true}
launch:
  target: local
  distributed: { backend: ${opts.backend ?? 'fsdp'}, num_processes: 2 }
`;

test('full + fsdp + bf16 fires on the backend value with the per-GPU numbers', () => {
  const yaml = config({});
  const [hit] = findings('fsdp-fp32-master', yaml);
  assert.equal(hit.severity, 'info');
  assert.equal(textAt(yaml, hit.range), 'fsdp');
  assert.match(hit.message, /16 bytes per parameter/);
  assert.match(hit.message, /72\.7 GiB per GPU for 8B on 2 GPUs/);
  // 8.03B × 16 B = 119.7 GiB, 59.8 GiB per GPU on 2.
  assert.match(hit.message, /8\.03B parameters\) that is 119\.7 GiB .* 59\.8 GiB per GPU on 2/);
  assert.equal(hit.fixes, undefined);
});

test('unknown model: fires without the model numbers', () => {
  const yaml = config({ model: 'acme/unknown-8b' });
  const [hit] = findings('fsdp-fp32-master', yaml);
  assert.doesNotMatch(hit.message, /per GPU on 2\./);
});

test('near misses stay silent: no bf16, ddp, lora', () => {
  assert.deepEqual(findings('fsdp-fp32-master', config({ bf16: false })), []);
  assert.deepEqual(findings('fsdp-fp32-master', config({ backend: 'ddp' })), []);
  assert.deepEqual(findings('fsdp-fp32-master', config({ method: 'lora' })), []);
});

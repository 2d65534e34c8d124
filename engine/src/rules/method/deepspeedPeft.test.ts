import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyFix, findings, textAt } from '../testing';

const config = (method: string, extra = '') => `method: ${method}
model:
  name_or_path: meta-llama/Llama-3.1-8B
${method === 'full' ? '' : 'lora:\n  r: 16\n  lora_alpha: 32\n'}training:
  deepspeed: ds_config_zero2.json  # from a template
  bf16: true
${extra}`;

test('LoRA with deepspeed on one GPU fires on the value; the fix removes the line', () => {
  const yaml = config('lora');
  const [hit] = findings('deepspeed-peft', yaml);
  assert.equal(hit.severity, 'info');
  assert.equal(textAt(yaml, hit.range), 'ds_config_zero2.json');
  assert.match(hit.message, /with LoRA on a single GPU/);
  const fixed = applyFix(yaml, hit);
  assert.match(fixed, /\ntraining:\n {2}bf16: true\n$/);
  assert.deepEqual(findings('deepspeed-peft', fixed), []);
});

test('QLoRA with an inline deepspeed config and hardware.num_gpus: 1 fires', () => {
  const yaml = config('qlora', 'hardware:\n  num_gpus: 1\n').replace(
    'ds_config_zero2.json  # from a template',
    '{ zero_optimization: { stage: 2 } }',
  );
  const [hit] = findings('deepspeed-peft', yaml);
  assert.equal(textAt(yaml, hit.range), '{ zero_optimization: { stage: 2 } }');
  assert.match(hit.message, /QLoRA/);
});

test('near misses stay silent: several GPUs (three ways), full fine-tuning, no deepspeed', () => {
  assert.deepEqual(findings('deepspeed-peft', config('lora', 'hardware:\n  num_gpus: 4\n')), []);
  assert.deepEqual(findings('deepspeed-peft', config('lora'), { numGpus: 2 }), []);
  assert.deepEqual(
    findings(
      'deepspeed-peft',
      config('lora', 'launch:\n  distributed: { backend: deepspeed, num_processes: 2 }\n'),
    ),
    [],
  );
  assert.deepEqual(findings('deepspeed-peft', config('full')), []);
  assert.deepEqual(
    findings(
      'deepspeed-peft',
      'method: lora\nmodel:\n  name_or_path: x\nlora:\n  r: 8\ntraining:\n  bf16: true\n',
    ),
    [],
  );
});

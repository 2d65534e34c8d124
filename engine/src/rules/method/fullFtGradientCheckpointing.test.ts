import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyFix, findings, textAt } from '../testing';

const config = (model: string, training: string, method = 'full') => `method: ${method}
model:
  name_or_path: ${model}
${method === 'full' ? '' : 'lora:\n  r: 16\n  lora_alpha: 32\n'}training:
${training}
`;

test('8B with gradient_checkpointing false fires on the value; the fix sets true', () => {
  const yaml = config(
    'meta-llama/Llama-3.1-8B',
    '  gradient_checkpointing: false  # speed\n  bf16: true',
  );
  const [hit] = findings('full-ft-gradient-checkpointing', yaml);
  assert.equal(hit.severity, 'warning');
  assert.equal(textAt(yaml, hit.range), 'false');
  assert.match(
    hit.message,
    /Llama 3\.1 8B \(8\.03B parameters\) with `gradient_checkpointing` off/,
  );
  const fixed = applyFix(yaml, hit);
  assert.match(fixed, /gradient_checkpointing: true {2}# speed\n/);
  assert.deepEqual(findings('full-ft-gradient-checkpointing', fixed), []);
});

test('Llama 2 7B (6.74B) without the key fires on the training key; the fix adds it', () => {
  const yaml = config('meta-llama/Llama-2-7b-hf', '  bf16: true');
  const [hit] = findings('full-ft-gradient-checkpointing', yaml);
  assert.equal(textAt(yaml, hit.range), 'training');
  assert.match(hit.message, /6\.74B parameters\) without `gradient_checkpointing`/);
  const fixed = applyFix(yaml, hit);
  assert.match(fixed, /\n {2}bf16: true\n {2}gradient_checkpointing: true\n/);
  assert.deepEqual(findings('full-ft-gradient-checkpointing', fixed), []);
});

test('near misses stay silent: checkpointing on, a 3B model, LoRA, an unknown model', () => {
  assert.deepEqual(
    findings(
      'full-ft-gradient-checkpointing',
      config('meta-llama/Llama-3.1-8B', '  gradient_checkpointing: true'),
    ),
    [],
  );
  assert.deepEqual(
    findings('full-ft-gradient-checkpointing', config('meta-llama/Llama-3.2-3B', '  bf16: true')),
    [],
  );
  assert.deepEqual(
    findings(
      'full-ft-gradient-checkpointing',
      config('meta-llama/Llama-3.1-8B', '  bf16: true', 'lora'),
    ),
    [],
  );
  assert.deepEqual(
    findings('full-ft-gradient-checkpointing', config('acme/unknown-70b', '  bf16: true')),
    [],
  );
});

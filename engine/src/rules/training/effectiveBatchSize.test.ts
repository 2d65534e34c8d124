import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyFix, findings, textAt } from '../testing';

const config = (training: string, numGpus?: number) => `method: lora
model:
  name_or_path: meta-llama/Llama-3.1-8B
lora:
  r: 16
  lora_alpha: 32
training:
${training}
${numGpus ? `hardware:\n  num_gpus: ${numGpus}\n` : ''}`;

test('4 × 1 × 1 = 4 fires on the accumulation value; the fix reaches 32', () => {
  const yaml = config('  per_device_train_batch_size: 4\n  gradient_accumulation_steps: 1  # none');
  const [hit] = findings('effective-batch-size', yaml);
  assert.equal(hit.severity, 'info');
  assert.equal(textAt(yaml, hit.range), '1');
  assert.equal(hit.range.start.line, 8);
  assert.match(hit.message, /4 × 1 × 1 = 4/);
  assert.match(hit.message, /`gradient_accumulation_steps: 8` for an effective batch of 32/);
  const fixed = applyFix(yaml, hit);
  assert.match(fixed, /gradient_accumulation_steps: 8 {2}# none\n/);
  assert.deepEqual(findings('effective-batch-size', fixed), []);
});

test('missing accumulation: reported on the training key and added by the fix', () => {
  const yaml = config('  per_device_train_batch_size: 2');
  const [hit] = findings('effective-batch-size', yaml);
  assert.equal(textAt(yaml, hit.range), 'training');
  assert.match(hit.message, /2 × 1 × 1 = 2/);
  const fixed = applyFix(yaml, hit);
  assert.match(
    fixed,
    /\n {2}per_device_train_batch_size: 2\n {2}gradient_accumulation_steps: 16\n/,
  );
  assert.deepEqual(findings('effective-batch-size', fixed), []);
});

test('too large: 16 × 32 × 2 = 1024 fires; the fix lowers accumulation to 1', () => {
  const yaml = config('  per_device_train_batch_size: 16\n  gradient_accumulation_steps: 32', 2);
  const [hit] = findings('effective-batch-size', yaml);
  assert.match(hit.message, /16 × 32 × 2 = 1024/);
  assert.match(hit.message, /above 256/);
  const fixed = applyFix(yaml, hit);
  assert.match(fixed, /gradient_accumulation_steps: 1\n/);
  assert.deepEqual(findings('effective-batch-size', fixed), []);
});

test('one step alone above 256: no fix, the message says to lower the micro-batch', () => {
  const yaml = config('  per_device_train_batch_size: 64\n  gradient_accumulation_steps: 1', 8);
  const [hit] = findings('effective-batch-size', yaml);
  assert.equal(hit.fixes, undefined);
  assert.match(hit.message, /Lower `per_device_train_batch_size`/);
});

test('near misses stay silent: 16, 256, the CLI GPU count counted', () => {
  assert.deepEqual(
    findings(
      'effective-batch-size',
      config('  per_device_train_batch_size: 4\n  gradient_accumulation_steps: 4'),
    ),
    [],
  );
  assert.deepEqual(
    findings(
      'effective-batch-size',
      config('  per_device_train_batch_size: 8\n  gradient_accumulation_steps: 32'),
    ),
    [],
  );
  assert.deepEqual(
    findings(
      'effective-batch-size',
      config('  per_device_train_batch_size: 2\n  gradient_accumulation_steps: 2'),
      {
        numGpus: 4,
      },
    ),
    [],
  );
  // Defaults 8 × 1 × 1 = 8 would fire; 8 × 2 × 1 does not.
  assert.deepEqual(
    findings('effective-batch-size', config('  gradient_accumulation_steps: 2')),
    [],
  );
});

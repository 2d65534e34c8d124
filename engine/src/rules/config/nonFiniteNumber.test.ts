import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyze } from '../../engine';
import { findings, textAt } from '../testing';

const config = (training: string, lora = '  r: 16\n  lora_alpha: 32\n') => `method: lora
model:
  name_or_path: meta-llama/Llama-3.1-8B-Instruct
lora:
${lora}training:
${training}
hardware:
  gpu: H100-80GB
`;

test('num_train_epochs: .inf is an error on the value; the estimate is skipped, not run for 3 epochs', () => {
  const yaml = config('  num_train_epochs: .inf # forever?');
  const [hit] = findings('non-finite-number', yaml);
  assert.equal(hit.severity, 'error');
  assert.equal(textAt(yaml, hit.range), '.inf');
  assert.equal(
    hit.message,
    '`training.num_train_epochs` is infinity: no run can use it, and the trainer would receive it as is. Write a finite number. The memory estimate is skipped until it is finite rather than shown for the default.',
  );
  const analysis = analyze(yaml, '/virtual/test.finetune.yaml');
  assert.deepEqual(analysis.plan?.invalidNumbers, ['training.epochs']);
  assert.equal(analysis.estimate, undefined);
});

test('r: 1e400 (too large for a double) is reported, not estimated as the default r 8', () => {
  const yaml = config('  learning_rate: 2.0e-4', '  r: 1e400\n  lora_alpha: 32\n');
  const [hit] = findings('non-finite-number', yaml);
  assert.equal(textAt(yaml, hit.range), '1e400');
  assert.match(hit.message, /^`lora\.r` is infinity:/);
  const analysis = analyze(yaml, '/virtual/test.finetune.yaml');
  assert.deepEqual(analysis.plan?.invalidNumbers, ['lora.r']);
  assert.equal(analysis.estimate, undefined);
});

test('anywhere in the file, at any depth, in file order: NaN, minus infinity, list items', () => {
  const yaml = `${config('  learning_rate: .nan')}launch:
  env: { OMP_NUM_THREADS: -.inf }
  slurm:
    extra: [1, 2, .Inf]
`;
  const hits = findings('non-finite-number', yaml);
  assert.deepEqual(
    hits.map((h) => [textAt(yaml, h.range), h.message.split(':')[0]]),
    [
      ['.nan', '`training.learning_rate` is not a number (NaN)'],
      ['-.inf', '`launch.env.OMP_NUM_THREADS` is minus infinity'],
      ['.Inf', '`launch.slurm.extra[2]` is infinity'],
    ],
  );
  // Settings outside the plan do not mention the estimate.
  assert.doesNotMatch(hits[1].message, /estimate/);
});

test('after writing a finite number: clean, and the estimate is back', () => {
  const yaml = config('  num_train_epochs: 3');
  assert.deepEqual(findings('non-finite-number', yaml), []);
  assert.ok(analyze(yaml, '/virtual/test.finetune.yaml').estimate);
});

test('near misses stay silent: large finite numbers, strings that read like infinity', () => {
  const yaml = config(
    '  num_train_epochs: 1e300\n  max_steps: 999999999\n  output_dir: inf\n  run_name: ".inf"',
  );
  assert.deepEqual(findings('non-finite-number', yaml), []);
});

test('bounded: a hostile file with many values still answers, with at most 20 findings', () => {
  // Many values, yet under the parser's token cap (20,000), so the rule itself is bounded.
  const items = Array.from({ length: 2_000 }, () => '.inf').join(', ');
  const yaml = `${config('  num_train_epochs: 3')}launch:\n  slurm:\n    extra: [${items}]\n`;
  const hits = findings('non-finite-number', yaml);
  assert.equal(hits.length, 20);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyFix, findings, textAt } from '../testing';

const config = (workers: string) => `method: lora
model:
  name_or_path: meta-llama/Llama-3.1-8B-Instruct
lora:
  r: 16
  lora_alpha: 32
training:
  dataloader_num_workers: ${workers}
  logging_steps: 10
`;

test('workers on a Windows launch: warning on the value; the fix sets 0', () => {
  const yaml = config('4  # parallel loading');
  const [hit] = findings('dataloader-workers-windows', yaml, { targetOs: 'windows' });
  assert.equal(hit.severity, 'warning');
  assert.equal(textAt(yaml, hit.range), '4');
  assert.match(
    hit.message,
    /^`dataloader_num_workers: 4` on Windows: each worker is a spawned process/,
  );
  assert.match(hit.message, /Set it to 0\.$/);
  const fixed = applyFix(yaml, hit);
  assert.match(fixed, /\n {2}dataloader_num_workers: 0 {2}# parallel loading\n/);
  assert.deepEqual(findings('dataloader-workers-windows', fixed, { targetOs: 'windows' }), []);
});

test('near misses: 0 workers on Windows, workers on Linux, macOS or an unknown OS, a non-number', () => {
  assert.deepEqual(
    findings('dataloader-workers-windows', config('0'), { targetOs: 'windows' }),
    [],
  );
  assert.deepEqual(findings('dataloader-workers-windows', config('4'), { targetOs: 'linux' }), []);
  assert.deepEqual(findings('dataloader-workers-windows', config('4'), { targetOs: 'darwin' }), []);
  assert.deepEqual(findings('dataloader-workers-windows', config('4')), []);
  assert.deepEqual(
    findings('dataloader-workers-windows', config('"4"'), { targetOs: 'windows' }),
    [],
  );
});

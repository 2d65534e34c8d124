import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyFix, findings, textAt } from '../testing';

const config = (attn: string, gpu?: string) => `method: lora
model:
  name_or_path: meta-llama/Llama-3.1-8B-Instruct
  attn_implementation: ${attn}
lora:
  r: 16
  lora_alpha: 32
${gpu ? `hardware:\n  gpu: ${gpu}\n` : ''}`;

test('flash_attention_2 on a V100: warning on the value; the fix sets sdpa', () => {
  const yaml = config('flash_attention_2', 'V100-16GB');
  const [hit] = findings('flash-attention-unsupported', yaml);
  assert.equal(hit.severity, 'warning');
  assert.equal(textAt(yaml, hit.range), 'flash_attention_2');
  assert.match(
    hit.message,
    /^Tesla V100-SXM2-16GB \(compute capability 7\) cannot run `flash_attention_2`, which needs an Ampere or newer GPU \(8\.0\)/,
  );
  assert.match(hit.message, /Use `attn_implementation: sdpa`\.$/);
  const fixed = applyFix(yaml, hit);
  assert.match(fixed, /\n {2}attn_implementation: sdpa\n/);
  assert.deepEqual(findings('flash-attention-unsupported', fixed), []);
});

test('a Windows launch target, even on an A100', () => {
  const yaml = config('flash_attention_2', 'A100-80GB');
  const [hit] = findings('flash-attention-unsupported', yaml, { targetOs: 'windows' });
  assert.match(hit.message, /publishes no Windows builds/);
  assert.deepEqual(
    findings('flash-attention-unsupported', applyFix(yaml, hit), { targetOs: 'windows' }),
    [],
  );
  // Windows alone is enough (no GPU given).
  assert.equal(
    findings('flash-attention-unsupported', config('flash_attention_2'), { targetOs: 'windows' })
      .length,
    1,
  );
});

test('flash_attention_3 needs Hopper; a GPU mapping without flash attention', () => {
  const [hit] = findings('flash-attention-unsupported', config('flash_attention_3', 'A100-80GB'));
  assert.match(hit.message, /needs a Hopper GPU \(9\.0\)/);
  const custom = config(
    'flash_attention_2',
    '{ name: Old card, memory_gb: 24, bf16: true, flash_attention: false }',
  );
  assert.equal(findings('flash-attention-unsupported', custom).length, 1);
});

test('near misses: Ampere and Hopper on Linux, sdpa on a T4, nothing known', () => {
  assert.deepEqual(
    findings('flash-attention-unsupported', config('flash_attention_2', 'A100-80GB'), {
      targetOs: 'linux',
    }),
    [],
  );
  assert.deepEqual(
    findings('flash-attention-unsupported', config('flash_attention_2', 'RTX3090-24GB')),
    [],
  );
  assert.deepEqual(
    findings('flash-attention-unsupported', config('flash_attention_3', 'H100-80GB')),
    [],
  );
  assert.deepEqual(
    findings('flash-attention-unsupported', config('sdpa', 'T4-16GB'), { targetOs: 'windows' }),
    [],
  );
  assert.deepEqual(findings('flash-attention-unsupported', config('eager', 'T4-16GB')), []);
  assert.deepEqual(findings('flash-attention-unsupported', config('flash_attention_2')), []);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyFix, findings, textAt } from '../testing';

const config = (exportSection: string) => `method: lora
model:
  name_or_path: meta-llama/Llama-3.1-8B-Instruct
lora:
  r: 16
  lora_alpha: 32
${exportSection}`;

test('`safe_serialization: false`: warning on the value; the fix sets true', () => {
  const yaml = config('export:\n  merge: true\n  safe_serialization: false  # smaller?\n');
  const [hit] = findings('export-safe-serialization', yaml);
  assert.equal(hit.severity, 'warning');
  assert.equal(textAt(yaml, hit.range), 'false');
  assert.match(hit.message, /vLLM and TGI expect `\.safetensors`/);
  const fixed = applyFix(yaml, hit);
  assert.match(fixed, /\n {2}safe_serialization: true {2}# smaller\?\n$/);
  assert.deepEqual(findings('export-safe-serialization', fixed), []);
});

test('near misses: true, missing (true by default), a string', () => {
  assert.deepEqual(
    findings('export-safe-serialization', config('export:\n  safe_serialization: true\n')),
    [],
  );
  assert.deepEqual(findings('export-safe-serialization', config('export:\n  merge: true\n')), []);
  assert.deepEqual(findings('export-safe-serialization', config('')), []);
  assert.deepEqual(
    findings('export-safe-serialization', config('export:\n  safe_serialization: "false"\n')),
    [],
  );
});

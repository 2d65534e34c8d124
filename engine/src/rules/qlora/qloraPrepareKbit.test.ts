import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyFix, findings, textAt } from '../testing';

const QLORA = `method: qlora
model:
  name_or_path: meta-llama/Llama-3.1-8B
quantization:
  load_in_4bit: true
  bnb_4bit_quant_type: nf4
lora:
  r: 16
  lora_alpha: 32
`;

test('fires on the method when prepare_model_for_kbit_training is missing; the fix inserts it', () => {
  const [hit] = findings('qlora-prepare-kbit', QLORA);
  assert.ok(hit);
  assert.equal(hit.severity, 'error');
  assert.equal(textAt(QLORA, hit.range), 'qlora');
  const fixed = applyFix(QLORA, hit);
  assert.ok(fixed.endsWith('\nprepare_model_for_kbit_training: true\n'));
  assert.deepEqual(findings('qlora-prepare-kbit', fixed), []);
});

test('fires on the value when it is false', () => {
  const yaml = QLORA + 'prepare_model_for_kbit_training: false\n';
  const [hit] = findings('qlora-prepare-kbit', yaml);
  assert.equal(textAt(yaml, hit.range), 'false');
  assert.deepEqual(findings('qlora-prepare-kbit', applyFix(yaml, hit)), []);
});

test('silent when true, when given as an object, and for lora', () => {
  assert.deepEqual(
    findings('qlora-prepare-kbit', QLORA + 'prepare_model_for_kbit_training: true\n'),
    [],
  );
  assert.deepEqual(
    findings(
      'qlora-prepare-kbit',
      QLORA + 'prepare_model_for_kbit_training: { use_gradient_checkpointing: true }\n',
    ),
    [],
  );
  assert.deepEqual(
    findings('qlora-prepare-kbit', QLORA.replace('method: qlora', 'method: lora')),
    [],
  );
});

const SHARDED = {
  'training.fsdp': 'training:\n  fsdp: full_shard auto_wrap\n',
  'training.fsdp as a list': 'training:\n  fsdp: [full_shard, auto_wrap]\n',
  'launch.distributed.backend: fsdp':
    'launch:\n  distributed: { backend: fsdp, num_processes: 2 }\n',
  'inline ZeRO-3': 'training:\n  deepspeed: { zero_optimization: { stage: 3 } }\n',
  'a ZeRO-3 file name': 'training:\n  deepspeed: ds_z3_config.json\n',
  'launch.distributed.zero_stage: 3':
    'training:\n  deepspeed: ds.json\nlaunch:\n  distributed: { backend: deepspeed, zero_stage: 3 }\n',
};

test('silent without it when FSDP or ZeRO-3 shards the run (its fp32 cast gives mixed dtypes)', () => {
  for (const [name, yaml] of Object.entries(SHARDED)) {
    assert.deepEqual(findings('qlora-prepare-kbit', QLORA + yaml), [], name);
    assert.deepEqual(
      findings('qlora-prepare-kbit', QLORA + 'prepare_model_for_kbit_training: false\n' + yaml),
      [],
      name,
    );
  }
});

test('still fires under DDP, ZeRO-2 and a DeepSpeed file of unknown stage', () => {
  const unsharded = {
    ddp: 'launch:\n  distributed: { backend: ddp, num_processes: 2 }\n',
    'ZeRO-2 inline': 'training:\n  deepspeed: { zero_optimization: { stage: 2 } }\n',
    'ZeRO-2 file name': 'training:\n  deepspeed: ds_z2_config.json\n',
    'unknown stage': 'training:\n  deepspeed: ds.json\n',
    'fsdp: false': 'training:\n  fsdp: false\n',
  };
  for (const [name, yaml] of Object.entries(unsharded)) {
    const [hit] = findings('qlora-prepare-kbit', QLORA + yaml);
    assert.ok(hit, name);
    assert.equal(textAt(QLORA + yaml, hit.range), 'qlora', name);
  }
});

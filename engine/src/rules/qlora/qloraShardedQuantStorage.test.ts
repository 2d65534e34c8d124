import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyFix, findings, textAt } from '../testing';

const CODE = 'qlora-sharded-quant-storage';

const config = (opts: {
  dtype?: string;
  quant?: string;
  training?: string;
  launch?: string;
  method?: string;
}) => `method: ${opts.method ?? 'qlora'}
model:
  name_or_path: meta-llama/Llama-3.1-8B
${opts.dtype === undefined ? '' : `  dtype: ${opts.dtype}\n`}quantization:
  load_in_4bit: true
  bnb_4bit_compute_dtype: bfloat16
${opts.quant ?? ''}prepare_model_for_kbit_training: true
lora:
  r: 16
  lora_alpha: 32
training:
  bf16: true
${opts.training ?? ''}launch:
  distributed: ${opts.launch ?? '{ backend: fsdp, num_processes: 2 }'}
`;

test('FSDP with the default uint8 storage fires on the quantization key; the fix adds bfloat16', () => {
  const yaml = config({ dtype: 'bfloat16' });
  const [hit] = findings(CODE, yaml);
  assert.equal(hit.severity, 'error');
  assert.equal(textAt(yaml, hit.range), 'quantization');
  assert.match(
    hit.message,
    /missing \(uint8 by default\) with FSDP \(`launch\.distributed\.backend: fsdp`\)/,
  );
  assert.match(hit.message, /loaded in bfloat16/);
  assert.match(hit.message, /Set `bnb_4bit_quant_storage: bfloat16`/);
  const fixed = applyFix(yaml, hit);
  assert.match(
    fixed,
    /\n {2}bnb_4bit_compute_dtype: bfloat16\n {2}bnb_4bit_quant_storage: bfloat16\n/,
  );
  assert.deepEqual(findings(CODE, fixed), []);
});

test('a storage unlike the model dtype fires on the value; the fix sets it to the model dtype', () => {
  const yaml = config({ dtype: 'float16', quant: '  bnb_4bit_quant_storage: bfloat16\n' });
  const [hit] = findings(CODE, yaml);
  assert.equal(textAt(yaml, hit.range), 'bfloat16');
  assert.match(hit.message, /`bnb_4bit_quant_storage: bfloat16` .* loaded in float16/);
  const fixed = applyFix(yaml, hit);
  assert.match(fixed, /bnb_4bit_quant_storage: float16\n/);
  assert.deepEqual(findings(CODE, fixed), []);
});

test('model.dtype auto: the fix pins both to bfloat16 (float32 under fp16 mixed precision)', () => {
  const yaml = config({});
  const [hit] = findings(CODE, yaml);
  assert.match(hit.message, /`model\.dtype` is missing \(auto\), so config\.json decides/);
  const fixed = applyFix(yaml, hit);
  assert.match(fixed, /\n {2}name_or_path: meta-llama\/Llama-3\.1-8B\n {2}dtype: bfloat16\n/);
  assert.match(fixed, /bnb_4bit_quant_storage: bfloat16\n/);
  assert.deepEqual(findings(CODE, fixed), []);

  const fp16 = config({ dtype: 'auto' }).replace('bf16: true', 'bf16: false\n  fp16: true');
  const [amp] = findings(CODE, fp16);
  assert.match(amp.message, /`model\.dtype` is `auto`/);
  const fixedAmp = applyFix(fp16, amp);
  assert.match(fixedAmp, /\n {2}dtype: float32\n/);
  assert.match(fixedAmp, /bnb_4bit_quant_storage: float32\n/);
  assert.deepEqual(findings(CODE, fixedAmp), []);
});

test('ZeRO-3 is read from training.fsdp, an inline config, a file name, or zero_stage', () => {
  const fsdp = findings(
    CODE,
    config({
      dtype: 'bfloat16',
      training: '  fsdp: full_shard auto_wrap\n',
      launch: '{ backend: ddp }',
    }),
  );
  assert.match(fsdp[0].message, /FSDP \(`training\.fsdp`\)/);
  const inline = findings(
    CODE,
    config({
      dtype: 'bfloat16',
      training: '  deepspeed: { zero_optimization: { stage: 3 } }\n',
      launch: '{ backend: deepspeed, num_processes: 2 }',
    }),
  );
  assert.match(inline[0].message, /DeepSpeed ZeRO-3 \(`training\.deepspeed`\)/);
  const named = findings(
    CODE,
    config({
      dtype: 'bfloat16',
      training: '  deepspeed: configs/ds_z3_config.json\n',
      launch: '{ backend: deepspeed, num_processes: 2 }',
    }),
  );
  assert.match(named[0].message, /ds_z3_config\.json`, stage 3 by its name/);
  const declared = findings(
    CODE,
    config({
      dtype: 'bfloat16',
      training: '  deepspeed: ds.json\n',
      launch: '{ backend: deepspeed, zero_stage: 3, num_processes: 2 }',
    }),
  );
  assert.match(declared[0].message, /`launch\.distributed\.zero_stage: 3`/);
});

test('8-bit sharded by FSDP fires on load_in_8bit, without a fix', () => {
  const yaml = config({ dtype: 'bfloat16' })
    .replace('load_in_4bit', 'load_in_8bit')
    .replace('  bnb_4bit_compute_dtype: bfloat16\n', '');
  const [hit] = findings(CODE, yaml);
  assert.equal(textAt(yaml, hit.range), 'true');
  assert.match(hit.message, /8-bit quantization with FSDP/);
  assert.equal(hit.fixes, undefined);
});

test('near misses stay silent', () => {
  // Storage matches the model dtype.
  const matched = { dtype: 'bfloat16', quant: '  bnb_4bit_quant_storage: bfloat16\n' };
  assert.deepEqual(findings(CODE, config(matched)), []);
  // auto with a float storage chosen on purpose: the loaded dtype is not known here.
  assert.deepEqual(findings(CODE, config({ quant: '  bnb_4bit_quant_storage: bfloat16\n' })), []);
  // DDP and ZeRO-2 do not shard parameters.
  assert.deepEqual(findings(CODE, config({ dtype: 'bfloat16', launch: '{ backend: ddp }' })), []);
  const zero2 = {
    dtype: 'bfloat16',
    training: '  deepspeed: { zero_optimization: { stage: 2 } }\n',
    launch: '{ backend: deepspeed, zero_stage: 3 }',
  };
  // The inline config is what runs: stage 2, whatever zero_stage says.
  assert.deepEqual(findings(CODE, config(zero2)), []);
  // A DeepSpeed file whose stage the config does not show: not guessed.
  const unknown = {
    dtype: 'bfloat16',
    training: '  deepspeed: ds.json\n',
    launch: '{ backend: deepspeed }',
  };
  assert.deepEqual(findings(CODE, config(unknown)), []);
  // Not QLoRA.
  assert.deepEqual(
    findings(
      CODE,
      config({ dtype: 'bfloat16', method: 'lora' }).replace(/quantization:[^]*?prepare/, 'prepare'),
    ),
    [],
  );
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyFix, findings, textAt } from '../testing';

const CODE = 'qlora-device-map-distributed';

const config = (
  deviceMap: string | undefined,
  launch: string,
  method = 'qlora',
) => `method: ${method}
model:
  name_or_path: meta-llama/Llama-3.1-8B
  dtype: bfloat16
${deviceMap === undefined ? '' : `  device_map: ${deviceMap}\n`}${
  method === 'qlora'
    ? 'quantization:\n  load_in_4bit: true\n  bnb_4bit_compute_dtype: bfloat16\nprepare_model_for_kbit_training: true\n'
    : ''
}lora:
  r: 16
  lora_alpha: 32
training:
  bf16: true
${launch}`;

const DDP2 = 'launch:\n  distributed: { backend: ddp, num_processes: 2 }\n';

test('device_map auto under a 2-process launch fires on the value; the fix removes it', () => {
  const yaml = config('auto  # from an inference snippet', DDP2);
  const [hit] = findings(CODE, yaml);
  assert.equal(hit.severity, 'error');
  assert.equal(textAt(yaml, hit.range), 'auto');
  assert.match(hit.message, /`model\.device_map: auto` with QLoRA under a distributed launch of 2/);
  assert.match(hit.message, /naive model parallelism/);
  const fixed = applyFix(yaml, hit);
  assert.doesNotMatch(fixed, /device_map/);
  assert.match(fixed, /\n {2}dtype: bfloat16\nquantization:\n/);
  assert.deepEqual(findings(CODE, fixed), []);
});

test('the launch counts like `tunelab launch`: hardware.num_gpus, Slurm GPUs', () => {
  // No launch.distributed: the launcher starts one process per hardware GPU.
  const byGpus = findings(CODE, config('balanced', 'hardware:\n  num_gpus: 4\n'));
  assert.match(byGpus[0].message, /distributed launch of 4 processes/);
  const slurm = findings(
    CODE,
    config(
      'sequential',
      'launch:\n  target: slurm\n  slurm: { nodes: 2, gpus_per_node: 4 }\n  distributed: { backend: ddp }\n',
    ),
  );
  assert.match(slurm[0].message, /distributed launch of 8 processes/);
});

test('a map over several GPUs spreads too; a single fixed device is reported as such', () => {
  const spread = findings(CODE, config('{ model: 0, lm_head: 1 }', DDP2));
  assert.match(spread[0].message, /`model\.device_map` \(over cuda:0, cuda:1\)/);
  for (const one of ['0', 'cuda', '"cuda:0"', '{ "": 1 }']) {
    const [hit] = findings(CODE, config(one, DDP2));
    assert.ok(hit, one);
    assert.match(hit.message, /every rank's 4-bit copy on cuda:[01]/, one);
    assert.match(hit.message, /different device than the one you're training on/);
  }
});

test('near misses stay silent: per-rank placement, one process, LoRA', () => {
  // Absent, or `{"": 0}` (which the runner rewrites to each rank's GPU).
  assert.deepEqual(findings(CODE, config(undefined, DDP2)), []);
  assert.deepEqual(findings(CODE, config('{ "": 0 }', DDP2)), []);
  // One process over several GPUs: naive pipeline parallelism, chosen on purpose.
  assert.deepEqual(
    findings(
      CODE,
      config('auto', 'hardware:\n  num_gpus: 4\nlaunch:\n  distributed: { num_processes: 1 }\n'),
    ),
    [],
  );
  assert.deepEqual(findings(CODE, config('auto', '')), []);
  // Slurm GPUs of another target count one node only; here a single GPU.
  assert.deepEqual(
    findings(CODE, config('auto', 'launch:\n  slurm: { nodes: 4, gpus_per_node: 1 }\n')),
    [],
  );
  assert.deepEqual(findings(CODE, config('auto', DDP2, 'lora')), []);
});

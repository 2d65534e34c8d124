// The launch section's checks, the generated job scripts (run by a real sh
// with hostile values) and the findings a failed run leaves on the config.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { applyTextEdits } from '../../engine/src/edits';
import {
  runnerArgv,
  sbatchOptions,
  slurmJobScript,
  sshRunScript,
} from '../../launch/src/jobScript';
import { LaunchConfigError, keyRange, readLaunchSpec } from '../../launch/src/launchConfig';
import { runFindings } from '../../launch/src/runDiagnostics';
import { shQuote } from '../../launch/src/shell';
import { doctorNotes, gpuIdFor, hardwareEdits, suggestHardware } from '../../launch/src/doctor';
import { parseSlurmStatus } from '../../launch/src/slurmTarget';
import { skipUntilMark } from '../../launch/src/sshTarget';
import { changedEntries, generatedEntry } from '../../launch/src/sync';
import { BASE_CONFIG, NASTY_VALUES } from './infra';

function spec(launch: string, base = BASE_CONFIG) {
  return readLaunchSpec('/tmp/x/run.finetune.yaml', `${base}launch:\n${launch}`);
}

test('launch section: defaults and values', () => {
  const local = readLaunchSpec('/tmp/x/run.finetune.yaml', BASE_CONFIG);
  assert.equal(local.target, 'local');
  assert.equal(local.python, 'python3');
  const ssh = spec(
    '  target: ssh\n  ssh: { host: "me@gpu:2222", workdir: ~/ft }\n  env: { A: 1, B: "x y" }\n  secrets: [HF_TOKEN]\n',
  );
  assert.deepEqual(
    [ssh.ssh?.destination, ssh.ssh?.port, ssh.ssh?.workdir],
    ['me@gpu', 2222, '~/ft'],
  );
  assert.deepEqual(ssh.env, { A: '1', B: 'x y' });
  assert.deepEqual(ssh.secrets, ['HF_TOKEN']);
  const slurm = spec(
    '  target: slurm\n  slurm: { nodes: 2, gpus_per_node: 8, partition: gpu, time: "12:00:00" }\n  distributed: { backend: fsdp }\n',
  );
  assert.equal(slurm.distributed.numProcesses, 16);
});

test('launch section: hostile values are refused at the key that holds them', () => {
  const cases: Array<[string, string]> = [
    ['  target: ssh\n  ssh: { host: "-oProxyCommand=touch /tmp/x" }\n', 'launch.ssh.host'],
    ['  target: ssh\n  ssh: { host: "gpu; id" }\n', 'launch.ssh.host'],
    ['  target: slurm\n  slurm: { via_ssh: "$(id)" }\n', 'launch.slurm.via_ssh'],
    [
      '  target: slurm\n  slurm: { extra_args: ["--comment=a\\n#SBATCH --x"] }\n',
      'launch.slurm.extra_args.0',
    ],
    ['  target: slurm\n  slurm: { extra_args: ["rm -rf ~"] }\n', 'launch.slurm.extra_args.0'],
    ['  env: { "A;id": x }\n', 'launch.env.A;id'],
    ['  secrets: ["hf-token"]\n', 'launch.secrets.0'],
    ['  target: ssh\n', 'launch.target'],
  ];
  for (const [launch, key] of cases) {
    assert.throws(
      () => spec(launch),
      (err: unknown) => err instanceof LaunchConfigError && err.path.join('.') === key,
      key,
    );
  }
  const parsed = readLaunchSpec('/tmp/x/a.finetune.yaml', BASE_CONFIG).parsed;
  assert.equal(keyRange(parsed, ['training', 'learning_rate']).start.line, 15);
});

test('runner command: plain, torchrun for ddp/fsdp/deepspeed', () => {
  const base = {
    python: '.venv/bin/python',
    distributed: { backend: 'none' as const, numProcesses: 1 },
  };
  assert.deepEqual(runnerArgv(base, 'train', 'c.yaml'), [
    '.venv/bin/python',
    '-m',
    'tunelab_runner',
    'train',
    'c.yaml',
  ]);
  assert.deepEqual(
    runnerArgv({ ...base, distributed: { backend: 'fsdp', numProcesses: 4 } }, 'train', 'c.yaml'),
    [
      '.venv/bin/python',
      '-m',
      'torch.distributed.run',
      '--standalone',
      '--nproc_per_node',
      '4',
      '-m',
      'tunelab_runner',
      'train',
      'c.yaml',
    ],
  );
  // a pace probe's options follow the config, under torchrun too
  assert.deepEqual(
    runnerArgv(base, 'train', 'c.yaml', { extraArgs: ['--probe', '16'] }).slice(-4),
    ['train', 'c.yaml', '--probe', '16'],
  );
  assert.deepEqual(
    runnerArgv({ ...base, distributed: { backend: 'ddp', numProcesses: 2 } }, 'train', 'c.yaml', {
      extraArgs: ['--probe', '8'],
    }).slice(-6),
    ['-m', 'tunelab_runner', 'train', 'c.yaml', '--probe', '8'],
  );
  assert.deepEqual(runnerArgv(base, 'doctor', ''), [
    '.venv/bin/python',
    '-m',
    'tunelab_runner',
    'doctor',
  ]);
});

test('run.sh: hostile paths, env values and arguments reach the job unchanged', () => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'tunelab-script-'));
  const configDir = "cfg dir 'q' $(x) `y`; z";
  fs.mkdirSync(path.join(base, configDir));
  const fake = path.join(base, 'fake-python');
  fs.writeFileSync(
    fake,
    '#!/bin/sh\nfor a in "$@"; do printf "%s\\0" "$a"; done\nprintf "%s\\0" "$PWD" "$E1" "$E2"\nexit 7\n',
    { mode: 0o755 },
  );
  const script = sshRunScript({
    runId: 'r1',
    configDirWord: `"$TUNELAB_BASE"/${shQuote(configDir)}`,
    runnerPathWord: `"$TUNELAB_BASE"/'.tunelab/runner'`,
    exitCodeWord: `"$TUNELAB_BASE"/'exit_code'`,
    env: { E1: NASTY_VALUES[4], E2: NASTY_VALUES[7] },
    argv: [fake, ...NASTY_VALUES],
  });
  fs.writeFileSync(path.join(base, 'run.sh'), script);
  const result = spawnSync('sh', ['run.sh'], { cwd: base });
  assert.equal(result.status, 7);
  const out = result.stdout.toString().split('\0').slice(0, -1);
  assert.deepEqual(out.slice(0, NASTY_VALUES.length), NASTY_VALUES);
  assert.deepEqual(out.slice(NASTY_VALUES.length), [
    path.join(base, configDir),
    NASTY_VALUES[4],
    NASTY_VALUES[7],
  ]);
  assert.equal(fs.readFileSync(path.join(base, 'exit_code'), 'utf8'), '7\n');
});

test('sbatch: options on the command line; multi-node runs torchrun under srun with a rendezvous', () => {
  const s = spec(
    '  target: slurm\n  slurm: { nodes: 2, gpus_per_node: 8, partition: gpu, time: "1:00:00", account: proj, extra_args: ["--qos=high"] }\n  distributed: { backend: ddp }\n',
  );
  assert.deepEqual(sbatchOptions(s.slurm!, 'r1', 'log'), [
    '--parsable',
    '--job-name=tunelab-r1',
    '--output=log',
    '--nodes=2',
    '--ntasks-per-node=1',
    '--partition=gpu',
    '--gpus-per-node=8',
    '--time=1:00:00',
    '--account=proj',
    '--qos=high',
  ]);
  const script = slurmJobScript(
    { runId: 'r1', configDirWord: "'.'", exitCodeWord: "'ec'", env: {}, argv: [] },
    { nodes: 2, gpusPerNode: 8 },
    s,
    'run.finetune.yaml',
  );
  assert.match(
    script,
    /srun --ntasks-per-node=1 .*'-m' 'torch.distributed.run' '--nproc_per_node' '8' --nnodes "\$SLURM_NNODES" --rdzv_id "\$SLURM_JOB_ID" --rdzv_backend c10d --rdzv_endpoint "\$MASTER_ADDR:\$MASTER_PORT" -m tunelab_runner train 'run.finetune.yaml'\n/,
  );
  assert.equal(spawnSync('sh', ['-n'], { input: script }).status, 0, 'valid sh');
  // a multi-node pace probe: every node's runner gets the probe's options
  const probe = slurmJobScript(
    { runId: 'r2', configDirWord: "'.'", exitCodeWord: "'ec'", env: {}, argv: [] },
    { nodes: 2, gpusPerNode: 8 },
    s,
    'run.finetune.yaml',
    ['--probe', '16'],
  );
  assert.match(probe, / -m tunelab_runner train 'run.finetune.yaml' '--probe' '16'\n/);
  assert.equal(spawnSync('sh', ['-n'], { input: probe }).status, 0, 'valid sh');
});

test('SLURM states: squeue, then scontrol, then sacct -c', () => {
  assert.equal(parseSlurmStatus('PENDING\n', '', '').state, 'pending');
  assert.equal(parseSlurmStatus('RUNNING\n', '', '').state, 'running');
  assert.deepEqual(
    parseSlurmStatus('', 'JobId=3 JobState=FAILED Reason=x DerivedExitCode=0:0 ExitCode=3:0', ''),
    {
      state: 'failed',
      exitCode: 3,
    },
  );
  assert.deepEqual(parseSlurmStatus('', '', '7|CANCELLED by 0|0:15\n'), {
    state: 'cancelled',
    exitCode: 0,
  });
  assert.equal(parseSlurmStatus('', '', '').state, 'lost');
});

test('failures land on the key to change, with quick fixes that apply cleanly', () => {
  const s = spec('  python: .venv/bin/python\n');
  const text = s.parsed.text;
  const [oom] = runFindings(
    [{ type: 'oom', message: 'CUDA out of memory', source: 'log' }],
    s.parsed,
    { target: 'local' },
  );
  assert.equal(oom.code, 'run-oom');
  assert.equal(
    oom.range.start.line,
    text.split('\n').findIndex((l) => l.includes('per_device_train_batch_size')),
  );
  const fixed = applyTextEdits(text, oom.fixes![0].edits);
  assert.match(fixed, /per_device_train_batch_size: 2\n/);
  assert.match(fixed, /gradient_accumulation_steps: 4\n/);
  assert.match(applyTextEdits(text, oom.fixes![1].edits), /gradient_checkpointing: true/);

  const [nan] = runFindings(
    [{ type: 'nan_loss', message: 'loss nan', source: 'runner' }],
    s.parsed,
    { target: 'local' },
  );
  assert.equal(
    nan.range.start.line,
    text.split('\n').findIndex((l) => l.includes('learning_rate')),
  );
  assert.match(applyTextEdits(text, nan.fixes![0].edits), /learning_rate: 2\.0e-5/);

  const [missing] = runFindings(
    [
      {
        type: 'missing_package',
        message: 'x',
        packages: ['peft'],
        hint: 'pip install peft',
        source: 'runner',
      },
    ],
    s.parsed,
    { target: 'ssh', host: 'gpu-box' },
  );
  assert.equal(
    missing.range.start.line,
    text.split('\n').findIndex((l) => l.includes('python:')),
  );
  assert.match(
    missing.message,
    /peft is not installed for \.venv\/bin\/python on gpu-box\. Run `pip install peft`/,
  );

  const [notFound] = runFindings([], s.parsed, { target: 'local', exitCode: 127 });
  assert.equal(notFound.code, 'run-python-not-found');
});

test('doctor: the driver GPU name maps to the catalog id written into hardware.gpu', () => {
  assert.equal(
    gpuIdFor({ name: 'NVIDIA H100 80GB HBM3', memory_bytes: 81559 * 1024 ** 2 }),
    'H100-80GB',
  );
  assert.equal(
    gpuIdFor({ name: 'NVIDIA A100-SXM4-40GB', memory_bytes: 40960 * 1024 ** 2 }),
    'A100-40GB',
  );
  assert.equal(gpuIdFor({ name: 'NVIDIA H200', memory_bytes: 143771 * 1024 ** 2 }), 'H200-141GB');
  const suggestion = suggestHardware({
    gpus: [
      { name: 'NVIDIA H100 80GB HBM3', memory_bytes: 85e9 },
      { name: 'NVIDIA H100 80GB HBM3' },
    ],
  })!;
  assert.deepEqual(suggestion, { gpu: 'H100-80GB', numGpus: 2, seen: 'NVIDIA H100 80GB HBM3' });
  const s = spec('  target: local\n');
  const edited = applyTextEdits(s.parsed.text, hardwareEdits(s.parsed, suggestion));
  assert.match(edited, /\nhardware:\n {2}gpu: H100-80GB\n {2}num_gpus: 2\n/);
  const odd = suggestHardware({
    gpus: [{ name: 'Mystery Card 9000', memory_bytes: 12 * 1024 ** 3, bf16: true }],
  })!;
  assert.equal(odd.gpu, '{ name: "Mystery Card 9000", memory_gb: 12, bf16: true }');
});

test("doctor: the methods' notes reach the summary once each (CUDA's JIT cache off on every method)", () => {
  const jit = "CUDA's JIT cache is off (CUDA_CACHE_DISABLE=1): every run recompiles";
  const notes = doctorNotes({
    methods: {
      full: { ready: true, missing: [], notes: [jit] },
      lora: { ready: true, missing: [], notes: [jit] },
      qlora: { ready: false, missing: ['bitsandbytes'], notes: ['QLoRA needs a CUDA GPU', jit] },
    },
  });
  assert.deepEqual(notes, [jit, 'QLoRA needs a CUDA GPU']);
  assert.deepEqual(doctorNotes({ methods: { full: { ready: true, missing: [] } } }), []);
  assert.deepEqual(doctorNotes({}), []);
});

test('remote output: a login script printing first does not reach the log or the sync listing', () => {
  const received: Buffer[] = [];
  const feed = skipUntilMark((chunk) => received.push(chunk));
  for (const piece of [
    'Welcome to the cluster!\n@tunelab-log-',
    'stream@\nfirst line\n',
    'second\n',
  ])
    feed(Buffer.from(piece));
  assert.equal(Buffer.concat(received).toString(), 'first line\nsecond\n');

  const entries = [
    generatedEntry('a', 'x'),
    { name: 'b', size: 3, mtimeSeconds: 100, mode: 0o644, file: '/dev/null' },
    { name: 'c', size: 4, mtimeSeconds: 200, mode: 0o644, file: '/dev/null' },
  ];
  const listing = 'motd line\n@list\n- \n3 100\n4 999\n';
  assert.deepEqual(
    changedEntries(entries, listing).map((e) => e.name),
    ['a', 'c'],
  );
  assert.equal(changedEntries(entries, 'no marker').length, 3, 'unreadable listing: send all');
});

test('a NaN fix for an absurd learning rate still writes a YAML 1.1 float', () => {
  const s = readLaunchSpec(
    '/tmp/x/run.finetune.yaml',
    BASE_CONFIG.replace('learning_rate: 2.0e-4', 'learning_rate: 1.0e+30'),
  );
  const [nan] = runFindings([{ type: 'nan_loss', message: 'x', source: 'runner' }], s.parsed, {
    target: 'local',
  });
  assert.equal(nan.fixes![0].title, 'Lower learning_rate to 1.0e+29');
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyFix, findings, textAt } from '../testing';
import { isRandomLooking, secretShape } from './secretShape';

const HF = 'hf_aBcDeFgHiJkLmNoPqRsTuVwXyZ012345';
const WANDB = '3f9a1c0b7e2d4a6f8b5c9e1d0a7f3b2c4e6d8a9f';

const config = (training: string, launch: string) => `method: lora
model:
  name_or_path: meta-llama/Llama-3.1-8B-Instruct
lora:
  r: 16
  lora_alpha: 32
training:
  learning_rate: 2.0e-4
${training}launch:
  target: local
${launch}`;

test('training.hub_token: warning on the value, never echoing it; the fix moves it to launch.secrets', () => {
  const yaml = config(`  hub_token: ${HF}\n  push_to_hub: true\n`, '');
  const [hit] = findings('secret-in-config', yaml);
  assert.equal(hit.severity, 'warning');
  assert.equal(textAt(yaml, hit.range), HF);
  assert.equal(
    hit.message,
    "`training.hub_token` holds a Hub token, written into the config, where it leaks with the file (commits, remote copies, logs). List its name in `launch.secrets: [HF_TOKEN]` instead: the value then lives in VS Code's SecretStorage and reaches the job's environment by name.",
  );
  assert.ok(!hit.message.includes('hf_aB'));
  const fixed = applyFix(yaml, hit);
  assert.ok(!fixed.includes(HF));
  assert.match(
    fixed,
    /\n {2}push_to_hub: true\nlaunch:\n {2}target: local\n {2}secrets: \[HF_TOKEN\]\n$/,
  );
  assert.deepEqual(findings('secret-in-config', fixed), []);
});

test('launch.env values shaped like tokens: by prefix, by the variable name, by randomness', () => {
  const yaml = config(
    '',
    `  secrets: [WANDB_API_KEY]
  env:
    HF_HOME: /scratch/hf
    MY_HF: ${HF}
    WANDB_API_KEY: short-but-secret
    OPENAI: sk-proj-abcdefghijklmnop
    signing: Zq8vR2xT7mK4pL9wN3bY6cF1
`,
  );
  const hits = findings('secret-in-config', yaml);
  assert.deepEqual(
    hits.map((h) => [textAt(yaml, h.range), h.message.split(', written')[0]]),
    [
      [HF, '`launch.env.MY_HF` starts like an access token'],
      ['short-but-secret', '`launch.env.WANDB_API_KEY` is named like a secret and holds a value'],
      ['sk-proj-abcdefghijklmnop', '`launch.env.OPENAI` starts like an access token'],
      [
        'Zq8vR2xT7mK4pL9wN3bY6cF1',
        '`launch.env.signing` holds a long random-looking string, likely a key',
      ],
    ],
  );
  for (const hit of hits) assert.ok(!hit.message.includes(textAt(yaml, hit.range)), hit.message);
  // A lower-case variable cannot be a secret name (launch.secrets takes A-Z, 0-9, _): no fix.
  assert.equal(hits[3].fixes, undefined);

  // The fix keeps the names already listed and does not list one twice.
  const addsName = applyFix(yaml, hits[0]);
  assert.match(addsName, /\n {2}secrets: \[WANDB_API_KEY, MY_HF\]\n/);
  assert.ok(!addsName.includes(HF));
  const alreadyListed = applyFix(yaml, hits[1]);
  assert.match(alreadyListed, /\n {2}secrets: \[WANDB_API_KEY\]\n/);
  assert.ok(!alreadyListed.includes('short-but-secret'));
  assert.equal(findings('secret-in-config', alreadyListed).length, 3);
});

test('a block-style secrets list gets the name too', () => {
  const yaml = config('', `  secrets:\n    - HF_TOKEN\n  env:\n    WANDB_API_KEY: ${WANDB}\n`);
  const [hit] = findings('secret-in-config', yaml);
  const fixed = applyFix(yaml, hit);
  assert.ok(!fixed.includes(WANDB));
  assert.deepEqual(findings('secret-in-config', fixed), []);
  assert.match(fixed, /HF_TOKEN/);
  assert.match(fixed, /WANDB_API_KEY/);
});

test('near misses stay silent: names, paths, references, ordinary settings', () => {
  const yaml = config(
    '  hub_model_id: acme/telecom-support\n',
    `  secrets: [HF_TOKEN, WANDB_API_KEY]
  env:
    HF_HOME: /scratch/hf
    TOKENIZERS_PARALLELISM: "false"
    HF_TOKEN: $HF_TOKEN
    WANDB_API_KEY: "\${WANDB_API_KEY}"
    SSH_KEY_PATH: ~/.ssh/id_ed25519
    WANDB_PROJECT: telecom-support-finetune-2024
    NCCL_SOCKET_IFNAME: enp0s31f6
    CUDA_VISIBLE_DEVICES: "0,1,2,3"
    RUN_ID: 20240611-153000-telecom
    PYTORCH_CUDA_ALLOC_CONF: expandable_segments:True
    OMP_NUM_THREADS: 8
`,
  );
  assert.deepEqual(findings('secret-in-config', yaml), []);
  assert.deepEqual(findings('secret-in-config', config('  hub_token: ""\n', '')), []);
});

test('secretShape and isRandomLooking on their own', () => {
  assert.equal(secretShape('X', WANDB), 'holds a long random-looking string, likely a key');
  assert.equal(secretShape('X', 'ghp_0123456789abcdefABCD'), 'starts like an access token');
  assert.equal(
    secretShape('DB_PASSWORD', 'correct horse'),
    'is named like a secret and holds a value',
  );
  assert.equal(secretShape('API_KEY', 'abc'), undefined, 'too short to be a key');
  assert.equal(secretShape('API_KEY', 8), undefined);
  assert.ok(!isRandomLooking('aaaaaaaaaaaaaaaaaaaaaaaa1'));
  assert.ok(!isRandomLooking('meta-llama-Llama-3-1-8B-Instruct'));
});

test('other dialects: a top-level *_token key is reported, pointing at the environment', () => {
  const trl = `model_name_or_path: meta-llama/Llama-3.1-8B-Instruct
dataset_name: acme/support
hub_token: ${HF}
learning_rate: 2.0e-4
`;
  const [hit] = findings('secret-in-config', trl, {
    fileName: '/virtual/sft.yaml',
    dialect: 'trl',
  });
  assert.equal(textAt(trl, hit.range), HF);
  assert.match(hit.message, /^`hub_token` holds a token written into the config/);
  assert.match(hit.message, /HF_TOKEN/);
  assert.ok(!hit.message.includes('hf_aB'));
});

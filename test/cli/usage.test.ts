// What the CLI says when it is misused or given a bad file, run as users run
// it (dist/cli.js): the version, plain-words file errors, unknown rule codes
// and GPU ids refused with a suggestion, the true size of an oversize file,
// and no URL credentials in any message.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';

const ROOT = path.resolve(__dirname, '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'lora-typos.finetune.yaml');

function tunelab(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    cwd: options.cwd ?? ROOT,
    encoding: 'utf8',
    timeout: 60_000,
    // No real Hub from tests: a port nothing listens on, unless a test sets its own.
    env: { ...process.env, HF_ENDPOINT: 'http://127.0.0.1:9', ...options.env },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'tunelab-usage-'));
}

test('--version and -v print the version of package.json', () => {
  const { version } = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  for (const flag of ['--version', '-v']) {
    const result = tunelab([flag]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `${version}\n`);
  }
});

test('a missing file or a directory: a plain sentence and exit 2, never an errno', () => {
  const dir = tempDir();
  const missing = path.join(dir, 'gone.finetune.yaml');
  for (const command of ['lint', 'estimate', 'launch']) {
    const absent = tunelab([command, missing]);
    assert.equal(absent.code, 2, `${command}: ${absent.stderr}`);
    assert.match(absent.stderr, new RegExp(`^tunelab: cannot read ${missing}: no such file$`, 'm'));
    const folder = tunelab([command, dir]);
    assert.equal(folder.code, 2, `${command}: ${folder.stderr}`);
    assert.match(
      folder.stderr,
      new RegExp(`^tunelab: cannot read ${dir}: it is a directory$`, 'm'),
    );
    for (const output of [absent.stderr, folder.stderr])
      assert.doesNotMatch(output, /ENOENT|EISDIR|at .*\.js:\d+/);
  }
});

test('--rule with a code the catalog lacks is a usage error, with the nearest code', () => {
  const unknown = tunelab(['lint', '--rule', 'nonsense=off', FIXTURE]);
  assert.equal(unknown.code, 2);
  assert.match(
    unknown.stderr,
    /^tunelab: --rule nonsense=off: unknown rule code nonsense; `tunelab rules` lists the codes$/m,
  );
  assert.equal(unknown.stdout, '');

  const misspelt = tunelab(['lint', '--rule', 'lora-alpha-ration=off', FIXTURE]);
  assert.equal(misspelt.code, 2);
  assert.match(
    misspelt.stderr,
    /unknown rule code lora-alpha-ration; did you mean lora-alpha-ratio\?/,
  );

  // Schema and syntax codes are rule codes too.
  for (const code of ['schema-unknown-key', 'yaml-syntax', 'lora-alpha-ratio']) {
    const known = tunelab(['lint', '--rule', `${code}=off`, FIXTURE]);
    assert.notEqual(known.code, 2, known.stderr);
  }
});

test('a misspelt code in .tunelab.json is an error naming the file and the code', () => {
  const dir = tempDir();
  const settings = path.join(dir, '.tunelab.json');
  fs.writeFileSync(settings, JSON.stringify({ rules: { 'lora-alpha-ratoi': 'off' } }));
  const result = tunelab(['lint', FIXTURE], { cwd: dir });
  assert.equal(result.code, 2);
  assert.match(
    result.stderr,
    new RegExp(
      `^tunelab: ${settings}: unknown rule code lora-alpha-ratoi; did you mean lora-alpha-ratio\\?$`,
      'm',
    ),
  );
  // A settings file is not a misuse of the command line: no usage text.
  assert.doesNotMatch(result.stderr, /usage:/);

  fs.writeFileSync(settings, '{ "rules": ');
  const broken = tunelab(['lint', FIXTURE], { cwd: dir });
  assert.equal(broken.code, 2);
  assert.match(broken.stderr, new RegExp(`^tunelab: ${settings} is not valid JSON`, 'm'));
});

test('--gpu with an id the catalog lacks is a usage error for lint and estimate, with the nearest id', () => {
  for (const command of ['lint', 'estimate']) {
    const near = tunelab([command, '--gpu', 'H10', FIXTURE]);
    assert.equal(near.code, 2, `${command}: ${near.stderr}`);
    assert.match(
      near.stderr,
      /^tunelab: unknown GPU "H10" for --gpu; did you mean H100-80GB\? known GPUs: .*A100-80GB/m,
    );
    assert.equal(near.stdout, '');
    const far = tunelab([command, '--gpu', 'quantum-9000', FIXTURE]);
    assert.equal(far.code, 2);
    assert.match(far.stderr, /unknown GPU "quantum-9000" for --gpu; known GPUs: B200-180GB, /);
  }
  // The forgiving names the engine accepts stay accepted.
  const forgiving = tunelab(['lint', '--gpu', 'a100 80gb', FIXTURE]);
  assert.notEqual(forgiving.code, 2, forgiving.stderr);
});

test('an oversize file is reported with its true size, by lint and by estimate', () => {
  const dir = tempDir();
  const big = path.join(dir, 'big.finetune.yaml');
  fs.writeFileSync(big, 'method: lora\n' + '#'.repeat(Math.round(20.5 * 1024 * 1024)));
  const lint = tunelab(['lint', big]);
  assert.equal(lint.code, 1);
  assert.match(
    lint.stdout,
    /:1:1 error yaml-syntax This file is 20\.5 MB; Tunelab checks configs up to 2 MB/,
  );
  const estimate = tunelab(['estimate', big]);
  assert.equal(estimate.code, 1);
  assert.match(estimate.stderr, /This file is 20\.5 MB;/);
});

test('credentials in HF_ENDPOINT never appear in what the CLI prints', () => {
  const dir = tempDir();
  const file = path.join(dir, 'a.finetune.yaml');
  fs.writeFileSync(file, 'method: lora\nmodel:\n  name_or_path: acme/not-in-catalog\n');
  for (const endpoint of ['https://alice:s3cret-pass@127.0.0.1:9', 'http://hf_t0ken@127.0.0.1:9']) {
    for (const command of ['lint', 'estimate']) {
      const result = tunelab([command, file], {
        env: { HF_ENDPOINT: endpoint, TUNELAB_CACHE: path.join(dir, 'cache') },
      });
      const output = result.stdout + result.stderr;
      // The Hub error is said, with the host, so the user knows where it went
      // (the credentials travel in a header, never in the URL or the message).
      assert.match(
        result.stderr,
        /tunelab: could not fetch acme\/not-in-catalog from https?:\/\/(\*\*\*@)?127\.0\.0\.1:9/,
      );
      assert.ok(!/s3cret-pass|alice|hf_t0ken/.test(output), `${command} leaked: ${output}`);
    }
  }
});

test('every subcommand checks its options and operands the same way', () => {
  const cases: [string[], RegExp][] = [
    [['estimate'], /^tunelab: estimate needs exactly one FILE$/m],
    [['estimate', 'a.yaml', 'b.yaml'], /^tunelab: estimate needs exactly one FILE$/m],
    [['lint', '--format', 'xml', 'a.yaml'], /^tunelab: --format must be text or json, got xml$/m],
    [
      ['estimate', '--num-gpus', '1.5', 'a.yaml'],
      /--num-gpus must be a positive integer, got 1\.5/,
    ],
    [['rules', 'extra'], /^tunelab: rules takes no arguments, got extra$/m],
    [['convert', '--to', 'yaml', 'a.yaml'], /^tunelab: --to must be auto, native, /m],
    [
      ['launch', '--target', 'moon', 'a.yaml'],
      /^tunelab: --target must be one of local, ssh, slurm, got moon$/m,
    ],
    [['logs'], /^tunelab: logs needs exactly one RUN$/m],
    [['stop', '--bogus', 'x'], /^tunelab: Unknown option '--bogus'/m],
  ];
  for (const [args, message] of cases) {
    const result = tunelab(args);
    assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, message, args.join(' '));
  }
});

test('an unknown GPU in the config is named by estimate (text and JSON), never "no GPU set"', () => {
  const dir = tempDir();
  const file = path.join(dir, 'run.finetune.yaml');
  fs.writeFileSync(
    file,
    'method: lora\nmodel:\n  name_or_path: meta-llama/Llama-3.2-1B\nhardware:\n  gpu: RTX4090-42GB\n',
  );
  const text = tunelab(['estimate', '--offline', file]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /unknown GPU RTX4090-42GB/);
  assert.doesNotMatch(text.stdout, /no GPU set/);
  const json = JSON.parse(tunelab(['estimate', '--offline', '--format', 'json', file]).stdout);
  assert.equal(json.unknown_gpu, 'RTX4090-42GB');
  assert.equal(json.fits, null);
});

// Shared helpers of the launch tests: the loopback sshd/SLURM written up by
// scripts/setup-ssh-slurm.sh, temporary projects and their configs, a fake
// runner package, a completed training run, and the replay job.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { followRun } from '../../launch/src/follow';
import { adapterFor, launchRun } from '../../launch/src/launcher';

export const ROOT = path.resolve(__dirname, '..', '..');
export const CLI = path.join(ROOT, 'dist', 'cli.js');
export const RUNNER_PARENT = path.join(ROOT, 'runner');
export const SAMPLE_LOG = path.resolve(ROOT, '..', 'shared', 'data', 'trainer-log-sample.txt');
export const REPLAY = path.join(__dirname, 'fixtures', 'replay_log.py');
export const TEMPLATE_DIR = path.join(ROOT, 'templates', 'telecom-support');

/**
 * A file the injection attempts below would create if any of them ran; in
 * /tmp itself so that the remote test user could create it too.
 */
export const CANARY = `/tmp/tunelab-canary-${process.pid}-${Date.now()}`;

/** Values that break naive command building: quotes, substitutions, separators, newlines. */
export const NASTY_VALUES = [
  'plain',
  'with space',
  "it's",
  "''",
  `$(touch ${CANARY})`,
  `\`touch ${CANARY}\``,
  `; touch ${CANARY}`,
  `a\ntouch ${CANARY}\n`,
  '"double" $HOME ${HOME}',
  '\\ back\\slash \\',
  '* ? [a-z]',
  '~ ~/x',
  '&& || | > < &',
  '',
  'ünïcödé ✓',
];

export interface Infra {
  sshHost: string;
  sshPort: number;
  sshUser: string;
  sshKey: string;
  sshConfig: string;
  sshAlias: string;
  remotePython: string;
  slurmConf?: string;
  slurmPartition?: string;
}

const ENV_FILE = process.env.TUNELAB_INFRA_ENV ?? path.join('/tmp', 'tunelab-infra', 'env');

function readEnvFile(): Record<string, string> | undefined {
  if (!fs.existsSync(ENV_FILE)) return undefined;
  const values: Record<string, string> = {};
  for (const line of fs.readFileSync(ENV_FILE, 'utf8').split('\n')) {
    const match = /^([A-Z_]+)=(.*)$/.exec(line);
    if (match) values[match[1]] = match[2];
  }
  return values;
}

/**
 * The loopback infrastructure, or a skip reason. Missing infrastructure fails
 * instead of skipping when TUNELAB_REQUIRE_INFRA is set (scripts/test-all.sh).
 */
export function loadInfra(): { infra?: Infra; skip?: string } {
  const env = readEnvFile();
  if (!env) {
    const message = `no ${ENV_FILE}: run scripts/setup-ssh-slurm.sh (as root) first`;
    if (process.env.TUNELAB_REQUIRE_INFRA)
      throw new Error(`${message} (TUNELAB_REQUIRE_INFRA is set)`);
    return { skip: message };
  }
  return {
    infra: {
      sshHost: env.TUNELAB_SSH_HOST,
      sshPort: Number(env.TUNELAB_SSH_PORT),
      sshUser: env.TUNELAB_SSH_USER,
      sshKey: env.TUNELAB_SSH_KEY,
      sshConfig: env.TUNELAB_SSH_CONFIG,
      sshAlias: env.TUNELAB_SSH_ALIAS,
      remotePython: env.TUNELAB_SSH_PYTHON,
      slurmConf: env.SLURM_CONF,
      slurmPartition: env.TUNELAB_SLURM_PARTITION,
    },
  };
}

export function slurmSkip(infra: Infra | undefined, skip: string | undefined): string | undefined {
  if (skip) return skip;
  if (!infra?.slurmConf) {
    const message = 'SLURM is not set up (scripts/setup-ssh-slurm.sh needs root)';
    if (process.env.TUNELAB_REQUIRE_INFRA) throw new Error(message);
    return message;
  }
  return undefined;
}

/** A fresh project: the telecom template's data and `config` as the config file. */
export function ensureBuilt(): void {
  if (fs.existsSync(CLI)) return;
  const built = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'build.mjs')], {
    cwd: ROOT,
  });
  if (built.status !== 0) throw new Error(`build failed: ${built.stderr}`);
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `tunelab ARGS` as a user runs it, in `cwd`, with extra environment. */
export function tunelab(
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv = {},
): Promise<CliResult> {
  ensureBuilt();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, ...env } });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('close', (code) =>
      resolve({
        code,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      }),
    );
  });
}

export function makeProject(
  config: string,
  options: { name?: string; withReplay?: boolean } = {},
): { dir: string; config: string; workspace: string } {
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'tunelab-launch-'));
  const dir = path.join(workspace, 'project');
  fs.mkdirSync(path.join(dir, 'data'), { recursive: true });
  for (const file of ['train.jsonl', 'eval.jsonl'])
    fs.copyFileSync(path.join(TEMPLATE_DIR, 'data', file), path.join(dir, 'data', file));
  if (options.withReplay) {
    fs.copyFileSync(REPLAY, path.join(dir, 'replay_log.py'));
    fs.copyFileSync(SAMPLE_LOG, path.join(dir, 'trainer-log-sample.txt'));
  }
  const file = path.join(dir, options.name ?? 'run.finetune.yaml');
  fs.writeFileSync(file, config);
  return { dir, config: file, workspace };
}

/** The replay job's argv and the files it needs beside the config. */
export function replayJob(
  dir: string,
  python: string,
  args: string[] = [],
): { jobArgv: string[]; extraFiles: string[] } {
  return {
    jobArgv: [python, 'replay_log.py', '--log', 'trainer-log-sample.txt', ...args],
    extraFiles: [path.join(dir, 'replay_log.py'), path.join(dir, 'trainer-log-sample.txt')],
  };
}

/**
 * A LoRA config of `model` on the template's data (data/train.jsonl,
 * data/eval.jsonl) with its output in runs/out; `tail` follows the
 * `training:` section's `output_dir` line (more training keys, or sections).
 */
export function loraConfig(model: string, tail = ''): string {
  return `method: lora
model:
  name_or_path: ${model}
lora:
  r: 16
  lora_alpha: 32
  target_modules: all-linear
data:
  train_file: data/train.jsonl
  eval_file: data/eval.jsonl
  format: messages
training:
  output_dir: runs/out
${tail}`;
}

export const BASE_CONFIG = loraConfig(
  'meta-llama/Llama-3.1-8B',
  '  per_device_train_batch_size: 4\n  gradient_accumulation_steps: 2\n  learning_rate: 2.0e-4\n',
);

/**
 * The start of a fake runner's `__main__` for `python -m tunelab_runner COMMAND CONFIG`:
 * `emit` prints an event as the runner does (runner/EVENTS.md), and `argv` must be
 * COMMAND and a CONFIG that exists where the job runs (exit 2 otherwise).
 */
export function fakeRunnerPrelude(command: string): string {
  return String.raw`
import json, os, sys, time
def emit(event, **fields):
    record = {"event": event, "time": round(time.time(), 3), "v": 1}
    record.update(fields)
    print("@tunelab " + json.dumps(record, separators=(",", ":")), flush=True)
argv = sys.argv[1:]
if len(argv) < 2 or argv[0] != "${command}" or not os.path.isfile(argv[1]):
    print(f"fake runner: expected ${command} CONFIG in {os.getcwd()}, got {argv}", file=sys.stderr)
    sys.exit(2)
`;
}

/**
 * A runner package in a fresh temp dir (named `prefix`…), for
 * TUNELAB_RUNNER_DIR or `runnerParent`: `tunelab_runner/__main__.py` is `main`.
 */
export function fakeRunner(prefix: string, main: string): string {
  const parent = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.mkdirSync(path.join(parent, 'tunelab_runner'));
  fs.writeFileSync(path.join(parent, 'tunelab_runner', '__init__.py'), '');
  fs.writeFileSync(path.join(parent, 'tunelab_runner', '__main__.py'), main);
  return parent;
}

/** Launches `config` with a job that only prints, follows it to the end: a completed training run. */
export async function trainedRun(
  config: string,
  workspace: string,
  python: string,
  sshConfig?: string,
) {
  const record = await launchRun(config, {
    workspaceDir: workspace,
    sshConfigFile: sshConfig,
    jobArgv: [python, '-c', 'print("trained")'],
  });
  const result = await followRun(record, adapterFor(record.target, sshConfig), {
    fromOffset: 0,
    onLine: () => undefined,
  });
  assert.equal(result.state, 'completed');
  return record;
}

/** Runs a shell command as the test ssh user on the test host (for checks, not under test). */
export function remoteShell(infra: Infra, command: string): string {
  const result = spawnSync(
    'ssh',
    ['-F', infra.sshConfig, '-o', 'BatchMode=yes', '--', infra.sshAlias, command],
    { encoding: 'utf8', timeout: 60_000 },
  );
  if (result.status !== 0) throw new Error(`remote ${command}: ${result.stderr}`);
  return result.stdout;
}

/** Every process's command line (what `ps` shows to any user). */
export function allCommandLines(): string[] {
  const lines: string[] = [];
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      lines.push(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' '));
    } catch {
      // gone meanwhile
    }
  }
  return lines;
}

/** Files under `dir` whose contents include `needle`. */
export function filesContaining(dir: string, needle: string): string[] {
  const found: string[] = [];
  const walk = (current: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(current, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) {
        try {
          if (fs.readFileSync(full).includes(needle)) found.push(full);
        } catch {
          // unreadable
        }
      }
    }
  };
  walk(dir);
  return found;
}

export function waitFor<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 30_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = async () => {
      const value = await probe();
      if (value !== undefined && value !== false) return resolve(value as T);
      if (Date.now() > deadline) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 100);
    };
    void tick();
  });
}

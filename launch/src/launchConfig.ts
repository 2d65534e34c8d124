// The `launch` section of a config (spec/config.md), read and checked once:
// every later step (commands, sync, sbatch) gets plain validated values, and
// every error names the key at fault so the editor can point at its line.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isRecord, parseYaml, sourceAt, valueAt, type ParsedYaml } from '../../engine/src/parse';
import { detectDialect } from '../../engine/src/dialect';
import type { Dialect, Path, Range } from '../../engine/src/types';
import { checkEnvName, parseSshDestination, shPath, type SshDestination } from './shell';

export type TargetKind = 'local' | 'ssh' | 'slurm';
export const TARGETS: readonly TargetKind[] = ['local', 'ssh', 'slurm'];

export interface SshSettings extends SshDestination {
  /** The host as written in the config (for messages and the run record). */
  host: string;
  identityFile?: string;
  /** Remote directory the run's files go to; `~/` is the remote home. */
  workdir: string;
}

export interface SlurmSettings {
  partition?: string;
  nodes: number;
  gpusPerNode?: number;
  time?: string;
  account?: string;
  /** Submit through this login node instead of this machine. */
  viaSsh?: SshSettings;
  extraArgs: string[];
}

export type DistributedBackend = 'none' | 'ddp' | 'fsdp' | 'deepspeed';

export interface LaunchSpec {
  configPath: string;
  /** The tool the config is written for: native configs run the Tunelab runner, the others their own CLI. */
  dialect: Dialect;
  configDir: string;
  parsed: ParsedYaml;
  target: TargetKind;
  python: string;
  ssh?: SshSettings;
  slurm?: SlurmSettings;
  distributed: { backend: DistributedBackend; numProcesses: number };
  env: Record<string, string>;
  secrets: string[];
  /** Local files the run reads (config first, then data): what is synced to a remote host. */
  files: string[];
  warnings: string[];
}

export class LaunchConfigError extends Error {
  constructor(
    message: string,
    readonly path: Path,
  ) {
    super(message);
  }
}

export const DEFAULT_REMOTE_WORKDIR = '~/tunelab';

/** The range of the key at `path` (or its nearest ancestor) for diagnostics. */
export function keyRange(parsed: ParsedYaml, keyPath: Path): Range {
  const node = sourceAt(parsed.root, keyPath);
  return (
    node?.keyRange ??
    node?.valueRange ?? { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }
  );
}

/** Every launch value may reach a command line or a script: NUL can be in neither. */
function checkCarriable(value: string, keyPath: Path): string {
  if (value.includes('\0'))
    throw new LaunchConfigError(
      `${keyPath.join('.')} contains a NUL byte, which no command can carry`,
      keyPath,
    );
  return value;
}

/** A remote directory as shPath takes it (`~`, `~/…` or a path; not `~user/…`). */
function remoteDirectory(read: Reader, keyPath: Path): string | undefined {
  const value = read.string(keyPath);
  if (value === undefined) return undefined;
  try {
    shPath(value);
  } catch (err) {
    throw new LaunchConfigError(`${keyPath.join('.')}: ${(err as Error).message}`, keyPath);
  }
  return value;
}

class Reader {
  constructor(private readonly parsed: ParsedYaml) {}

  value(keyPath: Path): unknown {
    return valueAt(this.parsed.value, keyPath);
  }

  string(keyPath: Path): string | undefined {
    const value = this.value(keyPath);
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string' || value === '')
      throw new LaunchConfigError(`${keyPath.join('.')} must be a non-empty string`, keyPath);
    return checkCarriable(value, keyPath);
  }

  integer(keyPath: Path, min: number): number | undefined {
    const value = this.value(keyPath);
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min)
      throw new LaunchConfigError(`${keyPath.join('.')} must be an integer ≥ ${min}`, keyPath);
    return value;
  }

  stringList(keyPath: Path): string[] {
    const value = this.value(keyPath);
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value) || !value.every((item) => typeof item === 'string'))
      throw new LaunchConfigError(`${keyPath.join('.')} must be a list of strings`, keyPath);
    return value as string[];
  }
}

function sshSettings(
  read: Reader,
  host: string,
  hostPath: Path,
  explicitPort: number | undefined,
): SshSettings {
  let destination: SshDestination;
  try {
    destination = parseSshDestination(host, hostPath.join('.'), explicitPort);
  } catch (err) {
    throw new LaunchConfigError((err as Error).message, hostPath);
  }
  return {
    host,
    ...destination,
    identityFile: read.string(['launch', 'ssh', 'identity_file']),
    workdir: remoteDirectory(read, ['launch', 'ssh', 'workdir']) ?? DEFAULT_REMOTE_WORKDIR,
  };
}

/** Local data files the config names (relative to the config, as the runner resolves them). */
function dataFiles(read: Reader, configDir: string, remote: boolean, warnings: string[]): string[] {
  const files: string[] = [];
  const add = (value: unknown) => {
    if (typeof value !== 'string' || value === '') return;
    const expanded = /^~(?=$|[\\/])/.test(value) ? os.homedir() + value.slice(1) : value;
    const resolved = path.resolve(configDir, expanded);
    if (fs.existsSync(resolved) && fs.statSync(resolved).isFile()) files.push(resolved);
    else if (remote)
      warnings.push(`${value}: not found here, so not copied; it must exist on the target`);
  };
  add(read.value(['data', 'train_file']));
  add(read.value(['data', 'eval_file']));
  add(read.value(['data', 'general_data', 'file']));
  const deepspeed = read.value(['training', 'deepspeed']);
  if (typeof deepspeed === 'string' && !deepspeed.trimStart().startsWith('{')) add(deepspeed);
  const model = read.value(['model', 'name_or_path']);
  if (remote && typeof model === 'string' && fs.existsSync(path.resolve(configDir, model)))
    warnings.push(
      `model.name_or_path ${model} is a local directory: it is not copied (models are large); it must exist at the same path on the target`,
    );
  return files;
}

export function readLaunchSpec(
  configPath: string,
  text: string,
  targetOverride?: TargetKind,
): LaunchSpec {
  const absolute = path.resolve(configPath);
  const configDir = path.dirname(absolute);
  const parsed = parseYaml(text);
  if (!parsed.complete || !isRecord(parsed.value))
    throw new LaunchConfigError(`${configPath} is not a YAML mapping`, []);
  const read = new Reader(parsed);
  const launch = read.value(['launch']);
  if (launch !== undefined && launch !== null && !isRecord(launch))
    throw new LaunchConfigError('launch must be a mapping', ['launch']);

  const written = read.string(['launch', 'target']);
  const target = targetOverride ?? written ?? 'local';
  if (!TARGETS.includes(target as TargetKind))
    throw new LaunchConfigError(
      `launch.target must be one of ${TARGETS.join(', ')}, got ${target}`,
      ['launch', 'target'],
    );

  const warnings: string[] = [];
  const spec: LaunchSpec = {
    configPath: absolute,
    dialect: detectDialect(absolute, parsed.value, text) ?? 'native',
    configDir,
    parsed,
    target: target as TargetKind,
    python: read.string(['launch', 'python']) ?? 'python3',
    distributed: { backend: 'none', numProcesses: 1 },
    env: {},
    secrets: [],
    files: [absolute],
    warnings,
  };

  const sshHost = read.string(['launch', 'ssh', 'host']);
  const sshPort = read.integer(['launch', 'ssh', 'port'], 1);
  if (sshHost) spec.ssh = sshSettings(read, sshHost, ['launch', 'ssh', 'host'], sshPort);
  if (spec.target === 'ssh' && !spec.ssh)
    throw new LaunchConfigError('launch.target ssh needs launch.ssh.host', ['launch', 'target']);

  if (spec.target === 'slurm' || read.value(['launch', 'slurm']) !== undefined) {
    const via = read.string(['launch', 'slurm', 'via_ssh']);
    const time = read.string(['launch', 'slurm', 'time']);
    if (time !== undefined && !/^[0-9:-]+$|^(UNLIMITED|INFINITE)$/i.test(time))
      throw new LaunchConfigError(`launch.slurm.time ${time} is not a time limit`, [
        'launch',
        'slurm',
        'time',
      ]);
    const extraArgs = read.stringList(['launch', 'slurm', 'extra_args']);
    extraArgs.forEach((arg, index) => {
      // Each one is passed as one argument of sbatch; an option must look like one.
      if (!arg.startsWith('-') || /[\n\r\0]/.test(arg))
        throw new LaunchConfigError(
          `launch.slurm.extra_args: ${JSON.stringify(arg)} is not an sbatch option (--name or --name=value)`,
          ['launch', 'slurm', 'extra_args', index],
        );
    });
    spec.slurm = {
      partition: read.string(['launch', 'slurm', 'partition']),
      nodes: read.integer(['launch', 'slurm', 'nodes'], 1) ?? 1,
      gpusPerNode: read.integer(['launch', 'slurm', 'gpus_per_node'], 1),
      time,
      account: read.string(['launch', 'slurm', 'account']),
      viaSsh: via ? sshSettings(read, via, ['launch', 'slurm', 'via_ssh'], sshPort) : undefined,
      extraArgs,
    };
  }

  const backend = read.string(['launch', 'distributed', 'backend']) ?? 'none';
  if (!['none', 'ddp', 'fsdp', 'deepspeed'].includes(backend))
    throw new LaunchConfigError(`launch.distributed.backend ${backend} is unknown`, [
      'launch',
      'distributed',
      'backend',
    ]);
  const gpusPerNode = spec.slurm?.gpusPerNode;
  const nodes = spec.target === 'slurm' ? (spec.slurm?.nodes ?? 1) : 1;
  const numGpus = read.value(['hardware', 'num_gpus']);
  spec.distributed = {
    backend: backend as DistributedBackend,
    numProcesses:
      read.integer(['launch', 'distributed', 'num_processes'], 1) ??
      (gpusPerNode !== undefined ? gpusPerNode * nodes : typeof numGpus === 'number' ? numGpus : 1),
  };
  if (nodes > 1 && spec.distributed.backend === 'none')
    throw new LaunchConfigError(
      'launch.slurm.nodes > 1 needs launch.distributed.backend (ddp, fsdp or deepspeed)',
      ['launch', 'slurm', 'nodes'],
    );

  const env = read.value(['launch', 'env']);
  if (env !== undefined && env !== null) {
    if (!isRecord(env))
      throw new LaunchConfigError('launch.env must be a mapping', ['launch', 'env']);
    for (const [name, value] of Object.entries(env)) {
      try {
        checkEnvName(name, 'launch.env');
      } catch (err) {
        throw new LaunchConfigError((err as Error).message, ['launch', 'env', name]);
      }
      if (!['string', 'number', 'boolean'].includes(typeof value))
        throw new LaunchConfigError(`launch.env.${name} must be a string, number or boolean`, [
          'launch',
          'env',
          name,
        ]);
      spec.env[name] = checkCarriable(String(value), ['launch', 'env', name]);
    }
  }
  spec.secrets = read.stringList(['launch', 'secrets']);
  spec.secrets.forEach((name, index) => {
    try {
      checkEnvName(name, 'launch.secrets');
    } catch (err) {
      throw new LaunchConfigError((err as Error).message, ['launch', 'secrets', index]);
    }
  });

  // Only a remote host needs the files copied (a SLURM job here reads them in place).
  const remote = spec.target === 'ssh' || (spec.target === 'slurm' && !!spec.slurm?.viaSsh);
  spec.files.push(...dataFiles(read, configDir, remote, warnings));
  return spec;
}

/** Reads the file and its launch section; a LaunchConfigError for bad values. */
export function loadLaunchSpec(configPath: string, targetOverride?: TargetKind): LaunchSpec {
  let text: string;
  try {
    text = fs.readFileSync(configPath, 'utf8');
  } catch (err) {
    throw new LaunchConfigError(
      `cannot read ${configPath}: ${(err as NodeJS.ErrnoException).code ?? err}`,
      [],
    );
  }
  return readLaunchSpec(configPath, text, targetOverride);
}

// `python -m tunelab_runner doctor` on the launch target (this machine, the
// ssh host, or a SLURM node through srun), and what its report means for the
// config: the GPU to write into `hardware.gpu` so the estimate checks against
// the card the run will really get.

import * as path from 'node:path';
import { chainEdits, setKey, yamlScalar } from '../../engine/src/edits';
import { findGpu } from '../../engine/src/hardware/gpus';
import type { ParsedYaml } from '../../engine/src/parse';
import type { TextEdit } from '../../engine/src/types';
import { runnerArgv } from './jobScript';
import { findRunnerParent } from './launcher';
import type { LaunchSpec } from './launchConfig';
import { localPython } from './localTarget';
import { requireExecutable, runProcess, type ProcessResult } from './processes';
import { shPath, shQuote } from './shell';
import { runRemote } from './sshClient';
import { baseWord, syncRun } from './remoteJob';
import { REMOTE_RUNNER_DIR } from './sync';

export interface DoctorGpu {
  name: string;
  memory_bytes?: number | null;
  bf16?: boolean;
}

export interface DoctorReport {
  python?: { version?: string; executable?: string };
  packages?: Record<string, string | null>;
  gpus?: DoctorGpu[];
  methods?: Record<
    string,
    { ready: boolean; missing: string[]; install?: string | null; notes?: string[] }
  >;
  [key: string]: unknown;
}

export interface DoctorOptions {
  runnerParent?: string;
  sshConfigFile?: string;
  onStatus?: (message: string) => void;
}

function srunOptions(spec: LaunchSpec): string[] {
  const slurm = spec.slurm;
  const options = ['--nodes=1', '--ntasks=1', '--time=10'];
  if (slurm?.partition) options.push(`--partition=${slurm.partition}`);
  if (slurm?.account) options.push(`--account=${slurm.account}`);
  if (slurm?.gpusPerNode) options.push(`--gpus-per-node=${slurm.gpusPerNode}`);
  return options;
}

async function runDoctorProcess(spec: LaunchSpec, options: DoctorOptions): Promise<ProcessResult> {
  const doctor = runnerArgv(spec, 'doctor', '');
  const remote =
    spec.target === 'ssh' ? spec.ssh : spec.target === 'slurm' ? spec.slurm?.viaSsh : undefined;
  if (!remote) {
    // On this machine (a SLURM login node runs it on a compute node through srun).
    const python = localPython(spec.python, spec.configDir);
    const argv =
      spec.target === 'slurm'
        ? [
            requireExecutable('srun', 'for the SLURM doctor'),
            ...srunOptions(spec),
            python,
            ...doctor.slice(1),
          ]
        : [python, ...doctor.slice(1)];
    const env = { ...process.env };
    // inside a job srun would step into it: the doctor asks for its own allocation
    if (spec.target === 'slurm') {
      delete env.SLURM_JOB_ID;
      delete env.SLURM_JOBID;
    }
    if (options.runnerParent)
      env.PYTHONPATH = [options.runnerParent, process.env.PYTHONPATH]
        .filter(Boolean)
        .join(path.delimiter);
    return runProcess(argv, { cwd: spec.configDir, env, timeoutMs: 600_000 });
  }
  const connection = { ...remote, configFile: options.sshConfigFile };
  const plan = await syncRun(
    { files: spec.files, runnerParent: options.runnerParent, onStatus: options.onStatus },
    connection,
    remote.workdir,
  );
  const srun = spec.target === 'slurm' ? `srun ${srunOptions(spec).map(shQuote).join(' ')} ` : '';
  const command =
    `cd ${shPath(remote.workdir)} && TUNELAB_BASE=$(pwd) && ` +
    `cd ${baseWord(path.posix.dirname(plan.configRelative))} && ` +
    `PYTHONPATH=${baseWord(REMOTE_RUNNER_DIR)}\${PYTHONPATH:+:$PYTHONPATH} ${srun}` +
    doctor.map(shQuote).join(' ');
  options.onStatus?.(`running the doctor on ${remote.host}`);
  return runRemote(connection, command, { timeoutMs: 600_000 });
}

/** Runs the doctor where the config launches; throws with its output when it fails. */
export async function runDoctor(
  spec: LaunchSpec,
  options: DoctorOptions = {},
): Promise<DoctorReport> {
  const result = await runDoctorProcess(spec, {
    ...options,
    runnerParent: options.runnerParent ?? findRunnerParent(),
  });
  const start = result.stdout.indexOf('{');
  if (result.code !== 0 || start === -1)
    throw new Error(
      `the doctor failed (exit ${result.code}): ${(result.stderr || result.stdout).trim().slice(-2000)}`,
    );
  return JSON.parse(result.stdout.slice(start)) as DoctorReport;
}

export interface HardwareSuggestion {
  /** A catalog id (`H100-80GB`) or, for a card the catalog lacks, its YAML mapping text. */
  gpu: string;
  numGpus: number;
  /** How the first GPU is named by the driver. */
  seen: string;
}

const GiB = 1024 ** 3;

/** The catalog id for the doctor's GPU, trying the memory sizes nearest what the driver reports. */
export function gpuIdFor(gpu: DoctorGpu): string | undefined {
  const gib = gpu.memory_bytes ? gpu.memory_bytes / GiB : undefined;
  if (gib !== undefined) {
    const sizes = [16, 24, 32, 40, 48, 80, 94, 141, 192].sort(
      (a, b) => Math.abs(a - gib) - Math.abs(b - gib),
    );
    for (const size of sizes.slice(0, 3)) {
      const found = findGpu(`${gpu.name} ${size}GB`);
      if (found) return found.id;
    }
  }
  return findGpu(gpu.name)?.id;
}

/** The methods' notes (no GPU, no bf16, CUDA's JIT cache off, ...), each once, in the report's order. */
export function doctorNotes(report: DoctorReport): string[] {
  const notes = Object.values(report.methods ?? {}).flatMap((method) => method.notes ?? []);
  return [...new Set(notes.filter((note) => typeof note === 'string' && note.trim() !== ''))];
}

export function suggestHardware(report: DoctorReport): HardwareSuggestion | undefined {
  const gpus = report.gpus ?? [];
  if (gpus.length === 0) return undefined;
  const first = gpus[0];
  const id = gpuIdFor(first);
  const memoryGb = first.memory_bytes ? Math.round(first.memory_bytes / GiB) : undefined;
  const gpu =
    id ??
    `{ name: ${yamlScalar(first.name)}${memoryGb ? `, memory_gb: ${memoryGb}` : ''}${first.bf16 !== undefined ? `, bf16: ${first.bf16}` : ''} }`;
  return { gpu, numGpus: gpus.length, seen: first.name };
}

/** Edits that write `hardware.gpu` and `hardware.num_gpus`, keeping the rest of the file. */
export function hardwareEdits(parsed: ParsedYaml, suggestion: HardwareSuggestion): TextEdit[] {
  return chainEdits(parsed.text, [
    (p) => setKey(p, ['hardware'], 'gpu', suggestion.gpu),
    (p) => setKey(p, ['hardware'], 'num_gpus', String(suggestion.numGpus)),
  ]);
}

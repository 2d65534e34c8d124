// The command that runs the training, and the shell scripts that wrap it on a
// remote host (run.sh for ssh, job.sh for sbatch). Every value from the config
// enters a script through shQuote; the scripts hold no secrets (those reach
// the job's environment through the start command's stdin, see sshTarget.ts).

import { dialectLaunchCommand } from '../../engine/src/dialects/launchCommand';
import type { LaunchSpec } from './launchConfig';
import { exportLines, shQuote } from './shell';

export const RUNNER_MODULE = 'tunelab_runner';
/** torchrun's rendezvous port on the first node of a multi-node job. */
export const RENDEZVOUS_PORT = 29500;

export type RunnerCommand = 'train' | 'doctor' | 'plan';

export interface TrainArgvOptions {
  python?: string;
  rendezvous?: boolean;
  /** After CONFIG: the runner's own options (`--probe 16`); never a value from the config. */
  extraArgs?: readonly string[];
}

/**
 * argv of the job on its host: `python -m tunelab_runner train CONFIG`, or
 * under torchrun (`python -m torch.distributed.run`, the same program as the
 * `torchrun` script but run by the configured interpreter) for ddp, fsdp and
 * deepspeed: the Trainer takes FSDP and DeepSpeed from `training.fsdp` /
 * `training.deepspeed`, torchrun only starts one process per GPU.
 */
export function runnerArgv(
  spec: Pick<LaunchSpec, 'python' | 'distributed'>,
  command: RunnerCommand,
  configArg: string,
  options: TrainArgvOptions = {},
): string[] {
  const python = options.python ?? spec.python;
  const args =
    command === 'doctor' ? [command] : [command, configArg, ...(options.extraArgs ?? [])];
  const { backend, numProcesses } = spec.distributed;
  if (command !== 'train' || (backend === 'none' && numProcesses <= 1))
    return [python, '-m', RUNNER_MODULE, ...args];
  const launcher = [python, '-m', 'torch.distributed.run'];
  if (!options.rendezvous) launcher.push('--standalone');
  launcher.push('--nproc_per_node', String(numProcesses));
  return [...launcher, '-m', RUNNER_MODULE, ...args];
}

/**
 * argv that trains the config: the Tunelab runner for native configs (see
 * runnerArgv), the tool's own command for Axolotl, LLaMA-Factory and TRL
 * configs (`axolotl train`, `llamafactory-cli train`, `trl sft --config`),
 * whose logs the same HF-log parser reads.
 */
export function trainArgv(
  spec: Pick<LaunchSpec, 'python' | 'distributed' | 'dialect'>,
  configArg: string,
  options: TrainArgvOptions = {},
): string[] {
  if (spec.dialect !== 'native') return dialectLaunchCommand(spec.dialect, configArg);
  return runnerArgv(spec, 'train', configArg, options);
}

export interface ScriptParts {
  runId: string;
  /** Shell word of the directory the job works in (the config's directory). */
  configDirWord: string;
  /** Shell word added in front of PYTHONPATH: the synced runner package's parent. */
  runnerPathWord?: string;
  /** Shell word of the file the exit code is written to. */
  exitCodeWord: string;
  env: Record<string, string>;
  argv: string[];
}

function preamble(parts: ScriptParts, what: string): string {
  return (
    `#!/bin/sh\n` +
    `# Tunelab run ${parts.runId}: ${what}. Written by Tunelab; values are quoted, secrets are not here.\n` +
    `TUNELAB_BASE=$(pwd)\n` +
    (parts.runnerPathWord
      ? `PYTHONPATH=${parts.runnerPathWord}\${PYTHONPATH:+:$PYTHONPATH}\nexport PYTHONPATH\n`
      : '') +
    // Without this Python buffers print() into the log file: no live progress.
    `export PYTHONUNBUFFERED=1\n` +
    exportLines(parts.env, 'launch.env') +
    `cd ${parts.configDirWord} || exit 1\n`
  );
}

/**
 * run.sh for the ssh target, started detached (setsid nohup). It forwards a
 * SIGTERM from `tunelab stop` to the runner once (the runner then saves a
 * checkpoint) and writes the exit code so a later attach knows how it ended.
 */
export function sshRunScript(parts: ScriptParts): string {
  return (
    preamble(parts, 'started with setsid nohup; stop sends SIGTERM to this shell') +
    `${parts.argv.map(shQuote).join(' ')} &\n` +
    `child=$!\n` +
    `trap 'kill -TERM "$child" 2>/dev/null' TERM INT HUP\n` +
    `wait "$child"\ncode=$?\n` +
    // wait returns early when a trapped signal arrives: wait again for the real exit.
    `while kill -0 "$child" 2>/dev/null; do wait "$child"; code=$?; done\n` +
    `echo "$code" > ${parts.exitCodeWord}\n` +
    `exit "$code"\n`
  );
}

export interface SlurmLayout {
  nodes: number;
  gpusPerNode?: number;
}

/**
 * job.sh for sbatch (its options are passed on sbatch's command line, quoted,
 * not as #SBATCH lines). scancel signals every process of the job, so the
 * runner gets its SIGTERM directly: no forwarding here, or it would get two
 * and skip its checkpoint. Multi-node jobs start one torchrun per node with
 * srun, meeting at a c10d rendezvous on the first node.
 */
export function slurmJobScript(
  parts: ScriptParts,
  layout: SlurmLayout,
  spec: Pick<LaunchSpec, 'python' | 'distributed'>,
  configArg: string,
  extraArgs: readonly string[] = [],
): string {
  let body: string;
  if (layout.nodes > 1) {
    const perNode = Math.max(
      1,
      layout.gpusPerNode ?? Math.ceil(spec.distributed.numProcesses / layout.nodes),
    );
    const torchrun = [
      spec.python,
      '-m',
      'torch.distributed.run',
      '--nproc_per_node',
      String(perNode),
    ].map(shQuote);
    body =
      `MASTER_ADDR=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)\n` +
      `export MASTER_ADDR MASTER_PORT=${RENDEZVOUS_PORT}\n` +
      `srun --ntasks-per-node=1 --kill-on-bad-exit=1 ${torchrun.join(' ')} ` +
      `--nnodes "$SLURM_NNODES" --rdzv_id "$SLURM_JOB_ID" --rdzv_backend c10d ` +
      `--rdzv_endpoint "$MASTER_ADDR:$MASTER_PORT" -m ${RUNNER_MODULE} train ${[configArg, ...extraArgs].map(shQuote).join(' ')}\n`;
  } else {
    body = `${parts.argv.map(shQuote).join(' ')}\n`;
  }
  return (
    preamble(parts, 'submitted with sbatch; its options are on the sbatch command line') +
    body +
    `code=$?\n` +
    `echo "$code" > ${parts.exitCodeWord}\n` +
    `exit "$code"\n`
  );
}

/** sbatch's options from `launch.slurm`, one argv entry each. */
export function sbatchOptions(
  slurm: NonNullable<LaunchSpec['slurm']>,
  runId: string,
  outputPath: string,
): string[] {
  const options = [
    '--parsable',
    `--job-name=tunelab-${runId}`,
    `--output=${outputPath}`,
    `--nodes=${slurm.nodes}`,
  ];
  if (slurm.nodes > 1) options.push('--ntasks-per-node=1');
  if (slurm.partition) options.push(`--partition=${slurm.partition}`);
  if (slurm.gpusPerNode) options.push(`--gpus-per-node=${slurm.gpusPerNode}`);
  if (slurm.time) options.push(`--time=${slurm.time}`);
  if (slurm.account) options.push(`--account=${slurm.account}`);
  options.push(...slurm.extraArgs);
  return options;
}

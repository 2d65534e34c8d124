// "Detect with tunelab_runner doctor…": runs the runner's doctor on this
// machine through the launch module (the same call `tunelab launch` makes
// before a run) and turns the GPU it reports into a catalog id.

import * as path from 'node:path';
import { yamlScalar } from '../../../engine/src/edits';
import { gpuIdFor, runDoctor, type DoctorReport } from '../../../launch/src/doctor';
import { readLaunchSpec } from '../../../launch/src/launchConfig';
import { findRunnerParent } from '../../../launch/src/launcher';

/** A failure to show as is: it says what happened and what to do instead. */
export class DetectGpuError extends Error {}

export interface DetectedGpu {
  /** Catalog id, e.g. RTX4090-24GB. */
  gpu: string;
  numGpus: number;
  /** The driver's name for the first card. */
  seen: string;
}

export interface DetectOptions {
  /** The interpreter that has tunelab_runner (a name on PATH or a path). */
  python: string;
  /** Where the doctor runs; a relative `python` is taken from here. */
  cwd: string;
  /** Where a development checkout's runner/ folder is looked for. */
  extensionPath: string;
}

export function defaultPython(): string {
  return process.platform === 'win32' ? 'python' : 'python3';
}

export async function detectGpu(options: DetectOptions): Promise<DetectedGpu> {
  // The launch module's own reading of a config gives a local spec with its
  // defaults; the file is never written.
  const spec = readLaunchSpec(
    path.join(options.cwd, 'detect-gpu.finetune.yaml'),
    `launch:\n  target: local\n  python: ${yamlScalar(options.python)}\n`,
  );
  const command = `${options.python} -m tunelab_runner doctor`;
  let report: DoctorReport;
  try {
    report = await runDoctor(spec, { runnerParent: findRunnerParent(options.extensionPath) });
  } catch (err) {
    const notFound = (err as NodeJS.ErrnoException).code === 'ENOENT';
    const why = notFound ? `${options.python} was not found` : (err as Error).message;
    throw new DetectGpuError(
      `${command} did not run: ${why}. Install the runner into that Python ` +
        '(pip install -e runner) or pick the GPU from the list.',
    );
  }
  const gpus = report.gpus ?? [];
  if (gpus.length === 0) {
    const torch = report.torch as { message?: string; error?: string } | undefined;
    const note = torch?.message ?? torch?.error;
    throw new DetectGpuError(
      `${command} found no GPU on this machine${note ? ` (${note})` : ''}. Pick the GPU the run will use from the list.`,
    );
  }
  const gpu = gpuIdFor(gpus[0]);
  if (!gpu) {
    throw new DetectGpuError(
      `${command} reports ${gpus[0].name}, which is not in the GPU catalog. Pick the nearest card from the list.`,
    );
  }
  return { gpu, numGpus: gpus.length, seen: gpus[0].name };
}

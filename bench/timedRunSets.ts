// The sets of timed whole runs (runner/bench/whole_runs.py results): the set the time
// constants are fitted on, and the held-out one measured on nine H100 machines since,
// in the order measured, with the machine each ran on where calls shared one.

import { DEFAULT_ALLOCATOR } from './estimate/plans';

/** One measuring call's results file and, where they came back, its per-run event logs. */
export interface TimedRunFile {
  results: string;
  /** The per-run event logs; without them, each run's summary figures (summarize() on the device). */
  events?: string;
  /** The machine it ran on, where calls shared one; else each file is its own (hostPaceTransfer.ts). */
  machine?: string;
}

/** A set of timed whole runs: its results files, and what its runner did. */
export interface TimedRunSet {
  /** In the order measured: a run measured again in a later file supersedes its earlier measurement. */
  files: readonly TimedRunFile[];
  label: string;
  /** The runs paid peft's LoRA input cast under autocast (the runner before it skipped it). */
  peftInputCast: boolean;
  /** launch.env's allocator of the runs, when not the runner's own (expandable segments). */
  allocator?: string;
}

export const TIMED_RUN_SETS = {
  /** 6 steps, PyTorch's default allocator, peft's cast: the set the constants are fitted on. */
  fitted: {
    files: [{ results: 'whole-runs-h100.json', events: 'whole-runs-h100-events' }],
    label: '6 steps of 2 micro-batches, the runner before expandable segments; fitted on',
    peftInputCast: true,
    allocator: DEFAULT_ALLOCATOR,
  },
  /** 24 steps, the final runner (expandable segments, no cast): held out of every fit. */
  heldOut: {
    files: [
      { results: 'whole-runs-h100-steps24.json' },
      {
        results: 'whole-runs-h100-steps24-eval.json',
        events: 'whole-runs-h100-steps24-eval-events',
      },
      // the same nine again after a warm-up training (whole_runs.py --warm-up): none of them
      // a just-started machine's first, as 1b-lora-*-eval were in the file above
      {
        results: 'whole-runs-h100-steps24-eval-warm.json',
        events: 'whole-runs-h100-steps24-eval-warm-events',
      },
      // the same nine on three more H100 machines (same CPU model), host_probe.py before and after
      // the runs; the last two warmed up on a padded run, whose first new shapes wait on CUDA's JIT
      {
        results: 'whole-runs-h100-steps24-eval-host.json',
        events: 'whole-runs-h100-steps24-eval-host-events',
      },
      {
        results: 'whole-runs-h100-steps24-eval-host2.json',
        events: 'whole-runs-h100-steps24-eval-host2-events',
      },
      {
        results: 'whole-runs-h100-steps24-eval-host3.json',
        events: 'whole-runs-h100-steps24-eval-host3-events',
      },
      // the ten padded runs again once the runner turned cuDNN's attention off for padded
      // batches (its plan's steps.attention): the eight without QLoRA, then the two with it
      {
        results: 'whole-runs-h100-steps24-attention.json',
        events: 'whole-runs-h100-steps24-attention-events',
      },
      {
        results: 'whole-runs-h100-steps24-attention-full.json',
        events: 'whole-runs-h100-steps24-attention-full-events',
        machine: 'seventh',
      },
      {
        results: 'whole-runs-h100-steps24-attention-qlora.json',
        events: 'whole-runs-h100-steps24-attention-qlora-events',
        machine: 'seventh',
      },
      // the ten padded runs on an eighth machine (another CPU model: lscpu in host-dec07/), their
      // runner reporting its steady step; then the QLoRA two in a second call on it
      {
        results: 'whole-runs-h100-steps24-attention-dec07.json',
        events: 'whole-runs-h100-steps24-attention-dec07-events',
        machine: 'eighth',
      },
      {
        results: 'whole-runs-h100-steps24-attention-dec07-qlora.json',
        events: 'whole-runs-h100-steps24-attention-dec07-qlora-events',
        machine: 'eighth',
      },
      // six of them on a machine with the eighth's CPU model (the same one or not: unknown), each
      // right after its own config's 16-step pace probe (whole_runs.py --probe-steps 16)
      {
        results: 'whole-runs-h100-steps24-probe-dec07.json',
        events: 'whole-runs-h100-steps24-probe-dec07-events',
        machine: 'probed',
      },
    ],
    label: '24 steps of 2 micro-batches, the final runner and templates; held out (not fitted on)',
    peftInputCast: false,
  },
} as const satisfies Record<string, TimedRunSet>;

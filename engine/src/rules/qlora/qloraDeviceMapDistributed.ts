import { isRecord } from '../../parse';
import type { RuleContext } from '../context';
import { numberAt } from '../method/shared';
import type { Rule } from '../rule';

/** device_map strategies that spread one copy of the model over every visible GPU. */
const SPREADING = new Set(['auto', 'balanced', 'balanced_low_0', 'sequential']);

/**
 * Training processes `tunelab launch` starts, as launch/src/launchConfig.ts
 * counts them: `launch.distributed.num_processes`, else the Slurm GPUs
 * (gpus_per_node × nodes), else `hardware.num_gpus`. More than one means
 * torchrun, one process per GPU.
 */
export function launchedProcesses(ctx: RuleContext): number {
  const processes = numberAt(ctx, ['launch', 'distributed', 'num_processes']);
  if (processes !== undefined) return processes;
  const perNode = numberAt(ctx, ['launch', 'slurm', 'gpus_per_node']);
  if (perNode !== undefined) {
    const slurm = ctx.value(['launch', 'target']) === 'slurm';
    return perNode * (slurm ? (numberAt(ctx, ['launch', 'slurm', 'nodes']) ?? 1) : 1);
  }
  return numberAt(ctx, ['hardware', 'num_gpus']) ?? 1;
}

/** The one device a placement names, so `0`, `cuda` and `cuda:0` compare equal. */
function deviceName(device: unknown): string {
  if (typeof device === 'number') return `cuda:${device}`;
  return device === 'cuda' ? 'cuda:0' : String(device);
}

type Placement =
  | { kind: 'per-rank' }
  | { kind: 'spread'; shown: string }
  | { kind: 'one-device'; shown: string; device: string };

/**
 * What `model.device_map` does under torchrun. Absent, the runner loads each
 * rank's copy onto its own GPU (`{"": LOCAL_RANK}`); it also rewrites an
 * explicit `{"": 0}` to that. Anything else is the same map on every rank.
 */
function placementOf(value: unknown): Placement {
  if (value === undefined || value === null) return { kind: 'per-rank' };
  if (typeof value === 'string' && SPREADING.has(value))
    return { kind: 'spread', shown: `\`model.device_map: ${value}\`` };
  if (!isRecord(value)) {
    const device = deviceName(value);
    return { kind: 'one-device', shown: `\`model.device_map: ${String(value)}\``, device };
  }
  const keys = Object.keys(value);
  if (keys.length === 1 && keys[0] === '' && value[''] === 0) return { kind: 'per-rank' };
  const devices = [...new Set(Object.values(value).map(deviceName))];
  if (devices.length === 1)
    return { kind: 'one-device', shown: '`model.device_map`', device: devices[0] };
  return { kind: 'spread', shown: `\`model.device_map\` (over ${devices.join(', ')})` };
}

export const qloraDeviceMapDistributed: Rule = {
  code: 'qlora-device-map-distributed',
  severity: 'error',
  // Native-only: Axolotl, LLaMA-Factory and TRL place each rank's copy on its own GPU themselves.
  dialects: ['native'],
  doc: {
    title: 'QLoRA with a device_map under a distributed launch',
    why: "Under torchrun every process loads its own copy of the model with the same `device_map`. `auto` (or `balanced`, `sequential`, a map over several GPUs) spreads each rank's copy over all the GPUs (naive model parallelism), which accelerate refuses at start (\"You can't train a model that has been loaded with `device_map='auto'` in any distributed mode\"); where it is bypassed the GPUs compute one after another. A single fixed device (`0`, `cuda:0`) puts every rank's 4-bit copy on that one GPU: the other ranks fail (\"You can't train a model that has been loaded in 8-bit or 4-bit precision on a different device than the one you're training on\") and all copies share one GPU's memory. Without `device_map` the runner loads each rank's copy onto its own GPU. One process over several GPUs with `device_map: auto` is naive pipeline parallelism, the documented way to fit a 4-bit model larger than one GPU; it is slow (one GPU busy at a time) but chosen on purpose (`launch.distributed.num_processes: 1`), so it is not reported.",
    fix: 'Remove `model.device_map` (quick fix): the runner places each rank on its own GPU. To spread one model over several GPUs instead, run one process (`launch.distributed.num_processes: 1`).',
    thresholds:
      '`method: qlora` with `model.device_map` other than absent or `{"": 0}` (which the runner maps to each rank\'s GPU), while `tunelab launch` starts more than one process: `launch.distributed.num_processes`, else Slurm `gpus_per_node` × `nodes`, else `hardware.num_gpus`, above 1.',
  },
  check(ctx) {
    if (ctx.plan.method !== 'qlora') return [];
    const placement = placementOf(ctx.value(['model', 'device_map']));
    const processes = launchedProcesses(ctx);
    if (placement.kind === 'per-rank' || processes <= 1) return [];
    const launch = `a distributed launch of ${processes} processes`;
    const message =
      placement.kind === 'spread'
        ? `${placement.shown} with QLoRA under ${launch}: every rank spreads its own copy of the 4-bit model over all the GPUs (naive model parallelism), so the run stops at start ("You can't train a model that has been loaded with \`device_map='auto'\` in any distributed mode") or the GPUs work one after another. Remove \`model.device_map\`: the runner loads each rank's copy onto its own GPU.`
        : `${placement.shown} puts every rank's 4-bit copy on ${placement.device} under ${launch}: the other ranks fail at start ("...loaded in 8-bit or 4-bit precision on a different device than the one you're training on") and all copies share one GPU's memory. Remove \`model.device_map\`: the runner loads each rank's copy onto its own GPU.`;
    return [
      {
        message,
        range: ctx.rangeAt(['model', 'device_map']),
        fixes: [
          {
            title: 'Remove `model.device_map`',
            edits: ctx.edit.remove(['model', 'device_map']),
            preferred: true,
          },
        ],
      },
    ];
  },
};

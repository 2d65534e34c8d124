// `tunelab export RUN` and `tunelab serve RUN…` (runner/EVENTS.md, export).
// export starts the runner's `export` on the training run's own target and
// streams it like `tunelab eval` (the log on stdout, Tunelab's messages on
// stderr); serve prints how to serve the runs (launch/src/serveRecipe.ts).

import { loadLaunchSpec, LaunchConfigError } from '../../launch/src/launchConfig';
import { pickSecrets } from '../../launch/src/launcher';
import { findWorkspace, RunStore, type RunRecord } from '../../launch/src/runRecord';
import { startRunnerCommand } from '../../launch/src/runnerCommand';
import { renderServeRecipe } from '../../launch/src/serveRecipe';
import { serveRecipeOfRuns, ServeRunsError } from '../../launch/src/serveRuns';
import { UnsafeValueError } from '../../launch/src/shell';
import { checkpointArgs } from '../../launch/src/evalRun';
import { settle, SSH_CONFIG_ENV, stream } from './launchCommands';
import { parseCommandLine, UsageError } from './options';
import { print, say } from './output';

export const EXPORT_SERVE_USAGE = `  export RUN [--merge] [--dtype bfloat16|float16|float32] [--checkpoint N] [--detach]
        export a training run's adapter on its own target, alone or merged into the base
        reloaded in 16 bits (QLoRA too), or a full fine-tune's model (or checkpoint) in
        --dtype; a merge is checked against base + adapter, a full model against its source
  serve RUN [RUN...] [--format text|json]
        print how to serve the runs: vllm with every adapter of one base, the merged
        model, a transformers/peft snippet; a full fine-tune's model (its newest export,
        else what training saved) on its own vllm, a transformers snippet (paths on the
        runs' targets)
`;

export const EXPORT_DTYPES = ['bfloat16', 'float16', 'float32'] as const;

/**
 * `--merge` and `--dtype D` taken out of argv; the rest goes to the shared
 * table (options.ts). Once `merge` and `dtype` are in that table this goes.
 */
export function splitExportFlags(argv: string[]): {
  merge: boolean;
  dtype?: string;
  rest: string[];
} {
  let merge = false;
  let dtype: string | undefined;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    if (arg === '--merge') merge = true;
    else if (arg === '--dtype' || arg.startsWith('--dtype=')) {
      const value = arg === '--dtype' ? argv[++i] : arg.slice('--dtype='.length);
      if (value === undefined || !(EXPORT_DTYPES as readonly string[]).includes(value))
        throw new UsageError(
          `--dtype must be ${EXPORT_DTYPES.join(', ')}, got ${value ?? 'nothing'}`,
        );
      dtype = value;
    } else rest.push(arg);
  }
  return { merge, dtype, rest };
}

/** The runner's `export` arguments after CONFIG. */
export function exportArgs(options: { merge: boolean; dtype?: string; checkpoint?: number }) {
  return [
    ...(options.merge ? ['--merge'] : []),
    ...(options.dtype ? ['--dtype', options.dtype] : []),
    ...checkpointArgs(options.checkpoint),
  ];
}

const EVENT_PREFIX = '@tunelab ';

interface ExportEvent {
  kind?: string;
  path?: string;
  check?: { passed?: boolean; max_abs_diff?: number; tolerance?: number; dtype?: string };
}

/** The `export` event of a streamed log line, else undefined. */
export function exportEventOf(text: string): ExportEvent | undefined {
  const at = text.indexOf(EVENT_PREFIX);
  if (at < 0 || !text.includes('"export"')) return undefined; // cheap: every line comes here
  try {
    const event = JSON.parse(text.slice(at + EVENT_PREFIX.length)) as ExportEvent & {
      event?: unknown;
    };
    return event.event === 'export' ? event : undefined;
  } catch {
    return undefined;
  }
}

export async function exportCommand(argv: string[], cwd: string = process.cwd()): Promise<number> {
  const { merge, dtype, rest } = splitExportFlags(argv);
  const { options, operands } = parseCommandLine('export', rest, ['checkpoint', 'detach'], {
    name: 'RUN',
    min: 1,
    max: 1,
  });
  const store = new RunStore(findWorkspace(cwd));
  const training = store.find(operands[0]);
  if (!training) throw new UsageError(`no run ${operands[0]} in ${store.dir}`);
  let record: RunRecord;
  try {
    const spec = loadLaunchSpec(training.config, training.target);
    const { values: secrets, missing } = pickSecrets(spec, process.env);
    if (missing.length)
      say(`secrets ${missing.join(', ')} not set in the environment: the job runs without`);
    record = await startRunnerCommand(
      training,
      { kind: 'export', command: 'export', args: exportArgs({ merge, dtype, ...options }) },
      {
        workspaceDir: store.workspaceDir,
        secrets,
        sshConfigFile: process.env[SSH_CONFIG_ENV],
        onStatus: say,
      },
      spec,
    );
  } catch (err) {
    say(`export failed: ${(err as Error).message}`);
    return err instanceof LaunchConfigError || err instanceof UnsafeValueError ? 2 : 1;
  }
  say(`export ${record.id} of run ${training.id} started on ${record.target}`);
  if (options.detach) {
    process.stdout.write(`${record.id}\n`);
    return 0;
  }
  let exported: ExportEvent | undefined;
  const { result } = await stream(store, record, true, true, (text) => {
    exported = exportEventOf(text) ?? exported;
  });
  const detached = settle(store, record, result);
  if (detached !== undefined) return detached;
  const check = exported?.check;
  if (check)
    say(
      `export check: max |Δlogit| ${check.max_abs_diff} within ${check.tolerance} (${check.dtype}): ${check.passed ? 'pass' : 'FAIL'}`,
    );
  if (result.state !== 'completed') return 1;
  if (!exported?.path) {
    say(`run ${record.id} ended without an export event`);
    return 1;
  }
  say(`${exported.kind ?? 'export'} of ${training.id} in ${exported.path} on ${record.target}`);
  return check && !check.passed ? 1 : 0;
}

export function serveCommand(argv: string[], cwd: string = process.cwd()): number {
  const { options, operands } = parseCommandLine('serve', argv, ['format'], {
    name: 'RUN',
    min: 1,
  });
  const store = new RunStore(findWorkspace(cwd));
  const picked = operands.map((operand) => {
    const found = store.find(operand);
    if (!found) throw new UsageError(`no run ${operand} in ${store.dir}`);
    return found;
  });
  try {
    const recipe = serveRecipeOfRuns(store, picked);
    print(
      options.format === 'json'
        ? JSON.stringify(recipe, null, 2)
        : renderServeRecipe(recipe).replace(/\n$/, ''),
    );
    return 0;
  } catch (err) {
    if (err instanceof ServeRunsError) throw new UsageError(err.message);
    say(`serve failed: ${(err as Error).message}`);
    return err instanceof LaunchConfigError || err instanceof UnsafeValueError ? 2 : 1;
  }
}

// `tunelab eval RUN` and `tunelab compare RUN RUN…` (docs/evaluation.md).
// eval starts the runner's `evaluate` on the training run's own target and
// streams it like `tunelab launch` (the log on stdout, Tunelab's messages on
// stderr); the `eval_result` line is kept with the new run's record as it
// passes. compare prints the comparison of the runs' kept results.

import { compareRuns, verdictLine, type CompareInput } from '../../launch/src/compare';
import { renderComparison } from '../../launch/src/compareRender';
import { CompareSourceError, resolveCompareInput } from '../../launch/src/compareSources';
import { EvalResultCapture } from '../../launch/src/evalResult';
import { startEvaluation } from '../../launch/src/evalRun';
import { LaunchConfigError, loadLaunchSpec } from '../../launch/src/launchConfig';
import { pickSecrets } from '../../launch/src/launcher';
import { findWorkspace, RunStore, type RunRecord } from '../../launch/src/runRecord';
import { UnsafeValueError } from '../../launch/src/shell';
import { settle, SSH_CONFIG_ENV, stream } from './launchCommands';
import { OUTPUT_FORMATS, parseCommandLine, UsageError } from './options';
import { print, say } from './output';

export const EVAL_USAGE = `  eval RUN [--checkpoint N] [--detach]
        evaluate a training run (RUN: an id, a unique prefix or "last") on its own target and
        stream it; the result is kept with the run for compare and the editor's Runs view
  compare RUN RUN... [--format text|json|markdown|csv]
        metrics with deltas against the first run, forgetting verdicts, config keys that differ,
        last losses and generations side by side (RUN: a run id, a unique prefix or an
        eval.json file); exit 1 when a forgetting verdict is fail
`;

export async function evalCommand(argv: string[]): Promise<number> {
  const { options, operands } = parseCommandLine('eval', argv, ['checkpoint', 'detach'], {
    name: 'RUN',
    min: 1,
    max: 1,
  });
  const store = new RunStore(findWorkspace(process.cwd()));
  const training = store.find(operands[0]);
  if (!training) throw new UsageError(`no run ${operands[0]} in ${store.dir}`);
  let record: RunRecord;
  try {
    const { values: secrets, missing } = pickSecrets(
      loadLaunchSpec(training.config, training.target),
      process.env,
    );
    if (missing.length)
      say(`secrets ${missing.join(', ')} not set in the environment: the job runs without`);
    record = await startEvaluation(training, {
      workspaceDir: store.workspaceDir,
      secrets,
      sshConfigFile: process.env[SSH_CONFIG_ENV],
      onStatus: say,
      checkpoint: options.checkpoint,
    });
  } catch (err) {
    say(`eval failed: ${(err as Error).message}`);
    return err instanceof LaunchConfigError || err instanceof UnsafeValueError ? 2 : 1;
  }
  say(`evaluation ${record.id} of run ${training.id} started on ${record.target}`);
  if (options.detach) {
    process.stdout.write(`${record.id}\n`);
    return 0;
  }
  const capture = new EvalResultCapture(store, record.id);
  const { result } = await stream(store, record, true, true, (text) => capture.line(text));
  const detached = settle(store, record, result);
  if (detached !== undefined) return detached;
  if (result.state !== 'completed') return 1;
  if (!capture.result) {
    say(`run ${record.id} ended without an eval_result event: nothing to compare`);
    return 1;
  }
  say(`evaluation of ${training.id}: ${verdictLine(capture.result)}`);
  return 0;
}

export async function compareCommand(argv: string[]): Promise<number> {
  const { options, operands } = parseCommandLine(
    'compare',
    argv,
    ['format'],
    { name: 'RUN', min: 2 },
    OUTPUT_FORMATS,
  );
  const store = new RunStore(findWorkspace(process.cwd()));
  const inputs: CompareInput[] = [];
  for (const run of operands) {
    try {
      inputs.push(
        await resolveCompareInput(store, run, process.cwd(), process.env[SSH_CONFIG_ENV]),
      );
    } catch (err) {
      if (!(err instanceof CompareSourceError)) throw err;
      say(err.message);
      return 2;
    }
  }
  const comparison = compareRuns(inputs);
  print(renderComparison(comparison, options.format).replace(/\n$/, ''));
  for (const note of comparison.notes) say(note);
  return comparison.forgetting.some((f) => f.verdict === 'fail') ? 1 : 0;
}

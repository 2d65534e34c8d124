// `tunelab launch | logs | stop` (spec/cli.md). The log goes to stdout exactly
// as the job wrote it (complete lines; on a terminal also tqdm's live
// redraws); Tunelab's own messages go to stderr prefixed `tunelab:`. The
// offset of the last line printed is kept in the run record, so `logs
// --follow` after a Ctrl-C or a dropped connection continues with the next
// line: none lost, none twice.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseYaml } from '../../engine/src/parse';
import type { FollowResult } from '../../launch/src/follow';
import { LaunchConfigError, loadLaunchSpec, keyRange } from '../../launch/src/launchConfig';
import { PaceWhileRunning } from '../../launch/src/hostPaces';
import { paceNoteAtEnd, PROBE_DIR_SUFFIX, PROBE_STEPS } from '../../launch/src/paceProbe';
import { adapterFor, launchRun, pickSecrets, refreshRun, stopRun } from '../../launch/src/launcher';
import { printRun, writeFullySync } from '../../launch/src/printRun';
import { ProgressModel } from '../../launch/src/progressModel';
import { findWorkspace, isFinal, RunStore, type RunRecord } from '../../launch/src/runRecord';
import { runFindings } from '../../launch/src/runDiagnostics';
import { UnsafeValueError } from '../../launch/src/shell';
import { parseCommandLine, UsageError } from './options';
import { say, sayRaw } from './output';
import { unreadableReason } from './readConfig';

export const LAUNCH_USAGE = `  launch FILE [--target local|ssh|slurm] [--detach] [--probe [--probe-steps N]]
        start the training FILE describes where its launch section says and stream its log;
        --detach prints the run id once started (Ctrl-C while streaming detaches too);
        --probe only times the target: ${PROBE_STEPS} training steps (or N), no evaluation, checkpoints
        or export, in OUTPUT_DIR${PROBE_DIR_SUFFIX}; the next estimates for that target take its pace
  logs RUN [--follow] [--from-start]
        print a run's log (RUN: an id, a unique prefix or "last"); --follow continues where
        the last stream stopped and follows to the run's end
  stop RUN [--force] [--no-wait]
        stop a run (SIGTERM: the runner saves a checkpoint; scancel on SLURM)
`;

/** The ssh config file the tests (and users) may point every command at. */
export const SSH_CONFIG_ENV = 'TUNELAB_SSH_CONFIG';
const RUN_FILE = { name: 'FILE', min: 1, max: 1 };
const ONE_RUN = { name: 'RUN', min: 1, max: 1 };

function store(): RunStore {
  return new RunStore(findWorkspace(process.cwd()));
}

function findRun(runStore: RunStore, id: string): RunRecord {
  const record = runStore.find(id);
  if (!record) throw new UsageError(`no run ${id} in ${runStore.dir}`);
  return record;
}

function describe(record: RunRecord): string {
  const where = record.ssh ? ` on ${record.ssh.host}` : '';
  const handle = record.jobId ? `job ${record.jobId}` : record.pid ? `pid ${record.pid}` : '';
  return `${record.target}${where}${handle ? ` (${handle})` : ''}`;
}

/** Streams a run to stdout, keeping the record's offset in step with what was printed. */
/**
 * Prints the run's log through launch/src/printRun.ts, which keeps the
 * position of the last line printed even across a kill -9: the next
 * `logs --follow` continues with the next line, and says so when a kill fell
 * between printing and recording.
 */
/**
 * Prints a run's log to stdout until it ends or the user detaches (SIGINT/SIGTERM);
 * `onLine` (eval, export) sees each line beside the progress model.
 */
export async function stream(
  runStore: RunStore,
  record: RunRecord,
  follow: boolean,
  fromStart: boolean,
  onLine?: (text: string) => void,
): Promise<{ result: FollowResult; model: ProgressModel }> {
  const model = new ProgressModel();
  const pace = new PaceWhileRunning(runStore, record.id);
  const tty = process.stdout.isTTY === true;
  const controller = new AbortController();
  const detach = () => controller.abort();
  process.once('SIGINT', detach);
  process.once('SIGTERM', detach);
  try {
    const adapter = adapterFor(record.target, process.env[SSH_CONFIG_ENV]);
    const result = await printRun(runStore, record, adapter, {
      follow,
      fromStart,
      live: tty,
      signal: controller.signal,
      write: (bytes) => writeFullySync(1, bytes),
      onLine: (text) => {
        model.applyLine(text);
        const note = pace.note(model.progress);
        if (note) {
          if (tty) process.stdout.write('\r\x1b[2K'); // over a live progress bar, redrawn next
          say(note);
        }
        onLine?.(text);
      },
      onMayRepeat: (lines) =>
        say(
          `the last stream of run ${record.id} was killed while printing: the first ${lines} line(s) below may repeat`,
        ),
      onReconnect: (attempt: number) => {
        if (tty) process.stdout.write('\r\x1b[2K');
        say(`connection to run ${record.id} lost; reconnecting (${attempt})`);
      },
    });
    return { result, model };
  } finally {
    process.removeListener('SIGINT', detach);
    process.removeListener('SIGTERM', detach);
  }
}

/**
 * The end of a stream, for every command that streams a run: 130 when the user
 * detached; else records a final state and says how the run ended (undefined).
 */
export function settle(
  runStore: RunStore,
  record: RunRecord,
  result: FollowResult,
): 130 | undefined {
  if (result.state === 'detached') {
    say(
      `detached from run ${record.id}; it goes on. Re-attach: tunelab logs ${record.id} --follow · stop: tunelab stop ${record.id}`,
    );
    return 130;
  }
  if (isFinal(result.state))
    runStore.update(record.id, {
      state: result.state,
      exitCode: result.exitCode,
      endedAt: record.endedAt ?? new Date().toISOString(),
    });
  const code = result.exitCode === undefined ? '' : ` (exit ${result.exitCode})`;
  say(`run ${record.id} ${result.state}${code}${result.message ? `: ${result.message}` : ''}`);
  return undefined;
}

function report(runStore: RunStore, record: RunRecord, result: FollowResult, model: ProgressModel) {
  const detached = settle(runStore, record, result);
  if (detached !== undefined) return detached;
  if (!isFinal(result.state)) return 0;
  const note = paceNoteAtEnd(runStore, runStore.load(record.id) ?? record, model.progress);
  if (note) say(note);
  if (result.state === 'completed') return 0;
  try {
    const parsed = parseYaml(fs.readFileSync(record.config, 'utf8'));
    const findings = runFindings(model.progress.failures, parsed, {
      target: record.target,
      host: record.ssh?.host,
      exitCode: result.exitCode,
    });
    const file = path.relative(process.cwd(), record.config) || record.config;
    for (const f of findings)
      sayRaw(
        `${file}:${f.range.start.line + 1}:${f.range.start.character + 1} ${f.severity} ${f.code} ${f.message}\n`,
      );
  } catch {
    // The config changed or went away: the log above says what happened.
  }
  return 1;
}

/** `FILE:LINE:COL error launch-config ` for the key at `keyPath`, like `tunelab lint` prints. */
function configErrorPrefix(file: string, keyPath: LaunchConfigError['path']): string {
  try {
    const range = keyRange(parseYaml(fs.readFileSync(file, 'utf8')), keyPath);
    return `${file}:${range.start.line + 1}:${range.start.character + 1} error launch-config `;
  } catch {
    return `${file}: `;
  }
}

export async function launchCommand(argv: string[]): Promise<number> {
  const { options, operands } = parseCommandLine(
    'launch',
    argv,
    ['target', 'detach', 'probe', 'probe-steps'],
    RUN_FILE,
  );
  if (options['probe-steps'] !== undefined && !options.probe)
    throw new UsageError('--probe-steps sets the steps of a --probe');
  const probeSteps = options.probe ? (options['probe-steps'] ?? PROBE_STEPS) : undefined;
  const file = operands[0];
  // Said here in the words lint uses; the launcher's own read names only the errno.
  const unreadable = unreadableReason(file);
  if (unreadable) {
    say(unreadable);
    return 2;
  }
  const runStore = store();
  let record: RunRecord;
  try {
    const spec = loadLaunchSpec(file, options.target);
    const { values: secrets, missing } = pickSecrets(spec, process.env);
    if (missing.length)
      say(
        `secret${missing.length > 1 ? 's' : ''} ${missing.join(', ')} not set in the environment: the job runs without`,
      );
    record = await launchRun(
      file,
      {
        workspaceDir: runStore.workspaceDir,
        secrets,
        sshConfigFile: process.env[SSH_CONFIG_ENV],
        onStatus: say,
        probeSteps,
      },
      spec,
    );
  } catch (err) {
    if (err instanceof LaunchConfigError) {
      sayRaw(`${configErrorPrefix(file, err.path)}${err.message}\n`);
      return 2;
    }
    if (err instanceof UnsafeValueError) {
      say(err.message);
      return 2;
    }
    say(`launch failed: ${(err as Error).message}`);
    return 1;
  }
  say(
    record.probe !== undefined
      ? `pace probe ${record.id} started on ${describe(record)}: ${record.probe} training steps, nothing kept`
      : `run ${record.id} started on ${describe(record)}`,
  );
  if (options.detach) {
    process.stdout.write(`${record.id}\n`);
    return 0;
  }
  const { result, model } = await stream(runStore, record, true, true);
  return report(runStore, record, result, model);
}

export async function logsCommand(argv: string[]): Promise<number> {
  const { options, operands } = parseCommandLine('logs', argv, ['follow', 'from-start'], ONE_RUN);
  const runStore = store();
  const record = findRun(runStore, operands[0]);
  if (!record.runDir) {
    say(`run ${record.id} never started${record.message ? `: ${record.message}` : ''}`);
    return 1;
  }
  if (!options.follow) {
    const { result } = await stream(runStore, record, false, true);
    return isFinal(result.state) && result.state !== 'completed' ? 1 : 0;
  }
  const { result, model } = await stream(runStore, record, true, options['from-start'] === true);
  return report(runStore, runStore.load(record.id) ?? record, result, model);
}

export async function stopCommand(argv: string[]): Promise<number> {
  const { options, operands } = parseCommandLine('stop', argv, ['force', 'no-wait'], ONE_RUN);
  const runStore = store();
  const sshConfigFile = process.env[SSH_CONFIG_ENV];
  let record = await refreshRun(runStore, findRun(runStore, operands[0]), sshConfigFile);
  if (isFinal(record.state)) {
    say(`run ${record.id} already ${record.state}`);
    return 0;
  }
  record = await stopRun(runStore, record, { force: options.force, sshConfigFile });
  say(`stopping run ${record.id} on ${describe(record)}`);
  if (options['no-wait']) return 0;
  // The runner saves a checkpoint before it exits: wait for that, within reason.
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    record = await refreshRun(runStore, record, sshConfigFile);
    if (isFinal(record.state)) {
      const code = record.exitCode === undefined ? '' : ` (exit ${record.exitCode})`;
      say(`run ${record.id} ${record.state}${code}`);
      return 0;
    }
  }
  say(`run ${record.id} has not ended yet; \`tunelab stop ${record.id} --force\` kills it`);
  return 1;
}

const SUBCOMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  launch: launchCommand,
  logs: logsCommand,
  stop: stopCommand,
};

export function isLaunchSubcommand(name: string | undefined): boolean {
  return name !== undefined && name in SUBCOMMANDS;
}

/** Runs `launch`, `logs` or `stop`; usage errors print the usage and give exit 2. */
export async function runLaunchSubcommand(name: string, argv: string[]): Promise<number> {
  try {
    return await SUBCOMMANDS[name](argv);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (err instanceof UsageError || code?.startsWith('ERR_PARSE_ARGS')) {
      say((err as Error).message);
      sayRaw(LAUNCH_USAGE);
      return 2;
    }
    say(`${name} failed: ${(err as Error).message}`);
    return 1;
  }
}

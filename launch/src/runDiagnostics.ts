// Turns how a run failed (an OOM, a NaN loss, a missing package...) into a
// finding on the config key to change, with the change as a quick fix where
// one is clear. The editor publishes these in the 'tunelab-run' collection;
// `tunelab launch` prints them like `tunelab lint` does.

import { chainEdits, setKey, yamlScalar } from '../../engine/src/edits';
import { exactSourceAt, valueAt, type ParsedYaml } from '../../engine/src/parse';
import type { Finding, Path, QuickFix } from '../../engine/src/types';
import { keyRange, type TargetKind } from './launchConfig';
import type { RunFailure } from './logParser';

export const RUN_DIAGNOSTIC_SOURCE = 'tunelab-run';

export interface RunContext {
  target: TargetKind;
  host?: string;
  exitCode?: number;
}

/** The first of `paths` present in the config, else the last (its nearest ancestor is shown). */
function firstPresent(parsed: ParsedYaml, paths: Path[]): Path {
  return paths.find((p) => exactSourceAt(parsed.root, p)) ?? paths[paths.length - 1];
}

function where(context: RunContext): string {
  return context.host
    ? `on ${context.host}`
    : context.target === 'local'
      ? 'here'
      : `on ${context.target}`;
}

function finding(
  parsed: ParsedYaml,
  path: Path,
  code: string,
  message: string,
  fixes?: QuickFix[],
): Finding {
  return { code, severity: 'error', message, range: keyRange(parsed, path), fixes };
}

function numberAt(parsed: ParsedYaml, path: Path): number | undefined {
  const value = valueAt(parsed.value, path);
  return typeof value === 'number' ? value : undefined;
}

function oomFinding(parsed: ParsedYaml, failure: RunFailure): Finding {
  const batch = numberAt(parsed, ['training', 'per_device_train_batch_size']) ?? 8;
  const accumulation = numberAt(parsed, ['training', 'gradient_accumulation_steps']) ?? 1;
  const fixes: QuickFix[] = [];
  if (batch > 1) {
    const half = Math.floor(batch / 2);
    fixes.push({
      title: `Halve per_device_train_batch_size to ${half} and double gradient_accumulation_steps to ${accumulation * 2} (same effective batch)`,
      preferred: true,
      edits: chainEdits(parsed.text, [
        (p) => setKey(p, ['training'], 'per_device_train_batch_size', String(half)),
        (p) => setKey(p, ['training'], 'gradient_accumulation_steps', String(accumulation * 2)),
      ]),
    });
  }
  if (valueAt(parsed.value, ['training', 'gradient_checkpointing']) !== true)
    fixes.push({
      title: 'Enable gradient_checkpointing',
      edits: setKey(parsed, ['training'], 'gradient_checkpointing', 'true'),
    });
  return finding(
    parsed,
    firstPresent(parsed, [['training', 'per_device_train_batch_size'], ['training'], ['method']]),
    'run-oom',
    `Training ran out of GPU memory (${failure.message.slice(0, 200)}). Lower per_device_train_batch_size ` +
      `(raise gradient_accumulation_steps to keep the effective batch), enable gradient_checkpointing, ` +
      `lower data.max_length, or use method: qlora. \`tunelab estimate\` shows what fits.`,
    fixes,
  );
}

function nanFinding(parsed: ParsedYaml, failure: RunFailure): Finding {
  const fp16 = valueAt(parsed.value, ['training', 'fp16']) === true;
  const rate = numberAt(parsed, ['training', 'learning_rate']);
  const fixes: QuickFix[] = [];
  if (rate !== undefined && rate > 0) {
    // `1e-05` reads as a string in YAML 1.1 (PyYAML): keep the mantissa's dot.
    const lower = yamlScalar(Number((rate / 10).toPrecision(3))).replace(/^(-?\d+)e/, '$1.0e');
    fixes.push({
      title: `Lower learning_rate to ${lower}`,
      preferred: !fp16,
      edits: setKey(parsed, ['training'], 'learning_rate', lower),
    });
  }
  if (fp16)
    fixes.push({
      title: 'Train in bf16 instead of fp16',
      preferred: true,
      edits: chainEdits(parsed.text, [
        (p) => setKey(p, ['training'], 'fp16', 'false'),
        (p) => setKey(p, ['training'], 'bf16', 'true'),
      ]),
    });
  const path = fp16
    ? (['training', 'fp16'] as Path)
    : firstPresent(parsed, [['training', 'learning_rate'], ['training'], ['method']]);
  return finding(
    parsed,
    path,
    'run-nan-loss',
    `The loss became NaN or infinite (${failure.message}). ` +
      (fp16
        ? 'fp16 overflows easily: train in bf16 (Ampere or newer), or lower the learning rate.'
        : 'Lower the learning rate (and keep max_grad_norm at 1.0) and check the data for empty or broken rows.'),
    fixes,
  );
}

function missingPackageFinding(
  parsed: ParsedYaml,
  failure: RunFailure,
  context: RunContext,
): Finding {
  const packages = failure.packages?.length ? failure.packages : ['(unknown)'];
  const python = valueAt(parsed.value, ['launch', 'python']);
  const install = failure.hint ?? `pip install ${packages.join(' ')}`;
  const path = firstPresent(parsed, [
    ['launch', 'python'],
    ['launch', 'target'],
    ['launch'],
    ['method'],
  ]);
  if (packages.includes('tunelab_runner'))
    return finding(
      parsed,
      path,
      'run-missing-package',
      `The runner package did not reach the job ${where(context)}: relaunch, or install it there with \`pip install tunelab-runner\`.`,
    );
  return finding(
    parsed,
    path,
    'run-missing-package',
    `${packages.join(', ')} ${packages.length > 1 ? 'are' : 'is'} not installed for ` +
      `${typeof python === 'string' ? python : 'python3'} ${where(context)}. ` +
      `Run \`${install}\` in that environment, or set launch.python to an interpreter that has ${packages.length > 1 ? 'them' : 'it'}.`,
  );
}

const CONFIG_SECTIONS = ['model', 'lora', 'quantization', 'training', 'data', 'export', 'launch'];

function configFinding(parsed: ParsedYaml, failure: RunFailure): Finding {
  const section = /^`?([a-z_]+)(?:\.[a-z_]+)?`?[:\s]/.exec(failure.message)?.[1];
  const path: Path =
    section && CONFIG_SECTIONS.includes(section)
      ? firstPresent(parsed, [[section], ['method']])
      : ['method'];
  const hint = failure.hint ? ` ${failure.hint}.` : '';
  return finding(
    parsed,
    path,
    'run-config',
    `The runner rejected the config: ${failure.message}.${hint}`,
  );
}

/** Findings for a finished run's failures (and its exit code when no failure was read). */
export function runFindings(
  failures: readonly RunFailure[],
  parsed: ParsedYaml,
  context: RunContext,
): Finding[] {
  const findings: Finding[] = [];
  // The runner's own account first: it says more than a line read from the log.
  const ordered = [...failures].sort(
    (a, b) => Number(b.source === 'runner') - Number(a.source === 'runner'),
  );
  for (const failure of ordered) {
    switch (failure.type) {
      case 'oom':
        findings.push(oomFinding(parsed, failure));
        break;
      case 'nan_loss':
        findings.push(nanFinding(parsed, failure));
        break;
      case 'missing_package':
        findings.push(missingPackageFinding(parsed, failure, context));
        break;
      case 'config':
      case 'no_checkpoint':
        findings.push(configFinding(parsed, failure));
        break;
      case 'data':
        findings.push(
          finding(
            parsed,
            firstPresent(parsed, [['data', 'train_file'], ['data'], ['method']]),
            'run-data',
            `The data could not be used: ${failure.message}.${failure.hint ? ` ${failure.hint}.` : ''}`,
          ),
        );
        break;
      default:
        findings.push(
          finding(parsed, ['method'], 'run-failed', `Training failed: ${failure.message}`),
        );
    }
  }
  if (findings.length === 0 && context.exitCode === 127)
    findings.push(
      finding(
        parsed,
        firstPresent(parsed, [['launch', 'python'], ['launch'], ['method']]),
        'run-python-not-found',
        `The interpreter ${String(valueAt(parsed.value, ['launch', 'python']) ?? 'python3')} was not found ${where(context)}: set launch.python to its path there (e.g. .venv/bin/python).`,
      ),
    );
  // One finding per key and code: a failure read from the runner and from the log is one problem.
  const seen = new Set<string>();
  return findings.filter((f) => {
    const key = `${f.code}@${f.range.start.line}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

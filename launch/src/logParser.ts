// Reads progress out of a training log: the runner's own events (`@tunelab
// {json}` lines, runner/EVENTS.md) and plain Hugging Face Trainer output, so
// logs of other tools (axolotl, TRL) stream too: the metrics dict the Trainer
// prints (`{'loss': '1.23', ...}` in transformers 5, bare floats before), tqdm
// bars (`12/500 [00:10<06:40, 1.22it/s]`) and the usual fatal errors.
// Stateless and cheap: every line goes through here, so plain substring tests
// guard each regular expression.

export interface RunnerEvent {
  event: string;
  [field: string]: unknown;
}

/** Values the Trainer logs; NaN and ±Infinity are kept (a NaN loss is a failure). */
export type TrainerMetrics = Record<string, number>;

export interface ProgressBar {
  step: number;
  total: number;
  elapsedSeconds?: number;
  remainingSeconds?: number;
  /** Steps per second. */
  rate?: number;
  /** The bar has a label (`Map:`, `Loading weights:`): not the Trainer's training bar. */
  labelled?: boolean;
}

export type FailureType =
  | 'oom'
  | 'nan_loss'
  | 'missing_package'
  | 'python_not_found'
  | 'config'
  | 'data'
  | 'no_checkpoint'
  | 'internal';

export interface RunFailure {
  type: FailureType | string;
  message: string;
  hint?: string;
  packages?: string[];
  /** Where it was read: a runner `error` event or a plain log line. */
  source: 'runner' | 'log' | 'exit';
}

export type LogSignal =
  | { kind: 'event'; event: RunnerEvent }
  | { kind: 'metrics'; metrics: TrainerMetrics }
  | { kind: 'progress'; bar: ProgressBar }
  | { kind: 'failure'; failure: RunFailure };

export const EVENT_PREFIX = '@tunelab ';
const EVENT_MARK = `${EVENT_PREFIX}{`;

/**
 * Signals in one complete log line (which may hold several `\r` redraws).
 * tqdm writes its bar without a newline, so a runner event printed right
 * after it lands at the end of the bar's line: events are found anywhere.
 */
export function parseLogLine(line: string): LogSignal[] {
  const at = line.indexOf(EVENT_MARK);
  if (at !== -1 || line.startsWith('{"event"')) {
    const event = parseEvent(at === -1 ? line : line.slice(at));
    if (event) {
      const before = at > 0 ? line.slice(0, at) : '';
      const signals = before.trim() ? plainSignals(before) : [];
      signals.push({ kind: 'event', event });
      return signals;
    }
  }
  return plainSignals(line);
}

function plainSignals(line: string): LogSignal[] {
  const signals: LogSignal[] = [];
  // The bar is redrawn before the metrics dict on the same line: read the last one.
  if (line.includes('it/s]') || line.includes('s/it]')) {
    const bar = lastProgressBar(line);
    if (bar) signals.push({ kind: 'progress', bar });
  }
  const dictStart = line.indexOf("{'");
  if (dictStart !== -1) {
    const metrics = parseMetricsDict(line.slice(dictStart));
    if (metrics) signals.push({ kind: 'metrics', metrics });
  }
  const failure = plainFailure(line);
  if (failure) signals.push({ kind: 'failure', failure });
  return signals;
}

/** The progress bar in a redraw segment of an unfinished line, if any. */
export function parseRedraw(segment: string): ProgressBar | undefined {
  if (!segment.includes('it/s]') && !segment.includes('s/it]')) return undefined;
  return lastProgressBar(segment);
}

export function parseEvent(line: string): RunnerEvent | undefined {
  const start = line.indexOf('{');
  if (start === -1) return undefined;
  try {
    const value: unknown = JSON.parse(line.slice(start));
    if (value && typeof value === 'object' && typeof (value as RunnerEvent).event === 'string')
      return value as RunnerEvent;
  } catch {
    // A line that merely starts like an event is plain output.
  }
  return undefined;
}

// `12/500 [00:10<06:40, 1.22it/s]`, `0/20 [00:00<?, ?it/s]`, `3/9 [01:02:03<1:00, 2.5s/it]`
const BAR =
  /(\d+)\/(\d+) \[(\d+(?::\d+){1,2})<(\?|\d+(?::\d+){1,2})(?:,\s*(\?|[\d.]+)(it\/s|s\/it))?/g;

function lastProgressBar(text: string): ProgressBar | undefined {
  let last: RegExpExecArray | undefined;
  BAR.lastIndex = 0;
  for (let match = BAR.exec(text); match; match = BAR.exec(text)) last = match;
  if (!last) return undefined;
  const [, step, total, elapsed, remaining, rate, unit] = last;
  const bar: ProgressBar = { step: Number(step), total: Number(total) };
  const segmentStart = text.lastIndexOf('\r', last.index) + 1;
  if (/[A-Za-z]/.test(text.slice(segmentStart, last.index))) bar.labelled = true;
  bar.elapsedSeconds = clockSeconds(elapsed);
  if (remaining !== '?') bar.remainingSeconds = clockSeconds(remaining);
  if (rate !== undefined && rate !== '?') {
    const value = Number(rate);
    bar.rate = unit === 's/it' ? (value > 0 ? 1 / value : undefined) : value;
  }
  return bar;
}

function clockSeconds(text: string): number {
  return text.split(':').reduce((total, part) => total * 60 + Number(part), 0);
}

// One `'key': value` pair of a Python dict repr: quoted strings or bare numbers.
const PAIR = /'([A-Za-z_][\w./-]*)':\s*(?:'([^']*)'|"([^"]*)"|([-+\w.]+))/g;

/** The numeric entries of a printed Trainer metrics dict, or undefined. */
export function parseMetricsDict(text: string): TrainerMetrics | undefined {
  const close = text.indexOf('}');
  const body = close === -1 ? text : text.slice(0, close);
  const metrics: TrainerMetrics = {};
  let found = false;
  PAIR.lastIndex = 0;
  for (let match = PAIR.exec(body); match; match = PAIR.exec(body)) {
    const value = pythonNumber(match[2] ?? match[3] ?? match[4]);
    if (value !== undefined) {
      metrics[match[1]] = value;
      found = true;
    }
  }
  return found ? metrics : undefined;
}

function pythonNumber(text: string): number | undefined {
  const lower = text.toLowerCase();
  if (lower === 'nan') return NaN;
  if (lower === 'inf' || lower === '+inf' || lower === 'infinity') return Infinity;
  if (lower === '-inf' || lower === '-infinity') return -Infinity;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(text)) return undefined;
  return Number(text);
}

// Python module names whose pip package has another name.
const PIP_NAMES: Record<string, string> = {
  yaml: 'PyYAML',
  sklearn: 'scikit-learn',
  flash_attn: 'flash-attn',
  PIL: 'pillow',
};

/** Fatal errors of plain (non-runner) training scripts. */
function plainFailure(line: string): RunFailure | undefined {
  if (line.includes('out of memory') || line.includes('OutOfMemoryError')) {
    if (
      /CUDA out of memory|OutOfMemoryError|HIP out of memory|MPS backend out of memory/.test(line)
    )
      return { type: 'oom', message: line.trim().slice(0, 500), source: 'log' };
  }
  if (line.includes('No module named')) {
    const match = /ModuleNotFoundError: No module named '([\w.]+)'/.exec(line);
    if (match) {
      const top = match[1].split('.')[0];
      const pkg = PIP_NAMES[top] ?? top;
      return {
        type: 'missing_package',
        message: `${top} is not installed`,
        hint: `pip install ${pkg}`,
        packages: [pkg],
        source: 'log',
      };
    }
  }
  return undefined;
}

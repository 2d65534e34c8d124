// What the editor shows about a running training: the state behind the status
// bar (step/total, loss, lr, tokens/s, ETA), the chart's points and the
// failures. Fed line by line from the log; the UI reads it through a throttle
// so a fast log cannot flood VS Code with updates. No VS Code imports: the
// benchmark drives the same path.

import {
  parseLogLine,
  parseRedraw,
  type LogSignal,
  type ProgressBar,
  type RunFailure,
  type RunnerEvent,
} from './logParser';

export interface ChartPoint {
  step: number;
  loss?: number;
  learningRate?: number;
  gradNorm?: number;
  evalLoss?: number;
}

export interface RunEnd {
  status: string;
  exitCode?: number;
}

export interface RunProgress {
  stage?: string;
  step?: number;
  totalSteps?: number;
  epoch?: number;
  loss?: number;
  learningRate?: number;
  gradNorm?: number;
  tokensPerSecond?: number;
  stepsPerSecond?: number;
  etaSeconds?: number;
  elapsedSeconds?: number;
  lastCheckpoint?: string;
  /** The runner's steady step, seconds: of the steps so far (`step` events), then of all (a completed `end`). */
  steadyStepSeconds?: number;
  /** How many step intervals that steady step is the median of. */
  steadyStepIntervals?: number;
  end?: RunEnd;
  failures: RunFailure[];
  warnings: string[];
  lines: number;
}

function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

export class ProgressModel {
  readonly progress: RunProgress = { failures: [], warnings: [], lines: 0 };
  readonly points: ChartPoint[] = [];
  /** Bumped on every change: the UI redraws only when it moved. */
  version = 0;
  private readonly pointIndex = new Map<number, number>();
  // Once the runner has started training (its `start` or `step` events), the
  // Trainer's printed dicts (the same numbers) are not charted twice.
  private runnerSteps = false;

  applyLine(line: string): void {
    this.progress.lines++;
    for (const signal of parseLogLine(line)) this.apply(signal);
  }

  applyRedraw(segment: string): void {
    const bar = parseRedraw(segment);
    if (bar) this.apply({ kind: 'progress', bar });
  }

  apply(signal: LogSignal): void {
    switch (signal.kind) {
      case 'event':
        this.applyEvent(signal.event);
        break;
      case 'progress':
        this.applyBar(signal.bar);
        break;
      case 'metrics':
        this.applyMetrics(signal.metrics);
        break;
      case 'failure':
        this.addFailure(signal.failure);
        break;
    }
    this.version++;
  }

  addFailure(failure: RunFailure): void {
    const same = this.progress.failures.some(
      (f) => f.type === failure.type && f.message === failure.message,
    );
    if (!same) this.progress.failures.push(failure);
    this.version++;
  }

  private applyBar(bar: ProgressBar): void {
    const p = this.progress;
    // Other bars pass by too: labelled ones (`Map:`, `Loading weights:`,
    // `Writing model shards:`) never count; evaluation bars are shorter than
    // the training bar, and once the runner announced the total, only that counts.
    if (bar.labelled) return;
    if (p.totalSteps !== undefined) {
      if (bar.total < p.totalSteps) return;
      if (this.runnerSteps && bar.total !== p.totalSteps) return;
    }
    p.step = bar.step;
    p.totalSteps = bar.total;
    if (bar.rate !== undefined) p.stepsPerSecond = bar.rate;
    if (bar.remainingSeconds !== undefined) p.etaSeconds = bar.remainingSeconds;
    if (bar.elapsedSeconds !== undefined) p.elapsedSeconds = bar.elapsedSeconds;
  }

  private applyMetrics(metrics: Record<string, number>): void {
    const p = this.progress;
    // The runner's step events carry the same numbers (and the exact step): they rule.
    if (this.runnerSteps) return;
    if (metrics.epoch !== undefined && Number.isFinite(metrics.epoch)) p.epoch = metrics.epoch;
    const step = p.step ?? 0;
    if ('loss' in metrics) {
      const loss = metrics.loss;
      if (!Number.isFinite(loss)) {
        this.addFailure({
          type: 'nan_loss',
          message: `loss became ${loss} by step ${step}`,
          source: 'log',
        });
      } else p.loss = loss;
      if (num(metrics.learning_rate) !== undefined) p.learningRate = metrics.learning_rate;
      if (num(metrics.grad_norm) !== undefined) p.gradNorm = metrics.grad_norm;
      this.addPoint({
        step,
        loss: num(loss),
        learningRate: num(metrics.learning_rate),
        gradNorm: num(metrics.grad_norm),
      });
    } else if ('eval_loss' in metrics) {
      this.addPoint({ step, evalLoss: num(metrics.eval_loss) });
    }
  }

  private applyEvent(event: RunnerEvent): void {
    const p = this.progress;
    switch (event.event) {
      case 'status':
        if (typeof event.stage === 'string') p.stage = event.stage;
        break;
      case 'start':
        // From here on the runner reports every Trainer log as a step event.
        this.runnerSteps = true;
        p.stage = 'training';
        p.totalSteps = num(event.estimated_steps) ?? p.totalSteps;
        p.step = num(event.global_step) ?? p.step;
        break;
      case 'step': {
        this.runnerSteps = true;
        p.step = num(event.step) ?? p.step;
        p.totalSteps = num(event.max_steps) ?? p.totalSteps;
        p.epoch = num(event.epoch) ?? p.epoch;
        p.loss = num(event.loss) ?? p.loss;
        p.learningRate = num(event.learning_rate) ?? p.learningRate;
        p.gradNorm = num(event.grad_norm) ?? p.gradNorm;
        p.tokensPerSecond = num(event.tokens_per_second) ?? p.tokensPerSecond;
        p.etaSeconds = num(event.eta_seconds) ?? p.etaSeconds;
        p.elapsedSeconds = num(event.elapsed_seconds) ?? p.elapsedSeconds;
        this.applySteadyStep(event);
        // JSON has no NaN: the runner writes a non-finite loss as null.
        if (event.loss === null) {
          this.addFailure({
            type: 'nan_loss',
            message: `loss became NaN/inf at step ${p.step ?? '?'}`,
            source: 'runner',
          });
        }
        this.addPoint({
          step: p.step ?? 0,
          loss: num(event.loss),
          learningRate: num(event.learning_rate),
          gradNorm: num(event.grad_norm),
        });
        break;
      }
      case 'eval': {
        const metrics = (event.metrics ?? {}) as Record<string, unknown>;
        this.addPoint({ step: num(event.step) ?? p.step ?? 0, evalLoss: num(metrics.eval_loss) });
        break;
      }
      case 'checkpoint':
        if (typeof event.path === 'string') p.lastCheckpoint = event.path;
        break;
      case 'warning':
        if (typeof event.message === 'string') p.warnings.push(event.message);
        break;
      case 'error':
        // The runner's own account replaces what was inferred from the log for the same problem.
        p.failures = p.failures.filter((f) => f.type !== String(event.type ?? 'internal'));
        this.addFailure({
          type: String(event.type ?? 'internal'),
          message: String(event.message ?? 'the runner failed'),
          hint: typeof event.hint === 'string' ? event.hint : undefined,
          packages: Array.isArray(event.packages) ? event.packages.map(String) : undefined,
          source: 'runner',
        });
        break;
      case 'end':
        p.end = { status: String(event.status ?? 'unknown'), exitCode: num(event.exit_code) };
        // an end without metrics (stopped, failed) keeps the steps' figure so far
        this.applySteadyStep((event.metrics ?? {}) as Record<string, unknown>);
        p.stage = p.end.status;
        break;
    }
  }

  private applySteadyStep(fields: Record<string, unknown>): void {
    const seconds = num(fields.steady_step_seconds);
    if (seconds === undefined) return;
    this.progress.steadyStepSeconds = seconds;
    this.progress.steadyStepIntervals = num(fields.steady_step_intervals);
  }

  private addPoint(point: ChartPoint): void {
    const existing = this.pointIndex.get(point.step);
    if (existing !== undefined) {
      const merged = this.points[existing];
      for (const [key, value] of Object.entries(point))
        if (value !== undefined) (merged as unknown as Record<string, number>)[key] = value;
      return;
    }
    this.pointIndex.set(point.step, this.points.length);
    this.points.push(point);
  }
}

/**
 * Calls `flush` at most once per `intervalMs`: at once when the last flush is
 * older than that, otherwise once at the end of the interval (so the newest
 * state is always shown, at most `intervalMs` late).
 */
export class UpdateThrottle {
  private lastFlush = -Infinity;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly intervalMs: number,
    private readonly flush: () => void,
    private readonly now: () => number = () => performance.now(),
  ) {}

  notify(): void {
    if (this.timer !== undefined) return;
    const wait = this.lastFlush + this.intervalMs - this.now();
    if (wait <= 0) this.run();
    else this.timer = setTimeout(() => this.run(), wait);
  }

  /** Shows the newest state now (at the end of a run). */
  flushNow(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.run();
  }

  dispose(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private run(): void {
    this.timer = undefined;
    this.lastFlush = this.now();
    this.flush();
  }
}

export function formatDuration(seconds: number): string {
  const total = Math.max(0, Math.round(seconds));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

function formatNumber(value: number): string {
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs < 1e-2 || abs >= 1e5) return value.toExponential(1);
  return abs >= 100 ? value.toFixed(0) : value.toPrecision(4).replace(/\.?0+$/, '');
}

function formatRate(tokensPerSecond: number): string {
  return tokensPerSecond >= 1000
    ? `${(tokensPerSecond / 1000).toFixed(1)}k tok/s`
    : `${tokensPerSecond.toFixed(0)} tok/s`;
}

/** The status bar's text: `step 120/500 · loss 1.234 · lr 2.0e-4 · 3.1k tok/s · ETA 6:40`. */
export function formatStatus(progress: RunProgress): string {
  const parts: string[] = [];
  if (progress.step !== undefined)
    parts.push(
      progress.totalSteps
        ? `step ${progress.step}/${progress.totalSteps}`
        : `step ${progress.step}`,
    );
  else if (progress.stage) parts.push(progress.stage.replace(/_/g, ' '));
  if (progress.loss !== undefined) parts.push(`loss ${formatNumber(progress.loss)}`);
  if (progress.learningRate !== undefined) parts.push(`lr ${formatNumber(progress.learningRate)}`);
  if (progress.tokensPerSecond !== undefined) parts.push(formatRate(progress.tokensPerSecond));
  else if (progress.stepsPerSecond !== undefined)
    parts.push(`${formatNumber(progress.stepsPerSecond)} it/s`);
  if (progress.etaSeconds !== undefined && !progress.end)
    parts.push(`ETA ${formatDuration(progress.etaSeconds)}`);
  return parts.join(' · ');
}

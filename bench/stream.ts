// Streaming benchmark: a 200,000-line training log (the real Trainer log with
// its tqdm redraws, repeated, plus runner events) through the line splitter,
// the parser and the progress model, then through the editor's update path
// (the throttled status model, minus VS Code) while a writer appends to the
// log. Prints lines/s parsed and the latency from a line being written to the
// display update that shows it. Figures only, no assertions.
//
//   node --import tsx bench/stream.ts [lines]

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LogLineSplitter } from '../launch/src/logLines';
import { formatStatus, ProgressModel, UpdateThrottle } from '../launch/src/progressModel';
import { followLocalFile } from '../launch/src/target';

const TOTAL_LINES = Number(process.argv[2] ?? 200_000);
const SAMPLE = path.resolve(__dirname, '..', '..', 'shared', 'data', 'trainer-log-sample.txt');
const UI_INTERVAL_MS = 100; // at most 10 updates a second, as the editor does

function buildLog(lines: number): Buffer {
  const sample = fs.readFileSync(SAMPLE, 'utf8').split('\n');
  const out: string[] = [];
  let step = 0;
  while (out.length < lines) {
    for (const line of sample) {
      if (out.length >= lines) break;
      out.push(line);
      if (line.startsWith('\r') && line.includes("{'loss'")) {
        step++;
        out.push(
          `@tunelab {"event":"step","time":0,"v":1,"step":${step},"max_steps":100000,"loss":${(2 + Math.sin(step / 50)).toFixed(4)},"learning_rate":0.0002,"tokens_per_second":3100.5,"eta_seconds":${100000 - step}}`,
        );
      }
    }
  }
  return Buffer.from(out.slice(0, lines).join('\n') + '\n');
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function parseThroughput(log: Buffer): void {
  const rounds = 5;
  const rates: number[] = [];
  let model = new ProgressModel();
  for (let round = 0; round < rounds; round++) {
    model = new ProgressModel();
    const splitter = new LogLineSplitter(0, {
      line: (text) => model.applyLine(text),
      redraw: (segment) => model.applyRedraw(segment),
    });
    const start = performance.now();
    for (let i = 0; i < log.length; i += 64 * 1024) splitter.push(log.subarray(i, i + 64 * 1024));
    const seconds = (performance.now() - start) / 1000;
    rates.push(model.progress.lines / seconds);
  }
  rates.sort((a, b) => a - b);
  const median = rates[Math.floor(rates.length / 2)];
  console.log(
    `parse: ${model.progress.lines.toLocaleString()} lines (${(log.length / 2 ** 20).toFixed(1)} MiB) → ` +
      `${Math.round(median).toLocaleString()} lines/s median of ${rounds} (best ${Math.round(rates[rates.length - 1]).toLocaleString()}), ` +
      `${model.points.length.toLocaleString()} chart points, status "${formatStatus(model.progress)}"`,
  );
}

/**
 * A writer appends `linesPerTick` lines every `tickMs`; a follower reads the
 * file as the local target does; the throttle shows the status. Each line's
 * latency is the time from its write to the first display update after it
 * was parsed.
 */
async function endToEnd(log: Buffer, label: string, linesPerTick: number, tickMs: number) {
  const lines = log.toString('utf8').split('\n').slice(0, -1);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tunelab-bench-'));
  const file = path.join(dir, 'log');
  fs.writeFileSync(file, '');
  const writtenAt = new Float64Array(lines.length);
  const latencies: number[] = [];
  let parsed = 0;
  let shown = 0;
  let updates = 0;
  let writing = true;

  const model = new ProgressModel();
  const throttle = new UpdateThrottle(UI_INTERVAL_MS, () => {
    formatStatus(model.progress);
    updates++;
    const now = performance.now();
    for (; shown < parsed; shown++) latencies.push(now - writtenAt[shown]);
  });
  const splitter = new LogLineSplitter(0, {
    line: (text) => {
      model.applyLine(text);
      parsed++;
      throttle.notify();
    },
    redraw: (segment) => model.applyRedraw(segment),
  });

  const reader = followLocalFile(
    file,
    0,
    (chunk) => splitter.push(chunk),
    async () => writing,
    { pollMs: 20 },
  );
  const started = performance.now();
  const fd = fs.openSync(file, 'a');
  for (let i = 0; i < lines.length; i += linesPerTick) {
    const batch = lines.slice(i, i + linesPerTick);
    const now = performance.now();
    for (let k = 0; k < batch.length; k++) writtenAt[i + k] = now;
    fs.writeSync(fd, batch.join('\n') + '\n');
    await new Promise((resolve) => setTimeout(resolve, tickMs));
  }
  fs.closeSync(fd);
  writing = false;
  await reader.done;
  throttle.flushNow();
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  console.log(
    `${label}: ${parsed.toLocaleString()} lines in ${seconds.toFixed(1)} s (${Math.round(parsed / seconds).toLocaleString()} lines/s), ` +
      `${updates} display updates (${(updates / seconds).toFixed(1)}/s); write→display latency ` +
      `p50 ${percentile(latencies, 50).toFixed(0)} ms, p95 ${percentile(latencies, 95).toFixed(0)} ms, max ${latencies[latencies.length - 1].toFixed(0)} ms`,
  );
  fs.rmSync(dir, { recursive: true, force: true });
}

async function main(): Promise<void> {
  const log = buildLog(TOTAL_LINES);
  console.log(`stream bench: ${os.cpus().length} CPUs, node ${process.version}`);
  parseThroughput(log);
  // A fast writer: 2,000-line bursts every 5 ms (as fast as a log flood gets).
  await endToEnd(log, 'flood (2,000 lines / 5 ms)', 2000, 5);
  // A realistic pace: a few lines at a time, 200 lines/s, for the first 2,000 lines.
  const realistic = Buffer.from(log.toString('utf8').split('\n').slice(0, 2000).join('\n') + '\n');
  await endToEnd(realistic, 'paced (4 lines / 20 ms)', 4, 20);
}

void main();

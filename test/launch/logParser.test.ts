// The log parser and progress model on the real Trainer log (tqdm `\r`
// redraws, transformers 5 string values), the float form of older releases,
// runner events, and byte offsets under every possible chunking.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { LogLineSplitter } from '../../launch/src/logLines';
import { parseLogLine, parseMetricsDict, parseRedraw } from '../../launch/src/logParser';
import { formatStatus, ProgressModel, UpdateThrottle } from '../../launch/src/progressModel';
import { readLaunchSpec } from '../../launch/src/launchConfig';
import { runFindings } from '../../launch/src/runDiagnostics';
import { BASE_CONFIG, SAMPLE_LOG } from './infra';

const sample = fs.readFileSync(SAMPLE_LOG);

test('metrics dicts: transformers 5 strings and older floats, nan and inf', () => {
  assert.deepEqual(
    parseMetricsDict(
      "{'loss': '1.23', 'grad_norm': '0.5', 'learning_rate': '0.0001', 'epoch': '0.05'}",
    ),
    { loss: 1.23, grad_norm: 0.5, learning_rate: 0.0001, epoch: 0.05 },
  );
  assert.deepEqual(
    parseMetricsDict("{'loss': 1.23, 'grad_norm': 0.5, 'learning_rate': 1e-05, 'epoch': 0.05}"),
    { loss: 1.23, grad_norm: 0.5, learning_rate: 1e-5, epoch: 0.05 },
  );
  const nan = parseMetricsDict("{'loss': 'nan', 'grad_norm': inf, 'learning_rate': '2e-4'}")!;
  assert.ok(Number.isNaN(nan.loss));
  assert.equal(nan.grad_norm, Infinity);
});

test('tqdm bars: step, total, elapsed, remaining and rate (it/s and s/it)', () => {
  assert.deepEqual(parseRedraw(' 12/500 [00:10<06:40, 1.22it/s]'), {
    step: 12,
    total: 500,
    elapsedSeconds: 10,
    remainingSeconds: 400,
    rate: 1.22,
  });
  assert.deepEqual(parseRedraw('  0%|          | 0/20 [00:00<?, ?it/s]'), {
    step: 0,
    total: 20,
    elapsedSeconds: 0,
  });
  assert.equal(parseRedraw('3/9 [1:02:03<1:00, 4.00s/it]')?.rate, 0.25);
  assert.equal(parseRedraw('3/9 [1:02:03<1:00, 4.00s/it]')?.elapsedSeconds, 3723);
  assert.equal(parseRedraw('no bar here'), undefined);
});

test('runner events and plain failures', () => {
  const [event] = parseLogLine('@tunelab {"event":"step","step":3,"loss":1.5}');
  assert.equal(event.kind, 'event');
  assert.equal(parseLogLine('@tunelab {not json').length, 0);
  const [oom] = parseLogLine(
    'torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB',
  );
  assert.equal(oom.kind === 'failure' && oom.failure.type, 'oom');
  const [missing] = parseLogLine("ModuleNotFoundError: No module named 'yaml'");
  assert.deepEqual(missing.kind === 'failure' && missing.failure.packages, ['PyYAML']);
});

test('the real Trainer log: 20 steps, every loss and learning rate charted once', () => {
  const model = new ProgressModel();
  const splitter = new LogLineSplitter(0, {
    line: (text) => model.applyLine(text),
    redraw: (segment) => model.applyRedraw(segment),
  });
  splitter.push(sample);
  splitter.flushPartial();
  assert.equal(model.points.length, 20);
  assert.deepEqual(model.points[0], { step: 1, loss: 12.11, learningRate: 0.0001, gradNorm: 0.67 });
  assert.equal(model.points[19].step, 20);
  assert.equal(model.points[19].learningRate, 5e-6);
  assert.equal(model.progress.step, 20);
  assert.equal(model.progress.totalSteps, 20);
  assert.equal(model.progress.loss, 12.11);
  assert.equal(model.progress.failures.length, 0);
  assert.match(formatStatus(model.progress), /^step 20\/20 · loss 12\.11 · lr 5\.0e-6 · /);
});

test('byte offsets: any chunking gives the same lines and the offset of each line end', () => {
  const expected: Array<[string, number]> = [];
  new LogLineSplitter(0, { line: (t, o) => expected.push([t, o]) }).push(sample);
  assert.equal(expected[expected.length - 1][1], sample.lastIndexOf(0x0a) + 1);
  for (const size of [1, 2, 3, 7, 64, 333]) {
    const lines: Array<[string, number]> = [];
    const splitter = new LogLineSplitter(0, { line: (t, o) => lines.push([t, o]) });
    for (let i = 0; i < sample.length; i += size) splitter.push(sample.subarray(i, i + size));
    assert.deepEqual(lines, expected, `chunks of ${size}`);
  }
  // Multi-byte characters (the tqdm bar's blocks) split across chunks decode intact.
  assert.ok(expected.some(([text]) => text.includes('▌')));
});

test('redraws of the unfinished line move progress before the line ends', () => {
  const model = new ProgressModel();
  const splitter = new LogLineSplitter(0, {
    line: (text) => model.applyLine(text),
    redraw: (segment) => model.applyRedraw(segment),
  });
  splitter.push(Buffer.from('\r  5%|▌ | 1/20 [00:00<00:17,  1.12it/s]'));
  assert.equal(model.progress.step, 1);
  splitter.push(Buffer.from('\r 10%|█ | 2/20 [00:01<00:08,  2.04it/s]\r'));
  assert.equal(model.progress.step, 2);
  assert.equal(model.progress.etaSeconds, 8);
  assert.equal(splitter.committedOffset, 0, 'nothing committed before a newline');
  splitter.discardPartial();
  assert.equal(splitter.partialBytes, 0);
});

test('runner events win over the printed dict; a null loss is a NaN failure', () => {
  const model = new ProgressModel();
  model.applyLine('@tunelab {"event":"start","estimated_steps":100,"global_step":0}');
  model.applyLine(
    '@tunelab {"event":"step","step":10,"max_steps":100,"loss":2.5,"learning_rate":0.0002,"tokens_per_second":3100,"eta_seconds":400}',
  );
  model.applyLine("{'loss': '2.5', 'learning_rate': '0.0002', 'epoch': '0.1'}");
  assert.equal(model.points.length, 1);
  assert.equal(
    formatStatus(model.progress),
    'step 10/100 · loss 2.5 · lr 2.0e-4 · 3.1k tok/s · ETA 6:40',
  );
  model.applyLine('@tunelab {"event":"step","step":20,"max_steps":100,"loss":null}');
  assert.equal(model.progress.failures[0].type, 'nan_loss');
  model.applyLine(
    '@tunelab {"event":"error","type":"oom","message":"out of GPU memory","hint":"lower the batch"}',
  );
  model.applyLine('@tunelab {"event":"end","status":"failed","exit_code":4}');
  assert.deepEqual(model.progress.end, { status: 'failed', exitCode: 4 });
  assert.equal(model.progress.failures[1].type, 'oom');
});

test("the steady step of the steps so far, then the completed end's; a stopped end keeps the last", () => {
  const model = new ProgressModel();
  model.applyLine('@tunelab {"event":"step","step":2,"max_steps":40,"loss":2.5}');
  assert.equal(model.progress.steadyStepSeconds, undefined);
  model.applyLine(
    '@tunelab {"event":"step","step":16,"max_steps":40,"loss":2.4,"steady_step_seconds":0.41,"steady_step_intervals":15}',
  );
  assert.equal(model.progress.steadyStepSeconds, 0.41);
  assert.equal(model.progress.steadyStepIntervals, 15);
  model.applyLine(
    '@tunelab {"event":"end","status":"completed","exit_code":0,"metrics":{"steady_step_seconds":0.43,"steady_step_intervals":39}}',
  );
  assert.equal(model.progress.steadyStepSeconds, 0.43);
  assert.equal(model.progress.steadyStepIntervals, 39);

  const stopped = new ProgressModel();
  stopped.applyLine(
    '@tunelab {"event":"step","step":20,"max_steps":40,"loss":2.4,"steady_step_seconds":0.41,"steady_step_intervals":19}',
  );
  stopped.applyLine('@tunelab {"event":"end","status":"interrupted","exit_code":143}');
  assert.equal(stopped.progress.steadyStepSeconds, 0.41);
  assert.equal(stopped.progress.steadyStepIntervals, 19);
});

test('a NaN loss in a printed dict is a failure', () => {
  const model = new ProgressModel();
  model.applyLine("{'loss': 'nan', 'grad_norm': 'nan', 'learning_rate': '0.0001', 'epoch': '0.2'}");
  assert.equal(model.progress.failures[0].type, 'nan_loss');
});

test('UpdateThrottle: at most one flush per interval, the newest state last', async () => {
  let flushes = 0;
  const throttle = new UpdateThrottle(50, () => flushes++);
  for (let i = 0; i < 1000; i++) throttle.notify();
  assert.equal(flushes, 1, 'the first notify flushes at once');
  await new Promise((resolve) => setTimeout(resolve, 80));
  assert.equal(flushes, 2, 'one trailing flush for the burst');
  throttle.dispose();
});

// Real runner output from an H100 (transformers 5.17): events land at the end
// of tqdm's unfinished bar line, labelled bars (`Loading weights:`) pass by.
function replayFixture(name: string): ProgressModel {
  const model = new ProgressModel();
  const splitter = new LogLineSplitter(0, {
    line: (text) => model.applyLine(text),
    redraw: (segment) => model.applyRedraw(segment),
  });
  splitter.push(fs.readFileSync(path.join(__dirname, 'fixtures', name)));
  splitter.flushPartial();
  return model;
}

test('real runner log (NaN at step 2): events after bars are read; the runner failure wins', () => {
  const model = replayFixture('runner-nan-h100.log');
  assert.equal(model.progress.step, 2);
  assert.equal(model.progress.totalSteps, 200);
  assert.deepEqual(model.progress.end, { status: 'failed', exitCode: 5 });
  assert.deepEqual(
    model.progress.failures.map((f) => [f.type, f.source]),
    [['nan_loss', 'runner']],
  );
  const parsed = readLaunchSpec('/tmp/x/a.finetune.yaml', BASE_CONFIG).parsed;
  const [finding, ...rest] = runFindings(model.progress.failures, parsed, { target: 'local' });
  assert.equal(rest.length, 0);
  assert.equal(finding.code, 'run-nan-loss');
  assert.match(finding.message, /loss became NaN\/inf by step 2; training stopped/);
});

test('real runner log (SIGTERM): checkpoint and interrupted end; labelled bars ignored', () => {
  const model = replayFixture('runner-sigterm-h100.log');
  assert.equal(model.progress.totalSteps, 3000);
  assert.equal(model.progress.step, 3);
  assert.match(model.progress.lastCheckpoint ?? '', /checkpoint-3$/);
  assert.deepEqual(model.progress.end, { status: 'interrupted', exitCode: 143 });
  assert.equal(model.points.length, 3);
});

test("real runner log (completed): the status bar shows the runner's numbers", () => {
  const model = replayFixture('runner-ok-h100.log');
  assert.equal(formatStatus(model.progress), 'step 60/60 · loss 0.7134 · lr 3.0e-3 · 24.2k tok/s');
  assert.equal(model.points.length, 12);
  assert.deepEqual(model.progress.end, { status: 'completed', exitCode: 0 });
  assert.deepEqual(model.progress.failures, []);
});

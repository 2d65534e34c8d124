// Launching from the editor: the launch command runs the real runner (which
// fails here for want of torch, as on any machine without it), the run is
// recorded, its failure lands on `launch.python`, the terminal and the chart
// open, the task type runs, an out-of-memory log becomes a finding with
// quick fixes, and a completed run's steady step teaches the lens its host pace.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { analyze } from '../../../engine/src/engine';
import { stepAtPace } from '../../../engine/src/estimate/hostPace';
import { buildEstimateReport, estimateLensTitle } from '../../../engine/src/report/estimateReport';
import { hostPacesNear, launchEstimateOf } from '../../../launch/src/hostPaces';
import { RunStore } from '../../../launch/src/runRecord';
import { loadLaunchSpec } from '../../../launch/src/launchConfig';
import { log, sleep, waitFor, workspaceUri } from './helpers';

function runRecords(ws: string): string[] {
  const dir = path.join(ws, '.tunelab', 'runs');
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.json')) : [];
}

const runFindings = (uri: vscode.Uri) =>
  vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'tunelab-run');

describe('launch', () => {
  it('launches, records the run, reports the missing package on launch.python, opens terminal and chart', async () => {
    const config = workspaceUri('launch-run.finetune.yaml');
    const ws = path.dirname(config.fsPath);
    const doc = await vscode.workspace.openTextDocument(config);
    await vscode.window.showTextDocument(doc);
    await vscode.extensions.getExtension('tunelab.tunelab')!.activate();
    const commands = await vscode.commands.getCommands(true);
    for (const c of [
      'tunelab.launch',
      'tunelab.attachRun',
      'tunelab.stopRun',
      'tunelab.showRunChart',
      'tunelab.doctor',
      'tunelab.storeSecret',
    ])
      assert.ok(commands.includes(c), c);
    const before = runRecords(ws).length;
    await vscode.commands.executeCommand('tunelab.launch', config);
    const diags = await waitFor(
      'run diagnostics',
      () => runFindings(config),
      (d) => d.length > 0,
      60_000,
    );
    log('      diagnostics: %s', JSON.stringify(diags.map((d) => [d.code, d.range.start.line])));
    assert.equal(diags[0].code, 'run-missing-package');
    assert.equal(diags[0].range.start.line, 14, 'on launch.python');
    const records = runRecords(ws);
    assert.equal(records.length, before + 1);
    const file = path.join(ws, '.tunelab', 'runs', records[records.length - 1]);
    await waitFor(
      'record state',
      () => JSON.parse(fs.readFileSync(file, 'utf8')).state,
      (s) => s === 'failed',
      20_000,
    );
    const record = JSON.parse(fs.readFileSync(file, 'utf8'));
    await vscode.commands.executeCommand('tunelab.showRunChart');
    await vscode.commands.executeCommand('tunelab.attachRun', record.id);
    await sleep(1500);
    assert.ok(
      vscode.window.terminals.some((t) => t.name === `Tunelab ${record.id}`),
      'the run has its terminal',
    );
    // Copy Serving Recipe: the recipe `tunelab serve` prints, copied (or shown) and returned
    const recipe = await vscode.commands.executeCommand<string>(
      'tunelab.copyServeRecipe',
      record.id,
    );
    assert.match(recipe, /vllm serve '?meta-llama\/Llama-3\.1-8B'? --enable-lora/);
    assert.match(recipe, /--max-lora-rank 16/);
    assert.ok(recipe.includes('runs/out/adapter'), recipe);
  });

  it('the tunelab task type offers each config and ends with the run', async () => {
    const ws = path.dirname(workspaceUri('launch-run.finetune.yaml').fsPath);
    const tasks = await vscode.tasks.fetchTasks({ type: 'tunelab' });
    const task = tasks.find((t) => t.name === 'Launch launch-run.finetune.yaml');
    assert.ok(task, tasks.map((t) => t.name).join(', '));
    const before = runRecords(ws).length;
    const ended = new Promise<number | undefined>((resolve) => {
      const listener = vscode.tasks.onDidEndTaskProcess((e) => {
        if (e.execution.task.name === task.name) {
          listener.dispose();
          resolve(e.exitCode);
        }
      });
    });
    await vscode.tasks.executeTask(task);
    const code = await Promise.race([ended, sleep(60_000).then(() => -99)]);
    assert.equal(code, 1, 'the failed run fails the task');
    assert.equal(runRecords(ws).length, before + 1);
  });

  it('an out-of-memory log becomes a finding on the micro-batch with quick fixes; the chart tab opens', async () => {
    const oom = workspaceUri('launch-oom.finetune.yaml');
    const doc = await vscode.workspace.openTextDocument(oom);
    await vscode.window.showTextDocument(doc);
    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>(
      'vscode.executeCodeLensProvider',
      oom,
    );
    assert.ok(lenses.some((l) => l.command?.title === '$(play) Launch training (local)'));
    await vscode.commands.executeCommand('tunelab.launch', oom);
    const diags = await waitFor(
      'oom finding',
      () => runFindings(oom),
      (d) => d.length > 0,
      60_000,
    );
    assert.equal(diags[0].code, 'run-oom');
    assert.equal(diags[0].range.start.line, 11, 'on per_device_train_batch_size');
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>(
      'vscode.executeCodeActionProvider',
      oom,
      diags[0].range,
    );
    const halve = actions.find((a) => a.title.startsWith('Halve per_device_train_batch_size'));
    assert.ok(halve?.edit, actions.map((a) => a.title).join(' | '));
    try {
      await vscode.workspace.applyEdit(halve.edit);
      assert.match(doc.getText(), /per_device_train_batch_size: 2\n/);
      assert.match(doc.getText(), /gradient_accumulation_steps: 2/);
    } finally {
      await vscode.commands.executeCommand('workbench.action.files.revert');
    }
    await vscode.commands.executeCommand('tunelab.showRunChart');
    await sleep(1000);
    const tabs = vscode.window.tabGroups.all.flatMap((g) => g.tabs.map((t) => t.label));
    assert.ok(
      tabs.some((t) => t.startsWith('Training launch-oom-')),
      tabs.join(' | '),
    );

    // Both exports of the chart: the CSV holds the two logged steps, the PNG is a real image.
    const dir = path.dirname(oom.fsPath);
    const csv = vscode.Uri.file(path.join(dir, 'chart.csv'));
    const png = vscode.Uri.file(path.join(dir, 'chart.png'));
    await vscode.commands.executeCommand('tunelab.exportRunChart', 'csv', csv);
    const rows = fs.readFileSync(csv.fsPath, 'utf8').trim().split('\n');
    assert.deepEqual(rows, [
      'step,loss,eval_loss,learning_rate,grad_norm',
      '10,2.512,,0.0002,1.104',
      '20,2.031,,0.00019,0.871',
    ]);
    await vscode.commands.executeCommand('tunelab.exportRunChart', 'png', png);
    const bytes = fs.readFileSync(png.fsPath);
    assert.deepEqual([...bytes.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47], 'PNG signature');
    assert.ok(bytes.length > 2000, `a drawn chart, not an empty image (${bytes.length} bytes)`);
  });

  it('a completed run teaches its host pace: the lens of the config takes it', async () => {
    const config = workspaceUri('launch-paced.finetune.yaml');
    const ws = path.dirname(config.fsPath);
    const doc = await vscode.workspace.openTextDocument(config);
    await vscode.window.showTextDocument(doc);
    const lensTitle = async () =>
      (
        await vscode.commands.executeCommand<vscode.CodeLens[]>(
          'vscode.executeCodeLensProvider',
          config,
        )
      ).find((l) => l.command?.title.startsWith('≈'))?.command?.title ?? '';
    const before = await waitFor('the estimate lens', lensTitle, (t) => t !== '', 30_000);
    // the fake Python's steady step: 0.6× what the estimate says of this config's step
    const parts = launchEstimateOf(loadLaunchSpec(config.fsPath))!.stepParts;
    fs.writeFileSync(path.join(ws, 'paced-steady.txt'), stepAtPace(parts, 0.6).seconds.toFixed(4));
    await vscode.commands.executeCommand('tunelab.launch', config);
    const paces = path.join(ws, '.tunelab', 'host-paces.json');
    await waitFor(
      'the pace kept for the local target',
      () => (fs.existsSync(paces) ? fs.readFileSync(paces, 'utf8') : ''),
      (text) => text.includes('"local"'),
      60_000,
    );
    const kept = JSON.parse(fs.readFileSync(paces, 'utf8')) as Record<string, { pace: number }[]>;
    assert.ok(Math.abs(kept.local[0].pace - 0.6) < 0.002, JSON.stringify(kept));
    const expected = estimateLensTitle(
      buildEstimateReport(
        analyze(doc.getText(), config.fsPath, {
          pacedRuns: hostPacesNear(config.fsPath).pacedRuns,
        }),
      )!,
    );
    const after = await waitFor('the paced lens', lensTitle, (t) => t === expected, 30_000);
    assert.notEqual(after, before);
    log(`lens before ${before} · after ${after}`);
  });

  it("the pace probe's lens runs the config's probe on its target, and the estimate takes its pace", async () => {
    const config = workspaceUri('launch-paced.finetune.yaml');
    const ws = path.dirname(config.fsPath);
    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>(
      'vscode.executeCodeLensProvider',
      config,
    );
    const probeLens = lenses.find((l) => l.command?.title === "$(watch) Measure target's pace");
    assert.ok(probeLens, lenses.map((l) => l.command?.title).join(' | '));
    const parts = launchEstimateOf(loadLaunchSpec(config.fsPath))!.stepParts;
    fs.writeFileSync(path.join(ws, 'paced-steady.txt'), stepAtPace(parts, 0.8).seconds.toFixed(4));
    const probesBefore = new RunStore(ws).list().filter((r) => r.probe !== undefined).length;
    await vscode.commands.executeCommand(
      probeLens.command!.command,
      ...probeLens.command!.arguments!,
    );
    const paces = path.join(ws, '.tunelab', 'host-paces.json');
    const kept = await waitFor(
      "the probe's pace kept beside the run's",
      () =>
        fs.existsSync(paces)
          ? ((JSON.parse(fs.readFileSync(paces, 'utf8')) as Record<string, { pace: number }[]>)
              .local ?? [])
          : [],
      (samples) => samples.some((s) => Math.abs(s.pace - 0.8) < 0.002),
      60_000,
    );
    const probes = new RunStore(ws).list().filter((r) => r.probe !== undefined);
    assert.equal(probes.length, probesBefore + 1);
    assert.equal(probes.at(-1)!.probe, 16);
    assert.match(
      fs.readFileSync(path.join(ws, 'paced-argv.txt'), 'utf8').trim(),
      / launch-paced\.finetune\.yaml --probe 16$/,
    );
    const doc = await vscode.workspace.openTextDocument(config);
    const expected = estimateLensTitle(
      buildEstimateReport(
        analyze(doc.getText(), config.fsPath, {
          pacedRuns: hostPacesNear(config.fsPath).pacedRuns,
        }),
      )!,
    );
    const lensTitle = async () =>
      (
        await vscode.commands.executeCommand<vscode.CodeLens[]>(
          'vscode.executeCodeLensProvider',
          config,
        )
      ).find((l) => l.command?.title.startsWith('≈'))?.command?.title ?? '';
    const after = await waitFor(
      'the lens at the probed pace',
      lensTitle,
      (t) => t === expected,
      30_000,
    );
    log(`paces kept ${kept.map((s) => s.pace).join(', ')} · lens ${after}`);
  });

  it('a run that fails after 20 steps has taught its pace while it ran', async () => {
    const config = workspaceUri('launch-paced.finetune.yaml');
    const ws = path.dirname(config.fsPath);
    const parts = launchEstimateOf(loadLaunchSpec(config.fsPath))!.stepParts;
    fs.writeFileSync(path.join(ws, 'paced-steady.txt'), stepAtPace(parts, 0.7).seconds.toFixed(4));
    fs.writeFileSync(path.join(ws, 'paced-mode.txt'), 'fail');
    fs.rmSync(path.join(ws, 'paced-live.txt'), { force: true });
    const idsBefore = new Set(new RunStore(ws).list().map((r) => r.id));
    try {
      await vscode.commands.executeCommand('tunelab.launch', config);
      const failed = await waitFor(
        'the failing run to end',
        () => new RunStore(ws).list().filter((r) => !idsBefore.has(r.id)),
        (runs) => runs.length === 1 && runs[0]!.state === 'failed',
        60_000,
      );
      assert.equal(
        fs.readFileSync(path.join(ws, 'paced-live.txt'), 'utf8').trim(),
        'yes',
        'the editor kept the pace before the run failed',
      );
      const samples = (
        JSON.parse(fs.readFileSync(path.join(ws, '.tunelab', 'host-paces.json'), 'utf8')) as Record<
          string,
          { runId: string; pace: number }[]
        >
      ).local!;
      const own = samples.find((s) => s.runId === failed[0]!.id);
      assert.ok(own && Math.abs(own.pace - 0.7) < 0.002, JSON.stringify(samples));
      assert.equal(new RunStore(ws).load(failed[0]!.id)!.steadyStepSoFar, undefined);
    } finally {
      fs.rmSync(path.join(ws, 'paced-mode.txt'), { force: true });
    }
  });
});

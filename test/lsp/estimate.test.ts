// The memory estimate over LSP: code lens, hover on the keys that drive it,
// the fit quick fix, method conversion actions and the breakdown request.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import type { CodeAction, CodeLens, MarkupContent } from 'vscode-languageserver-protocol';
import { analyze } from '../../engine/src/engine';
import { stepAtPace } from '../../engine/src/estimate/hostPace';
import { buildEstimateReport, estimateLensTitle } from '../../engine/src/report/estimateReport';
import { hostPacesNear, launchEstimateOf, learnFromEnd } from '../../launch/src/hostPaces';
import { loadLaunchSpec } from '../../launch/src/launchConfig';
import { RunStore } from '../../launch/src/runRecord';
import { completedRecord } from '../support/runRecords';
import { applyEdits, fileUri, LspTestClient } from './client';

const ROOT = path.join(__dirname, '..', '..');

const CONFIG = `method: lora
model:
  name_or_path: meta-llama/Llama-3.1-8B
lora:
  r: 16
  lora_alpha: 32
  target_modules: all-linear
data:
  train_file: data/train.jsonl
  max_length: 2048
training:
  per_device_train_batch_size: 4
  gradient_checkpointing: false
hardware:
  gpu: A100-40GB
`;

let client: LspTestClient;
before(async () => {
  client = await LspTestClient.start();
});
after(async () => {
  await client.stop();
});

test('a code lens at the top of the file reads the peak, the GPU and the verdict', async () => {
  const uri = fileUri('/tmp/lens.finetune.yaml');
  client.open(uri, CONFIG.replace('A100-40GB', 'H100-80GB').replace('false', 'true'));
  const lenses = await client.connection.sendRequest<CodeLens[]>('textDocument/codeLens', {
    textDocument: { uri },
  });
  assert.equal(lenses.length, 1);
  assert.equal(lenses[0].range.start.line, 0);
  assert.match(lenses[0].command!.title, /^≈ \d+\.\d GiB\/GPU on 1× H100-80GB · fits/);
  assert.equal(lenses[0].command!.command, 'tunelab.showEstimate');
  assert.deepEqual(lenses[0].command!.arguments, [uri]);
});

test('hover on the keys that drive memory shows the estimate table', async () => {
  const uri = fileUri('/tmp/hover-estimate.finetune.yaml');
  client.open(uri, CONFIG);
  for (const [line, character] of [
    [0, 2], // method
    [11, 4], // per_device_train_batch_size
    [9, 4], // max_length
    [4, 2], // r
    [12, 4], // gradient_checkpointing
  ]) {
    const hover = await client.hover(uri, line, character);
    const value = (hover?.contents as MarkupContent).value;
    assert.match(value, /\| activations \| \d+\.\d GiB \|/, `line ${line}`);
    assert.match(value, /\*\*peak\*\*[\s\S]*Peak on 1× A100-40GB.*does not fit/);
    // Compact: two columns that fit a hover; the reasons are in the breakdown view.
    assert.doesNotMatch(value, /\| why \|/);
  }
  const plain = await client.hover(uri, 5, 4); // lora_alpha: docs only
  assert.doesNotMatch((plain?.contents as MarkupContent).value, /\*\*peak\*\*/);
});

test('memory-exceeds-gpu and its quick fix through LSP; the fixed config fits', async () => {
  const uri = fileUri('/tmp/fit.finetune.yaml');
  client.open(uri, CONFIG);
  const diagnostics = await client.diagnosticsFor(uri, 1);
  const oom = diagnostics.find((d) => d.code === 'memory-exceeds-gpu');
  assert.ok(oom, JSON.stringify(diagnostics.map((d) => d.code)));
  assert.equal(oom.severity, 1);
  const actions = await client.codeActions(uri, oom.range, [oom]);
  const fit = actions.find((a) => a.title.startsWith('Make it fit'));
  assert.ok(fit?.edit?.changes?.[uri]);
  const fixed = applyEdits(CONFIG, fit.edit.changes[uri]);
  assert.match(fixed, /gradient_checkpointing: true/);
  const version = client.change(uri, fixed);
  const after = await client.diagnosticsFor(uri, version);
  assert.ok(!after.some((d) => d.code === 'memory-exceeds-gpu'));
});

test('convert actions on the method line rewrite the sections; the breakdown request answers Markdown', async () => {
  const uri = fileUri('/tmp/convert.finetune.yaml');
  client.open(uri, CONFIG);
  const actions = await client.connection.sendRequest<CodeAction[]>('textDocument/codeAction', {
    textDocument: { uri },
    range: { start: { line: 0, character: 9 }, end: { line: 0, character: 9 } },
    context: { diagnostics: [] },
  });
  const toQlora = actions.find((a) => a.title.startsWith('Convert to QLoRA'));
  assert.ok(toQlora, actions.map((a) => a.title).join(' | '));
  const converted = applyEdits(CONFIG, toQlora.edit!.changes![uri]);
  assert.match(converted, /^method: qlora$/m);
  assert.match(converted, /prepare_model_for_kbit_training: true/);
  const markdown = await client.connection.sendRequest<string | null>('tunelab/estimate', { uri });
  assert.match(markdown ?? '', /\*\*Tunelab estimate\*\*/);
  assert.match(markdown ?? '', /\*\*peak\*\*/);
});

test('an unknown model gets a lens that says why there is no estimate', async () => {
  const uri = fileUri('/tmp/unknown.finetune.yaml');
  client.open(uri, CONFIG.replace('meta-llama/Llama-3.1-8B', 'acme/secret-model'));
  const lenses = await client.connection.sendRequest<CodeLens[]>('textDocument/codeLens', {
    textDocument: { uri },
  });
  assert.match(lenses[0].command!.title, /architecture unknown/);
});

test('a host pace learnt from a completed run on the launch target moves the lens and says so', async () => {
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'tunelab-lsp-pace-'));
  fs.mkdirSync(path.join(workspace, 'data'));
  fs.copyFileSync(
    path.join(ROOT, 'templates', 'telecom-support', 'data', 'train.jsonl'),
    path.join(workspace, 'data', 'train.jsonl'),
  );
  const file = path.join(workspace, 'padded.finetune.yaml');
  const text = CONFIG.replace('meta-llama/Llama-3.1-8B', 'meta-llama/Llama-3.2-1B')
    .replace('A100-40GB', 'H100-80GB')
    .replace('per_device_train_batch_size: 4', 'per_device_train_batch_size: 2\n  max_steps: 50')
    .replace('gradient_checkpointing: false', 'gradient_checkpointing: true');
  fs.writeFileSync(file, text);
  const lensOf = async (uri: string) =>
    (
      await client.connection.sendRequest<CodeLens[]>('textDocument/codeLens', {
        textDocument: { uri },
      })
    )[0].command!.title;
  const before = await lensOf(openFile(file, text));
  assert.equal(before, estimateLensTitle(buildEstimateReport(analyze(text, file))!));

  // a completed run there, 0.6× the estimate's step: what `tunelab launch` keeps at its end
  const estimate = launchEstimateOf(loadLaunchSpec(file))!;
  const steady = stepAtPace(estimate.stepParts, 0.6).seconds;
  const store = new RunStore(workspace);
  store.save(completedRecord({ id: 'r1', config: file, estimate }));
  assert.ok(learnFromEnd(store, store.load('r1')!, steady));

  // the open document, unchanged, is estimated again with the pace
  const uri = fileUri(file);
  const after = await lensOf(uri);
  const paced = analyze(text, file, { pacedRuns: hostPacesNear(file).pacedRuns });
  assert.equal(after, estimateLensTitle(buildEstimateReport(paced)!));
  assert.notEqual(after, before);
  const markdown = await client.connection.sendRequest<string | null>('tunelab/estimate', { uri });
  assert.match(
    markdown ?? '',
    /host pace ×0\.60 of the fitted host's, learnt on local from this config's own timed run there \(a pace probe, or a training's first 16 steps or more\)/,
  );
  assert.match(markdown ?? '', /±35%/);
});

function openFile(file: string, text: string): string {
  const uri = fileUri(file);
  client.open(uri, text);
  return uri;
}

// "Tunelab: New fine-tuning config" driven through its answers argument (the
// pick lists themselves are driven by test/ui/newUser.test.ts), plus the
// manifest's walkthrough and the YAML snippets.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { EXTENSION_ID, sleep, summarize, waitFor, workspaceUri } from './helpers';

interface CreatedConfig {
  configPath: string;
  written: string[];
  method: string;
  reason?: string;
}

const created: string[] = [];

function newConfig(answers: Record<string, unknown>): Thenable<CreatedConfig | undefined> {
  return vscode.commands.executeCommand<CreatedConfig | undefined>('tunelab.newConfig', answers);
}

/**
 * The code lens with the estimate (its title starts with ≈) once the server
 * has analyzed the file, and a moment more: no diagnostics cannot be told
 * from diagnostics not published yet.
 */
async function estimateLens(uri: vscode.Uri): Promise<vscode.CodeLens> {
  const lenses = await waitFor(
    `the estimate code lens on ${uri.path}`,
    () => vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri),
    (list) => (list ?? []).some((lens) => lens.command?.title.startsWith('≈')),
  );
  await sleep(1000);
  return lenses.find((lens) => lens.command?.title.startsWith('≈'))!;
}

/** A stand-in for `python3 -m tunelab_runner doctor`: prints `stdout`, exits with `code`. */
function fakePython(stdout: string, code: number): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tunelab-fake-python-'));
  created.push(dir);
  const file = path.join(dir, 'python');
  fs.writeFileSync(file, `#!/bin/sh\ncat <<'EOF'\n${stdout}\nEOF\nexit ${code}\n`, { mode: 0o755 });
  return file;
}

describe('new fine-tuning config', () => {
  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    for (const dir of created) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('writes the telecom QLoRA config for Llama 3.1 8B on an RTX 4090, opens it, no errors, estimate above line 1', async () => {
    const folder = workspaceUri('bots', 'telecom-qlora').fsPath;
    created.push(path.dirname(folder));
    const result = await newConfig({
      template: 'telecom-support',
      model: 'meta-llama/Llama-3.1-8B',
      gpu: 'RTX4090-24GB',
      method: 'qlora',
      folder: path.join('bots', 'telecom-qlora'),
    });
    assert.ok(result, 'the command returned what it wrote');
    assert.equal(result.configPath, path.join(folder, 'qlora.finetune.yaml'));
    assert.equal(result.method, 'qlora');
    for (const file of ['qlora.finetune.yaml', 'data/train.jsonl', 'data/eval.jsonl'])
      assert.ok(fs.existsSync(path.join(folder, file)), `${file} was written`);

    const editor = vscode.window.activeTextEditor;
    assert.equal(editor?.document.uri.fsPath, result.configPath, 'the new config is open');
    const text = editor!.document.getText();
    assert.match(text, /name_or_path: meta-llama\/Llama-3\.1-8B\b/);
    assert.match(text, /gpu: RTX4090-24GB/);

    const lens = await estimateLens(editor!.document.uri);
    assert.equal(lens.range.start.line, 0);
    assert.match(lens.command!.title, /GiB\/GPU on 1× RTX4090-24GB · fits/);
    const problems = vscode.languages
      .getDiagnostics(editor!.document.uri)
      .filter((d) => d.severity <= vscode.DiagnosticSeverity.Warning);
    assert.deepEqual(problems.map(summarize), [], 'no errors or warnings');
  });

  it('left to itself: the recommended method, in a new subfolder because the root has data/', async () => {
    const result = await newConfig({ template: 'telecom-support', gpu: 'RTX4090-24GB' });
    assert.ok(result);
    created.push(path.dirname(result.configPath));
    // The fixture workspace has data/ at its root: the template's data must not mix with it.
    assert.equal(path.dirname(result.configPath), workspaceUri('telecom-support').fsPath);
    assert.equal(path.basename(result.configPath), `${result.method}.finetune.yaml`);
    assert.match(result.reason ?? '', /RTX 4090/, 'the reason names the GPU');
    await estimateLens(vscode.Uri.file(result.configPath));
    const errors = vscode.languages
      .getDiagnostics(vscode.Uri.file(result.configPath))
      .filter((d) => d.severity === vscode.DiagnosticSeverity.Error);
    assert.deepEqual(errors.map(summarize), []);
  });

  it('"detect" takes the GPUs tunelab_runner doctor reports', async function () {
    if (process.platform === 'win32') this.skip();
    // The GPU entry exactly as the doctor printed it on an H100 machine (torch
    // 2.11, driver 580), listed twice: a two-GPU box.
    const h100 = {
      name: 'NVIDIA H100 80GB HBM3',
      memory_bytes: 85017493504,
      compute_capability: '9.0',
      bf16: true,
      multiprocessors: 132,
    };
    const report = {
      gpus_source: 'torch',
      gpus: [
        { index: 0, ...h100 },
        { index: 1, ...h100 },
      ],
    };
    const folder = workspaceUri('bots', 'detected').fsPath;
    created.push(path.dirname(folder));
    const result = await newConfig({
      template: 'telecom-support',
      gpu: 'detect',
      method: 'lora',
      folder,
      doctorPython: fakePython(JSON.stringify(report), 0),
    });
    assert.ok(result);
    const text = fs.readFileSync(result.configPath, 'utf8');
    assert.match(text, /^ {2}gpu: H100-80GB\b/m);
    assert.match(text, /^ {2}num_gpus: 2\b/m);
    const lens = await estimateLens(vscode.Uri.file(result.configPath));
    assert.match(lens.command!.title, /on 2× H100-80GB/);
  });

  it('a doctor that fails writes nothing', async function () {
    if (process.platform === 'win32') this.skip();
    const folder = workspaceUri('bots', 'not-written').fsPath;
    const result = await newConfig({
      template: 'telecom-support',
      gpu: 'detect',
      folder,
      doctorPython: fakePython('/usr/bin/python3: No module named tunelab_runner', 1),
    });
    assert.equal(result, undefined);
    assert.ok(!fs.existsSync(folder), `${folder} was not created`);
  });

  it('a folder that cannot be made is reported, not thrown', async () => {
    // A path through a file: mkdir fails with ENOTDIR.
    const result = await newConfig({
      template: 'telecom-support',
      method: 'lora',
      folder: path.join('ok.finetune.yaml', 'inside'),
    });
    assert.equal(result, undefined);
  });

  it('an unknown template is refused', async () => {
    assert.equal(await newConfig({ template: 'no-such-template' }), undefined);
  });

  it('inserts the LoRA snippet in a YAML file', async () => {
    const doc = await vscode.workspace.openTextDocument({
      language: 'yaml',
      content: 'method: lora\n',
    });
    const editor = await vscode.window.showTextDocument(doc);
    editor.selection = new vscode.Selection(1, 0, 1, 0);
    await vscode.commands.executeCommand('editor.action.insertSnippet', {
      langId: 'yaml',
      name: 'LoRA section',
    });
    assert.match(doc.getText(), /^lora:\n {2}r: 16\n {2}lora_alpha: 32 # 2 × r\n/m);
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });

  it('contributes the walkthrough, the snippets and menus scoped to configs', () => {
    const manifest = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON as {
      contributes: {
        walkthroughs: { steps: { id: string; completionEvents: string[] }[] }[];
        menus: Record<string, { command: string; when?: string }[]>;
      };
    };
    const steps = manifest.contributes.walkthroughs[0].steps;
    assert.deepEqual(
      steps.map((s) => s.id),
      ['createConfig', 'readFindings', 'storeSecrets', 'launch', 'watch'],
    );
    for (const step of steps) assert.ok(step.completionEvents.length > 0, step.id);
    const titleButtons = manifest.contributes.menus['editor/title'] ?? [];
    for (const button of titleButtons.filter((b) => b.command.startsWith('tunelab.')))
      assert.match(button.when ?? '', /finetune/, `${button.command} only on configs`);
  });
});

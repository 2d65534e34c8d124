// "Tunelab: New fine-tuning config": template → base model → GPU → method →
// folder, then createConfig (the same call as `tunelab new`) writes the config
// and its data, and the config opens with its estimate in the code lens.
// Nothing here runs code from the workspace; only "Detect with
// tunelab_runner doctor…" runs Python, and not in an untrusted workspace.

import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Method } from '../../../engine/src/plan';
import {
  createConfig,
  listTemplates,
  NewConfigError,
  type NewConfigResult,
} from '../../../launch/src/newConfig';
import { answersFrom, type NewConfigAnswers } from './answers';
import { defaultPython, detectGpu, DetectGpuError, type DetectedGpu } from './detectGpu';
import {
  defaultDestination,
  destinationWithoutWorkspace,
  displayFolder,
  folderProblem,
  resolveFolder,
} from './destination';
import {
  DETECT_GPU,
  gpuItems,
  METHOD_LABELS,
  methodItems,
  modelItems,
  RECOMMENDED,
  templateDefaults,
  templateItems,
  type TemplateDefaults,
  type TemplateItem,
} from './items';
import { recommendationFor } from './recommendation';
import { BACK, inputText, pickOne, type StepAnswer, type StepPosition } from './wizard';

/** Where the command was started from: the paths every step needs. */
interface Surroundings {
  extensionPath: string;
  templates: TemplateItem[];
  /** The workspace folder new paths are shown relative to. */
  root?: string;
  /** The folder the config goes to unless it holds a template's files: the explorer's or the root. */
  base?: string;
}

interface Choices {
  template: TemplateItem;
  defaults: TemplateDefaults;
  model?: string;
  gpu?: string;
  numGpus: number;
  method: Method | typeof RECOMMENDED;
  folder: string;
}

type Step = (choices: Partial<Choices>, at: StepPosition) => Promise<StepAnswer<true>>;

export async function newConfigCommand(
  extensionPath: string,
  argument: unknown,
): Promise<NewConfigResult | undefined> {
  const templatesDir = path.join(extensionPath, 'templates');
  const templates = templateItems(listTemplates(templatesDir));
  if (templates.length === 0) {
    void vscode.window.showErrorMessage(`Tunelab: no templates found in ${templatesDir}.`);
    return undefined;
  }
  const surroundings = { extensionPath, templates, ...startingFolders(argument) };
  try {
    const answers = answersFrom(argument);
    const choices = answers
      ? await choicesFromAnswers(answers, surroundings)
      : await askChoices(surroundings);
    if (!choices) return undefined;
    const result = createConfig({
      templatesDir,
      template: choices.template.template,
      destDir: choices.folder,
      model: choices.model,
      gpu: choices.gpu,
      numGpus: choices.numGpus,
      method: choices.method === RECOMMENDED ? undefined : choices.method,
    });
    await vscode.window.showTextDocument(vscode.Uri.file(result.configPath), { preview: false });
    announce(result, surroundings.root);
    return result;
  } catch (err) {
    // Expected failures (and a folder that cannot be written) get a message; others are bugs.
    const writeFailed = typeof (err as NodeJS.ErrnoException).code === 'string';
    if (!(err instanceof NewConfigError || err instanceof DetectGpuError || writeFailed)) throw err;
    void vscode.window.showErrorMessage(`Tunelab: ${(err as Error).message}`);
    return undefined;
  }
}

/** The explorer's folder (from its context menu) and the workspace folder around it. */
function startingFolders(argument: unknown): Pick<Surroundings, 'root' | 'base'> {
  const clicked =
    argument instanceof vscode.Uri && argument.scheme === 'file' ? argument : undefined;
  const folder = clicked
    ? vscode.workspace.getWorkspaceFolder(clicked)
    : vscode.workspace.workspaceFolders?.[0];
  const root = folder?.uri.scheme === 'file' ? folder.uri.fsPath : undefined;
  return { root, base: clicked?.fsPath ?? root };
}

function templateDir(template: TemplateItem): string {
  return path.dirname(template.variants[0].file);
}

function proposedFolder(template: TemplateItem, surroundings: Surroundings): string {
  return surroundings.base
    ? defaultDestination(surroundings.base, templateDir(template))
    : destinationWithoutWorkspace(templateDir(template));
}

/** The config file a fixed method writes (a recommended one is known only after the estimate). */
function configName(choices: Partial<Choices>): string | undefined {
  const variant = choices.template?.variants.find((v) => v.method === choices.method);
  return variant && path.basename(variant.file);
}

async function choicesFromAnswers(
  answers: NewConfigAnswers,
  surroundings: Surroundings,
): Promise<Choices> {
  const template = surroundings.templates.find((t) => t.template === answers.template);
  if (!template) {
    const known = surroundings.templates.map((t) => t.template).join(', ');
    throw new NewConfigError(`no template ${answers.template}; known: ${known}`);
  }
  const defaults = templateDefaults(template.variants);
  let gpu = answers.gpu ?? defaults.gpu;
  let numGpus = 1;
  if (gpu === DETECT_GPU) {
    const found = await detectWithProgress(surroundings, answers.doctorPython);
    ({ gpu, numGpus } = found);
  }
  return {
    template,
    defaults,
    model: answers.model ?? defaults.model,
    gpu,
    numGpus,
    method: answers.method ?? RECOMMENDED,
    folder: answers.folder
      ? resolveFolder(answers.folder, surroundings.root)
      : proposedFolder(template, surroundings),
  };
}

/** The five steps; Back returns to the previous one, Escape cancels. */
async function askChoices(surroundings: Surroundings): Promise<Choices | undefined> {
  const steps: Step[] = [
    (choices, at) => askTemplate(choices, at, surroundings),
    askModel,
    (choices, at) => askGpu(choices, at, surroundings),
    askMethod,
    (choices, at) => askFolder(choices, at, surroundings),
  ];
  const choices: Partial<Choices> = { numGpus: 1 };
  let index = 0;
  while (index < steps.length) {
    const answer = await steps[index](choices, { step: index + 1, totalSteps: steps.length });
    if (answer === undefined) return undefined;
    index = answer === BACK ? Math.max(0, index - 1) : index + 1;
  }
  return choices as Choices;
}

async function askTemplate(
  choices: Partial<Choices>,
  at: StepPosition,
  surroundings: Surroundings,
): Promise<StepAnswer<true>> {
  const items = surroundings.templates;
  const picked = await pickOne(items, {
    ...at,
    placeholder: 'Template: an example config with its data',
    active: items.find((t) => t.template === choices.template?.template),
  });
  if (picked === undefined || picked === BACK) return picked;
  if (picked !== choices.template) {
    choices.template = picked;
    choices.defaults = templateDefaults(picked.variants);
  }
  return true;
}

async function askModel(choices: Partial<Choices>, at: StepPosition): Promise<StepAnswer<true>> {
  const items = modelItems();
  const current = choices.model ?? choices.defaults?.model;
  const picked = await pickOne(items, {
    ...at,
    placeholder: 'Base model (type to filter by name or Hub id)',
    active: items.find((m) => m.modelId !== undefined && m.modelId === current),
    matchOnDescription: true,
  });
  if (picked === undefined || picked === BACK) return picked;
  choices.model = picked.modelId;
  return true;
}

async function askGpu(
  choices: Partial<Choices>,
  at: StepPosition,
  surroundings: Surroundings,
): Promise<StepAnswer<true>> {
  const trusted = vscode.workspace.isTrusted;
  const items = gpuItems(trusted);
  const current = choices.gpu ?? choices.defaults?.gpu;
  for (;;) {
    const picked = await pickOne(items, {
      ...at,
      placeholder: 'GPU the run will use (the estimate checks against its memory)',
      active: items.find((g) => g.gpuId !== undefined && g.gpuId === current),
      matchOnDescription: true,
    });
    if (picked === undefined || picked === BACK) return picked;
    if (picked.gpuId !== DETECT_GPU) {
      choices.gpu = picked.gpuId;
      choices.numGpus = 1;
      return true;
    }
    if (!trusted) {
      void vscode.window.showWarningMessage(
        'Tunelab: detecting the GPU runs Python, which is disabled in an untrusted workspace. Trust the workspace, or pick the GPU from the list.',
      );
      continue;
    }
    try {
      const found = await detectWithProgress(surroundings);
      choices.gpu = found.gpu;
      choices.numGpus = found.numGpus;
      void vscode.window.showInformationMessage(
        `Tunelab: the doctor found ${found.numGpus} × ${found.seen}: ${found.gpu}.`,
      );
      return true;
    } catch (err) {
      if (!(err instanceof DetectGpuError)) throw err;
      // Back to the list: the user can still pick the card by hand.
      void vscode.window.showWarningMessage(`Tunelab: ${err.message}`);
    }
  }
}

async function askMethod(choices: Partial<Choices>, at: StepPosition): Promise<StepAnswer<true>> {
  const items = methodItems(choices.template!.variants, choices.gpu ?? 'the GPU');
  const picked = await pickOne(items, {
    ...at,
    placeholder: 'Method',
    active: items.find((m) => m.method === (choices.method ?? RECOMMENDED)),
  });
  if (picked === undefined || picked === BACK) return picked;
  choices.method = picked.method;
  return true;
}

async function askFolder(
  choices: Partial<Choices>,
  at: StepPosition,
  surroundings: Surroundings,
): Promise<StepAnswer<true>> {
  const { root } = surroundings;
  const proposed = choices.folder ?? proposedFolder(choices.template!, surroundings);
  const typed = await inputText({
    ...at,
    value: displayFolder(proposed, root),
    prompt: root
      ? `Folder for the config and its data, relative to ${path.basename(root)} ("." is its root)`
      : 'Folder for the config and its data',
    validate: (text) =>
      text.trim() ? folderProblem(resolveFolder(text, root), configName(choices)) : 'Name a folder',
  });
  if (typed === undefined || typed === BACK) return typed;
  choices.folder = resolveFolder(typed, root);
  return true;
}

async function detectWithProgress(
  surroundings: Surroundings,
  python: string = defaultPython(),
): Promise<DetectedGpu> {
  if (!vscode.workspace.isTrusted)
    throw new DetectGpuError('detecting the GPU runs Python: trust the workspace first');
  return vscode.window.withProgress(
    {
      location: vscode.ProgressLocation.Notification,
      title: `Tunelab: running ${python} -m tunelab_runner doctor on this machine…`,
    },
    () =>
      detectGpu({
        python,
        cwd: surroundings.base ?? os.homedir(),
        extensionPath: surroundings.extensionPath,
      }),
  );
}

/** The method and why, with the estimate one click away (the code lens shows its headline). */
function announce(result: NewConfigResult, root: string | undefined): void {
  const shown = displayFolder(result.configPath, root);
  const method = METHOD_LABELS[result.method];
  let why = result.reason ? `recommended by the estimate: ${result.reason}` : 'as chosen';
  if (!result.reason) {
    const recommended = recommendationFor(result.configPath);
    if (recommended?.method === result.method)
      why = `which the estimate recommends too: ${recommended.reason}`;
    else if (recommended)
      why = `as chosen; the estimate recommends ${METHOD_LABELS[recommended.method]}: ${recommended.reason}`;
  }
  const showEstimate = 'Show Estimate';
  void vscode.window
    .showInformationMessage(`Tunelab: created ${shown} with ${method}, ${why}.`, showEstimate)
    .then((button) => {
      if (button === showEstimate)
        void vscode.commands.executeCommand(
          'tunelab.showEstimate',
          vscode.Uri.file(result.configPath).toString(),
        );
    });
}

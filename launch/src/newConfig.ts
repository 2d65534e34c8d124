// Creating a config from templates/: list them, and write one (with the data it
// names) into a folder. The config's text (model, GPU, fitted method) comes from
// the engine (engine/src/newConfig.ts). Shared by `tunelab new` and the editor's
// "New fine-tuning config" command.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { analyze, resolveGpu } from '../../engine/src/engine';
import { findCatalogModel } from '../../engine/src/models/catalog';
import { chooseTemplateConfig } from '../../engine/src/newConfig';
import type { Method } from '../../engine/src/plan';
import { valueAt } from '../../engine/src/parse';

export interface TemplateVariant {
  /** `telecom-support/qlora` */
  id: string;
  template: string;
  method: Method;
  file: string;
  /** The first comment line of the config. */
  description: string;
}

/** The templates folder shipped next to the bundles (dist/../templates). */
export function defaultTemplatesDir(): string {
  return path.resolve(__dirname, '..', 'templates');
}

export function listTemplates(templatesDir: string): TemplateVariant[] {
  if (!fs.existsSync(templatesDir)) return [];
  const variants: TemplateVariant[] = [];
  for (const template of fs.readdirSync(templatesDir).sort()) {
    const dir = path.join(templatesDir, template);
    if (!fs.statSync(dir).isDirectory()) continue;
    for (const file of fs.readdirSync(dir).sort()) {
      const match = /^(full|lora|qlora)\.finetune\.ya?ml$/.exec(file);
      if (!match) continue;
      const text = fs.readFileSync(path.join(dir, file), 'utf8');
      const description = /^#\s*(.+)$/m.exec(text)?.[1] ?? '';
      variants.push({
        id: `${template}/${match[1]}`,
        template,
        method: match[1] as Method,
        file: path.join(dir, file),
        description,
      });
    }
  }
  return variants;
}

export interface NewConfigRequest {
  templatesDir: string;
  /** `telecom-support` (method chosen by recommendation) or `telecom-support/lora`. */
  template: string;
  destDir: string;
  model?: string;
  gpu?: string;
  numGpus?: number;
  /** Overrides the recommendation. */
  method?: Method;
}

export interface NewConfigResult {
  configPath: string;
  written: string[];
  method: Method;
  /** Why this method, when it was recommended. */
  reason?: string;
}

export class NewConfigError extends Error {}

export function createConfig(request: NewConfigRequest): NewConfigResult {
  const [templateName, variantMethod] = request.template.split('/') as [string, Method | undefined];
  const variants = listTemplates(request.templatesDir).filter((v) => v.template === templateName);
  if (variants.length === 0) {
    const known = [...new Set(listTemplates(request.templatesDir).map((v) => v.template))];
    throw new NewConfigError(`no template ${templateName}; known: ${known.join(', ') || '(none)'}`);
  }
  const model = request.model ? findCatalogModel(request.model) : undefined;
  if (request.model && !model)
    throw new NewConfigError(`${request.model} is not in the model catalog`);
  const gpu = request.gpu ? resolveGpu(request.gpu) : undefined;
  if (request.gpu && !gpu)
    throw new NewConfigError(
      `unknown GPU ${request.gpu}; see the GPU ids in the docs (e.g. H100-80GB)`,
    );

  const requested = request.method ?? variantMethod;
  const choice = chooseTemplateConfig(
    variants.map((v) => ({
      method: v.method,
      text: fs.readFileSync(v.file, 'utf8'),
      fileName: v.file,
    })),
    { model, gpu, numGpus: request.numGpus },
    requested,
  );
  if (!choice.ok) throw new NewConfigError(choice.message);
  const { method, reason, text: adapted } = choice;
  const variant = variants.find((v) => v.method === method)!;

  fs.mkdirSync(request.destDir, { recursive: true });
  const configPath = path.join(request.destDir, path.basename(variant.file));
  if (fs.existsSync(configPath))
    throw new NewConfigError(`${configPath} exists already; choose another folder`);
  const written = [configPath];
  fs.writeFileSync(configPath, adapted);
  // Copy the data files the config names, keeping their relative paths.
  const analysis = analyze(adapted, configPath);
  const sourceDir = path.dirname(variant.file);
  const named = [
    ['data', 'train_file'],
    ['data', 'eval_file'],
    ['data', 'general_data', 'file'],
    ['evaluation', 'forgetting', 'file'],
    ['evaluation', 'task', 'json_schema'],
  ];
  for (const keys of named)
    copyRelative(valueAt(analysis.parsed?.value, keys), sourceDir, request.destDir, written);
  const card = path.join(sourceDir, 'DATA_CARD.md');
  if (fs.existsSync(card)) {
    const target = path.join(request.destDir, 'DATA_CARD.md');
    if (!fs.existsSync(target)) {
      fs.copyFileSync(card, target);
      written.push(target);
    }
  }
  return { configPath, written, method, reason };
}

function copyRelative(file: unknown, fromDir: string, toDir: string, written: string[]): void {
  if (typeof file !== 'string' || path.isAbsolute(file)) return;
  const source = path.join(fromDir, file);
  const target = path.join(toDir, file);
  if (!fs.existsSync(source) || fs.existsSync(target)) return;
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.copyFileSync(source, target);
  written.push(target);
}

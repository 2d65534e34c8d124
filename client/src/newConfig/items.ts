// What the pick lists of "New fine-tuning config" show: templates, catalog
// models with their sizes, catalog GPUs with their memory, and the methods.

import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { listGpus } from '../../../engine/src/hardware/gpus';
import { listCatalogModels } from '../../../engine/src/models/catalog';
import type { ModelArchitecture } from '../../../engine/src/models/types';
import { parseYaml, valueAt } from '../../../engine/src/parse';
import type { Method } from '../../../engine/src/plan';
import type { TemplateVariant } from '../../../launch/src/newConfig';

export const METHOD_LABELS: Record<Method, string> = {
  full: 'Full fine-tuning',
  lora: 'LoRA',
  qlora: 'QLoRA',
};

const METHOD_DESCRIPTIONS: Record<Method, string> = {
  full: 'updates every weight: the most memory, worth it with lots of data',
  lora: 'small adapters on the frozen 16-bit model',
  qlora: 'LoRA adapters on a 4-bit quantized model: the least memory',
};

export interface TemplateItem extends vscode.QuickPickItem {
  template: string;
  variants: TemplateVariant[];
}

/** One item per template folder; its variants (full, lora, qlora) are the method step's choices. */
export function templateItems(variants: readonly TemplateVariant[]): TemplateItem[] {
  const byTemplate = new Map<string, TemplateVariant[]>();
  for (const variant of variants) {
    const list = byTemplate.get(variant.template) ?? [];
    list.push(variant);
    byTemplate.set(variant.template, list);
  }
  return [...byTemplate].map(([template, list]) => ({
    label: template,
    // "Telecom support assistant: QLoRA on ..." → the part every variant shares.
    description: list[0].description.split(':')[0],
    detail: `${list.map((v) => METHOD_LABELS[v.method]).join(', ')} configs with sample data`,
    template,
    variants: list,
  }));
}

export interface TemplateDefaults {
  model?: string;
  gpu?: string;
}

/** The model and GPU most of a template's variants name: the lists open on them. */
export function templateDefaults(variants: readonly TemplateVariant[]): TemplateDefaults {
  const models: string[] = [];
  const gpus: string[] = [];
  for (const variant of variants) {
    const value = parseYaml(fs.readFileSync(variant.file, 'utf8')).value;
    const model = valueAt(value, ['model', 'name_or_path']);
    const gpu = valueAt(value, ['hardware', 'gpu']);
    if (typeof model === 'string') models.push(model);
    if (typeof gpu === 'string') gpus.push(gpu);
  }
  return { model: mostCommon(models), gpu: mostCommon(gpus) };
}

function mostCommon(values: readonly string[]): string | undefined {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  let best: string | undefined;
  for (const [value, count] of counts) if (!best || count > counts.get(best)!) best = value;
  return best;
}

export interface ModelItem extends vscode.QuickPickItem {
  /** None on the family separators. */
  modelId?: string;
}

/** "8.0 B params", "135 M params". */
export function formatParams(count: number): string {
  return count >= 1e9
    ? `${(count / 1e9).toFixed(1)} B params`
    : `${Math.round(count / 1e6)} M params`;
}

function modelLabel(model: ModelArchitecture): string {
  return `${model.displayName ?? model.id} · ${formatParams(model.paramsTotal)}`;
}

/** The catalog, grouped by family under separators. */
export function modelItems(): ModelItem[] {
  const items: ModelItem[] = [];
  let family: string | undefined;
  for (const model of listCatalogModels()) {
    if (model.family !== family) {
      family = model.family;
      items.push({ label: family, kind: vscode.QuickPickItemKind.Separator });
    }
    items.push({ label: modelLabel(model), description: model.id, modelId: model.id });
  }
  return items;
}

export const DETECT_GPU = 'detect';

export interface GpuItem extends vscode.QuickPickItem {
  /** A catalog id, or DETECT_GPU; none on the separator. */
  gpuId?: string;
}

export function gpuItems(trusted: boolean): GpuItem[] {
  const detect: GpuItem = {
    label: '$(search) Detect with tunelab_runner doctor…',
    description: trusted
      ? 'runs Python on this machine and picks the GPU it reports'
      : 'disabled: it runs Python, and this workspace is not trusted',
    gpuId: DETECT_GPU,
  };
  const catalog = listGpus().map((gpu): GpuItem => ({
    label: gpu.id,
    description: `${gpu.name} · ${Math.round(gpu.memoryBytes / 2 ** 30)} GB`,
    gpuId: gpu.id,
  }));
  return [detect, { label: 'catalog', kind: vscode.QuickPickItemKind.Separator }, ...catalog];
}

export const RECOMMENDED = 'recommended';

export interface MethodItem extends vscode.QuickPickItem {
  method: Method | typeof RECOMMENDED;
}

export function methodItems(variants: readonly TemplateVariant[], gpuId: string): MethodItem[] {
  return [
    {
      label: 'Recommended (from the estimate)',
      description: `the method that fits ${gpuId} and suits the template's data`,
      method: RECOMMENDED,
    },
    ...variants.map((variant): MethodItem => ({
      label: METHOD_LABELS[variant.method],
      description: METHOD_DESCRIPTIONS[variant.method],
      method: variant.method,
    })),
  ];
}

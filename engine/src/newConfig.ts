// The pure half of "new config": the text of a config made from a template,
// adapted to the chosen base model, GPU and method, and the method the
// estimate recommends. Reading the templates folder and writing the files is
// launch/src/newConfig.ts; `tunelab new` and the editor's wizard share both.

import { chainEdits, setKey, applyTextEdits } from './edits';
import { analyze } from './engine';
import type { GpuSpec } from './hardware/types';
import type { ChatTemplateFamily, ModelArchitecture } from './models/types';
import type { Method } from './plan';
import { valueAt } from './parse';
import { recommendationFor } from './report/estimateReport';

/** Template names the runner knows for each chat family (none: the tokenizer's own). */
const TEMPLATE_FOR_FAMILY: Partial<Record<ChatTemplateFamily, string>> = {
  'llama-3': 'llama-3',
  chatml: 'chatml',
  mistral: 'mistral',
  gemma: 'gemma',
  'phi-3': 'phi-3',
};

export interface TemplateTarget {
  model?: ModelArchitecture;
  gpu?: GpuSpec;
  numGpus?: number;
}

/** The method the estimate recommends for a template's config on this model and GPU. */
export function recommendMethod(
  templateText: string,
  templateFile: string,
  target: TemplateTarget,
): { method: Method; reason: string } {
  const base = analyze(templateText, templateFile);
  const recommendation = recommendationFor(base, {
    model: target.model,
    gpu: target.gpu,
    numGpus: target.numGpus ?? 1,
  });
  return {
    method: recommendation?.method ?? 'lora',
    reason: recommendation?.reason ?? 'LoRA is the default when the GPU is not known',
  };
}

/** A template's text set to the model and GPU, then fitted to the GPU's memory. */
export function adaptTemplate(text: string, fileName: string, target: TemplateTarget): string {
  const { model, gpu, numGpus } = target;
  const steps: Parameters<typeof chainEdits>[1] = [];
  if (model) {
    steps.push((p) => setKey(p, ['model'], 'name_or_path', model.id));
    const chatTemplate = TEMPLATE_FOR_FAMILY[model.chatTemplate];
    steps.push((p) =>
      valueAt(p.value, ['data', 'chat_template']) !== undefined || model.kind === 'base'
        ? setKey(p, ['data'], 'chat_template', chatTemplate ?? 'model')
        : [],
    );
  }
  if (gpu) steps.push((p) => setKey(p, ['hardware'], 'gpu', gpu.id));
  if (numGpus && numGpus > 1)
    steps.push((p) => setKey(p, ['hardware'], 'num_gpus', String(numGpus)));
  return fitToGpu(applyTextEdits(text, chainEdits(text, steps)), fileName);
}

/** Applies the memory quick fix (smaller micro-batch, checkpointing...) until the run fits. */
function fitToGpu(text: string, fileName: string): string {
  let current = text;
  for (let attempt = 0; attempt < 3; attempt++) {
    const tooBig = analyze(current, fileName).findings.find((f) => f.code === 'memory-exceeds-gpu');
    const fix = tooBig?.fixes?.[0];
    if (!fix) break;
    current = applyTextEdits(current, fix.edits);
  }
  return current;
}

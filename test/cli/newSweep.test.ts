// Every template × every catalog GPU × every method: what `new` writes lints
// clean (no error, no warning), its comments agree with the values beside
// them, and the figure it quotes is the estimate of the text it writes. A
// combination that cannot fit is refused with a message naming what fits.
// In-process (no CLI per combination) to stay fast on CI's two cores.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { analyze } from '../../engine/src/engine';
import { formatGiB } from '../../engine/src/estimate/index';
import { listGpus } from '../../engine/src/hardware/gpus';
import { findCatalogModel } from '../../engine/src/models/catalog';
import { chooseTemplateConfig, type TemplateSource } from '../../engine/src/newConfig';
import { valueAt } from '../../engine/src/parse';
import type { Method } from '../../engine/src/plan';

const TEMPLATES = path.resolve(__dirname, '..', '..', 'templates');

function variantsOf(template: string): TemplateSource[] {
  const dir = path.join(TEMPLATES, template);
  return fs
    .readdirSync(dir)
    .map((f) => /^(full|lora|qlora)\.finetune\.yaml$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({
      method: m[1] as Method,
      fileName: path.join(dir, m[0]),
      text: fs.readFileSync(path.join(dir, m[0]), 'utf8'),
    }));
}

/** Comments that restate a value must restate the value that is there. */
export function commentProblems(text: string): string[] {
  const parsed = analyze(text, 'x.finetune.yaml');
  const value = (...p: string[]) => valueAt(parsed.parsed?.value, p);
  const problems: string[] = [];
  const modelId = String(value('model', 'name_or_path'));
  const gpu = parsed.gpu;
  for (const [i, line] of text.split('\n').entries()) {
    const comment = /\s#\s(.*)$/.exec(line)?.[1] ?? (/^#\s(.*)$/.exec(line)?.[1] || '');
    if (!comment) continue;
    const where = `line ${i + 1}: ${line.trim()}`;
    for (const size of comment.match(/\b\d+(\.\d+)?B\b/g) ?? [])
      if (!modelId.includes(size)) problems.push(`${where}: ${size} is not ${modelId}`);
    for (const gb of comment.match(/\b\d+ GB\b/g) ?? [])
      if (!gpu || !gpu.id.includes(gb.replace(' ', '')))
        problems.push(`${where}: ${gb} is not ${gpu?.id}`);
    for (const family of ['Llama', 'Qwen', 'Mistral', 'Gemma', 'Phi'])
      if (comment.includes(family) && !modelId.toLowerCase().includes(family.toLowerCase()))
        problems.push(`${where}: ${family} is not ${modelId}`);
    const product = /(\d+) × (\d+) = (\d+)/.exec(comment);
    if (product && /batch|accum/.test(line)) problems.push(`${where}: restates batch numbers`);
    const key = /^\s*([a-z_0-9]+):\s*([^#]*?)\s*(#|$)/.exec(line);
    if (key?.[1] === 'chat_template' && !comment.includes(key[2]) && !/tokenizer/.test(comment))
      problems.push(`${where}: comment names another chat template`);
    if (key && /^(fp16|bf16|dtype|bnb_4bit_compute_dtype)$/.test(key[1])) {
      const half =
        (key[2].includes('float16') && !key[2].includes('bfloat16')) || key[1] === 'fp16';
      if (half && /\bbf16\b|bfloat16 mixed/.test(comment) && !/no bfloat16/.test(comment))
        problems.push(`${where}: says bf16 beside fp16`);
      if (key[1] === 'bf16' && key[2] === 'true' && /fp16/.test(comment))
        problems.push(`${where}: says fp16 beside bf16`);
    }
  }
  return problems;
}

const MODELS = [undefined, 'meta-llama/Llama-3.2-1B', 'Qwen/Qwen2.5-7B'];

test('new: every template × catalog GPU × method writes a lint-clean, consistent config or refuses clearly', () => {
  const templates = fs
    .readdirSync(TEMPLATES)
    .filter((t) => fs.statSync(path.join(TEMPLATES, t)).isDirectory());
  let written = 0;
  let refused = 0;
  for (const template of templates) {
    const variants = variantsOf(template);
    for (const gpu of listGpus()) {
      for (const method of [undefined, ...variants.map((v) => v.method)]) {
        for (const modelId of method === undefined ? MODELS : [undefined]) {
          const model = modelId ? findCatalogModel(modelId) : undefined;
          const label = `${template} ${method ?? '(recommended)'} ${modelId ?? ''} on ${gpu.id}`;
          const choice = chooseTemplateConfig(variants, { gpu, model }, method);
          if (!choice.ok) {
            refused++;
            assert.match(
              choice.message,
              /--method (full|lora|qlora)|no method of this template fits/,
              label,
            );
            assert.match(choice.message, new RegExp(gpu.id), label);
            continue;
          }
          written++;
          const variant = variants.find((v) => v.method === choice.method)!;
          const analysis = analyze(choice.text, variant.fileName);
          const bad = analysis.findings.filter(
            (f) => f.severity === 'error' || f.severity === 'warning',
          );
          assert.deepEqual(
            bad.map((f) => `${f.code}: ${f.message}`),
            [],
            `${label}\n${choice.text}`,
          );
          assert.deepEqual(commentProblems(choice.text), [], label);
          if (model) assert.equal(analysis.model?.id, model.id, label);
          // The reason's figure for the chosen method is the written config's estimate.
          if (choice.reason && analysis.estimate) {
            const figure = formatGiB(analysis.estimate.perGpuBytes);
            assert.ok(choice.reason.includes(figure), `${label}: ${choice.reason} vs ${figure}`);
          }
        }
      }
    }
  }
  assert.ok(written > 0 && refused >= 0);
});

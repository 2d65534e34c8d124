import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyze } from '../engine';
import { textAt } from '../rules/testing';
import { toNativeConfig } from './convert';
import { fromNativeConfig } from './fromNative';

const AXOLOTL = `base_model: meta-llama/Llama-3.2-1B
adapter: lora
lora_r: 8
lora_alpha: 16
micro_batch_size: 2
gradient_accumulation_steps: 4
datasets:
  - path: data/train.jsonl
    type: chat_template
do_causal_lm_eval: true
eval_causal_lm_metrics: [sacrebleu, comet, chrf]
eval_max_new_tokens: 64
`;

test('Axolotl do_causal_lm_eval maps onto evaluation.task with its metrics and greedy generation', () => {
  const analysis = analyze(AXOLOTL + 'val_set_size: 0.05\n', '/virtual/run.yml');
  assert.equal(analysis.dialect, 'axolotl');
  assert.deepEqual(analysis.view?.value.evaluation, {
    task: { metrics: ['bleu', 'chrf'] },
    generation: { max_new_tokens: 64, do_sample: false },
  });
  assert.deepEqual(analysis.plan?.evaluation?.task?.metrics, ['bleu', 'chrf']);
  assert.ok(!analysis.findings.some((f) => f.code === 'evaluation-task-no-eval-file'));
  // Axolotl's default metric list when none is written.
  const defaults = analyze(AXOLOTL.replace(/eval_causal_lm_metrics.*\n/, ''), '/virtual/run.yml');
  assert.deepEqual(defaults.plan?.evaluation?.task?.metrics, ['bleu', 'chrf']);
  // Without do_causal_lm_eval nothing is evaluated.
  const off = analyze(
    AXOLOTL.replace('do_causal_lm_eval: true', 'do_causal_lm_eval: false'),
    '/virtual/run.yml',
  );
  assert.equal(off.plan?.evaluation, undefined);
});

test('Axolotl generation metrics without an eval split: the error lands on do_causal_lm_eval', () => {
  const analysis = analyze(AXOLOTL, '/virtual/run.yml');
  const hit = analysis.findings.find((f) => f.code === 'evaluation-task-no-eval-file');
  assert.ok(hit, analysis.findings.map((f) => f.code).join(', '));
  assert.equal(textAt(AXOLOTL, hit.range), 'do_causal_lm_eval');
  assert.match(hit.message, /`val_set_size: 0\.05`/);
  // The warning about the missing split stays quiet: the error says it.
  assert.ok(!analysis.findings.some((f) => f.code === 'eval-split-missing'));
});

test('converting Axolotl: evaluation is written, unmapped metrics and W&B-only keys are named', () => {
  const analysis = analyze(
    AXOLOTL + 'val_set_size: 0.05\neval_table_size: 5\ndo_bench_eval: true\n',
    '/virtual/run.yml',
  );
  const conversion = toNativeConfig(analysis)!;
  assert.match(conversion.text, /\nevaluation:\n {2}task:\n {4}metrics:\n {6}- bleu\n {6}- chrf\n/);
  assert.match(conversion.text, /max_new_tokens: 64/);
  assert.ok(
    conversion.changed.some((c) => /comet: no Tunelab metric/.test(c)),
    conversion.changed.join('\n'),
  );
  for (const key of ['eval_table_size', 'do_bench_eval'])
    assert.ok(conversion.dropped.includes(key), key);
  for (const key of ['do_causal_lm_eval', 'eval_causal_lm_metrics', 'eval_max_new_tokens'])
    assert.ok(!conversion.dropped.includes(key), key);
});

const LLAMAFACTORY_PREDICT = `model_name_or_path: meta-llama/Llama-3.2-1B
adapter_name_or_path: saves/llama3-1b/lora/sft
stage: sft
do_predict: true
finetuning_type: lora
eval_dataset: identity
template: llama3
predict_with_generate: true
top_p: 0.9
`;

test('a LLaMA-Factory prediction run maps onto an on-demand evaluation with its generation defaults', () => {
  const analysis = analyze(LLAMAFACTORY_PREDICT, '/virtual/predict.yaml');
  assert.equal(analysis.dialect, 'llamafactory');
  assert.deepEqual(analysis.view?.value.evaluation, {
    when: 'on_demand',
    task: { metrics: ['bleu', 'rouge_l'] },
    generation: {
      max_new_tokens: 1024,
      do_sample: true,
      temperature: 0.95,
      top_p: 0.9,
      top_k: 50,
      num_beams: 1,
      repetition_penalty: 1,
      length_penalty: 1,
    },
  });
  assert.ok(!analysis.findings.some((f) => f.code.startsWith('evaluation-')));
  const conversion = toNativeConfig(analysis)!;
  for (const key of ['do_predict', 'predict_with_generate', 'top_p'])
    assert.ok(!conversion.dropped.includes(key), key);
  // Without predict_with_generate there is no generation to score.
  const plain = analyze(
    LLAMAFACTORY_PREDICT.replace('predict_with_generate: true\n', ''),
    '/virtual/p.yaml',
  );
  assert.equal(plain.view?.value.evaluation, undefined);
});

test('a native evaluation section has no equivalent in the tools: converting drops it by name', () => {
  const text = `method: lora
model:
  name_or_path: meta-llama/Llama-3.2-1B
lora:
  r: 8
  lora_alpha: 16
data:
  train_file: data/train.jsonl
evaluation:
  forgetting: { file: data/general.jsonl }
`;
  const analysis = analyze(text, '/virtual/run.finetune.yaml');
  const conversion = fromNativeConfig(analysis, 'axolotl')!;
  assert.ok(conversion.dropped.includes('evaluation'), conversion.dropped.join(', '));
  assert.equal(conversion.lossless, false);
});

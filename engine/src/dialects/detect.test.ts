import assert from 'node:assert/strict';
import { test } from 'node:test';
import { detectDialect, mightBeConfig } from '../dialect';
import { analyze } from '../engine';
import { parseYaml } from '../parse';
import { detectFromContent, readModeline } from './detect';

const detect = (yaml: string, fileName = '/x/cfg.yaml') =>
  detectDialect(fileName, parseYaml(yaml).value, yaml);

test('Axolotl: base_model with adapter, datasets or micro_batch_size', () => {
  assert.equal(detect('base_model: x\nadapter: lora\n'), 'axolotl');
  assert.equal(detect('base_model: x\ndatasets:\n  - path: a\n'), 'axolotl');
  assert.equal(detect('base_model: x\nmicro_batch_size: 2\n'), 'axolotl');
  assert.equal(detect('base_model: x\n'), null);
});

test('LLaMA-Factory: model_name_or_path with stage and finetuning_type', () => {
  assert.equal(
    detect('model_name_or_path: x\nstage: sft\nfinetuning_type: lora\n'),
    'llamafactory',
  );
  assert.equal(detect('model_name_or_path: x\nstage: sft\n'), null);
});

test('TRL: model_name_or_path with dataset_name, use_peft or SFTConfig keys', () => {
  assert.equal(detect('model_name_or_path: x\ndataset_name: y\n'), 'trl');
  assert.equal(detect('model_name_or_path: x\nuse_peft: true\n'), 'trl');
  assert.equal(detect('model_name_or_path: x\nmax_length: 2048\n'), 'trl');
  assert.equal(detect('model_name_or_path: x\ndatasets:\n  - path: json\n'), 'trl');
  // LLaMA-Factory's keys win over TRL's: both tools have `packing`.
  assert.equal(
    detect('model_name_or_path: x\nstage: sft\nfinetuning_type: full\npacking: true\n'),
    'llamafactory',
  );
});

test('other YAML stays silent', () => {
  assert.equal(detect('apiVersion: v1\nkind: Pod\n'), null);
  assert.equal(detect('model_name_or_path: x\n'), null);
  assert.equal(detectFromContent(['base_model']), undefined);
});

test('a modeline overrides the content and the file name', () => {
  assert.equal(detect('# tunelab: dialect=trl\nbase_model: x\nadapter: lora\n'), 'trl');
  assert.equal(detect('base_model: x\n# tunelab: dialect=llama-factory\n'), 'llamafactory');
  assert.equal(
    detect('# tunelab: dialect=axolotl\nmethod: lora\n', '/x/a.finetune.yaml'),
    'axolotl',
  );
  assert.deepEqual(readModeline('#tunelab: dialect=axolotl gpu=H100-80GB num_gpus=2'), {
    dialect: 'axolotl',
    gpu: 'H100-80GB',
    numGpus: 2,
  });
  assert.deepEqual(readModeline('# tunelab: dialect=unsloth'), { unknownDialect: 'unsloth' });
});

test('the setting overrides everything; the native rules still win without one', () => {
  assert.equal(detectDialect('/x/a.yaml', {}, '', 'trl'), 'trl');
  assert.equal(detect('method: lora\nmodel: { name_or_path: x }\n'), 'native');
  const analysis = analyze('foo: 1\n', '/x/plain.yaml', { dialect: 'axolotl' });
  assert.equal(analysis.dialect, 'axolotl');
  assert.ok(analysis.findings.some((f) => f.code === 'schema-required'));
});

test('the pre-check lets the other tools through and nothing else', () => {
  assert.equal(mightBeConfig('a.yml', 'base_model: x\n'), true);
  assert.equal(mightBeConfig('a.yml', 'model_name_or_path: x\n'), true);
  assert.equal(mightBeConfig('a.yml', '# tunelab: dialect=trl\n'), true);
  assert.equal(mightBeConfig('a.yml', 'jobs:\n  base_model: x\n'), false);
  assert.equal(analyze('jobs:\n  build: {}\n', '/x/ci.yml').dialect, null);
});

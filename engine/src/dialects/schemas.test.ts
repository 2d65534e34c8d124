import assert from 'node:assert/strict';
import { test } from 'node:test';
import Ajv from 'ajv';
import { keysAt } from '../schema/schemaTree';
import { DIALECT_RENAMED_KEYS } from './renamed';
import { DIALECT_KEY_ALIASES, schemaFor } from './schemas';

const DIALECTS = ['axolotl', 'llamafactory', 'trl'] as const;

test('each schema compiles, says which release it describes and rejects unknown keys', () => {
  for (const dialect of DIALECTS) {
    const schema = schemaFor(dialect);
    assert.doesNotThrow(() => new Ajv({ allErrors: true, strict: false }).compile(schema));
    assert.match(String(schema.$comment), /Axolotl|LLaMA-Factory|TRL 1\.13/);
    assert.equal(schema.additionalProperties, false);
    const entries = Object.values(schema.properties ?? {});
    const documented = entries.filter((sub) => sub.description).length;
    assert.ok(documented / entries.length > 0.8, `${dialect}: ${documented}/${entries.length}`);
  }
  assert.ok(keysAt([], schemaFor('axolotl')).length > 300);
  assert.ok(keysAt([], schemaFor('llamafactory')).length > 300);
  assert.ok(keysAt([], schemaFor('trl')).length > 150);
});

test('the keys the views read exist in the schemas', () => {
  const has = (dialect: (typeof DIALECTS)[number], ...keys: string[]) => {
    const known = new Set(keysAt([], schemaFor(dialect)));
    for (const key of keys) assert.ok(known.has(key), `${dialect}: ${key}`);
  };
  has(
    'axolotl',
    'base_model',
    'adapter',
    'load_in_4bit',
    'lora_r',
    'lora_alpha',
    'lora_target_linear',
  );
  has('axolotl', 'sequence_len', 'sample_packing', 'micro_batch_size', 'num_epochs', 'optimizer');
  has('axolotl', 'chat_template', 'datasets', 'attn_implementation', 'deepspeed', 'fsdp_config');
  has('llamafactory', 'model_name_or_path', 'finetuning_type', 'quantization_bit', 'lora_rank');
  has('llamafactory', 'lora_target', 'cutoff_len', 'template', 'disable_gradient_checkpointing');
  has('llamafactory', 'warmup_ratio', 'per_device_train_batch_size', 'max_length', 'flash_attn');
  has('trl', 'model_name_or_path', 'use_peft', 'lora_r', 'lora_target_modules', 'max_length');
  has('trl', 'dtype', 'load_in_4bit', 'use_bnb_nested_quant', 'dataset_name', 'datasets', 'env');
  has('trl', 'per_device_train_batch_size', 'gradient_checkpointing', 'warmup_steps', 'optim');
});

test('renamed keys: old names are not in the schema, new names are', () => {
  for (const dialect of DIALECTS) {
    const known = new Set(keysAt([], schemaFor(dialect)));
    for (const r of DIALECT_RENAMED_KEYS[dialect]) {
      assert.ok(!known.has(r.old), `${dialect}: ${r.old} must not be a schema key`);
      assert.ok(known.has(r.new), `${dialect}: ${r.new} must be a schema key`);
    }
  }
});

test('did-you-mean aliases point at keys of the schema and never at themselves', () => {
  for (const dialect of DIALECTS) {
    const known = new Set(keysAt([], schemaFor(dialect)));
    for (const [alias, target] of Object.entries(DIALECT_KEY_ALIASES[dialect])) {
      assert.ok(known.has(target), `${dialect}: ${alias} → ${target}`);
      assert.ok(!known.has(alias), `${dialect}: ${alias} is a real key`);
    }
  }
});

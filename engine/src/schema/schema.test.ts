// Checks of schemas/finetune.schema.json (the native config format) and
// schemas/renamed-keys.json (keys the Hugging Face stack renamed or removed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv, { type ErrorObject } from 'ajv';
import { parse } from 'yaml';
import schemaJson from '../../../schemas/finetune.schema.json';
import renamedJson from '../../../schemas/renamed-keys.json';

interface SchemaNode {
  type?: string;
  description?: string;
  properties?: Record<string, SchemaNode>;
  additionalProperties?: boolean | SchemaNode;
  items?: SchemaNode;
  anyOf?: SchemaNode[];
  required?: string[];
  default?: unknown;
}

interface RenamedKey {
  section: string;
  old: string;
  new: string;
  newValue?: unknown;
  renamedIn: string;
  removedIn: string | null;
  note: string;
}

type Config = Record<string, unknown>;

const schema = schemaJson as unknown as SchemaNode;
const renamed = renamedJson as unknown as RenamedKey[];

// `../shared` next to the project root holds the specs (see shared/README.md).
const configSpec = path.resolve(__dirname, '../../../../shared/spec/config.md');

// Objects that are keyword arguments handed through to a library as they are:
// their known keys are described, other keys are allowed.
const PASSTHROUGH = new Set([
  '/properties/prepare_model_for_kbit_training/anyOf/1/properties/gradient_checkpointing_kwargs',
  '/properties/training/properties/gradient_checkpointing_kwargs',
  '/properties/training/properties/fsdp_config/anyOf/1',
  '/properties/training/properties/accelerator_config/anyOf/1',
  // GenerationConfig(**generation): any of its many arguments.
  '/properties/evaluation/properties/generation',
]);

function newAjv(): Ajv {
  return new Ajv({ allErrors: true, strict: true });
}

/** Every subschema with its JSON pointer. */
function* walk(node: SchemaNode, pointer = ''): Generator<[string, SchemaNode]> {
  yield [pointer, node];
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    yield* walk(child, `${pointer}/properties/${key}`);
  }
  for (const [i, child] of (node.anyOf ?? []).entries()) {
    yield* walk(child, `${pointer}/anyOf/${i}`);
  }
  if (node.items) yield* walk(node.items, `${pointer}/items`);
  if (typeof node.additionalProperties === 'object') {
    yield* walk(node.additionalProperties, `${pointer}/additionalProperties`);
  }
}

/** A type either on the node or on every branch of its `anyOf`. */
function hasType(node: SchemaNode): boolean {
  if (typeof node.type === 'string') return true;
  return Array.isArray(node.anyOf) && node.anyOf.length > 0 && node.anyOf.every(hasType);
}

function exampleConfig(): Config {
  const markdown = readFileSync(configSpec, 'utf8');
  const block = /```yaml\n([\s\S]*?)```/.exec(markdown);
  assert.ok(block, `no yaml block in ${configSpec}`);
  return parse(block[1]) as Config;
}

/** Removes renamed keys (reported by the deprecated-key / removed-key rules, never by the schema). */
function setAsideRenamedKeys(config: Config): string[] {
  const removed: string[] = [];
  for (const entry of renamed) {
    const section = config[entry.section] as Config | undefined;
    if (section && typeof section === 'object' && entry.old in section) {
      delete section[entry.old];
      removed.push(`${entry.section}.${entry.old}`);
    }
  }
  return removed;
}

let validateConfig: ReturnType<Ajv['compile']> | undefined;

function errorsOf(config: Config): ErrorObject[] {
  validateConfig ??= newAjv().compile(schema);
  return validateConfig(config) ? [] : [...(validateConfig.errors ?? [])];
}

function minimal(extra: Config = {}): Config {
  return { method: 'lora', model: { name_or_path: 'meta-llama/Meta-Llama-3-8B' }, ...extra };
}

test('the schema compiles with Ajv in strict mode', () => {
  assert.doesNotThrow(() => newAjv().compile(schema));
});

test('the full example config of config.md validates, once renamed keys are set aside', () => {
  const config = exampleConfig();
  const setAside = setAsideRenamedKeys(config);
  assert.deepEqual(
    errorsOf(config),
    [],
    `renamed keys set aside: ${setAside.join(', ') || 'none'}`,
  );
});

test('every property at every level has a description and a type', () => {
  let count = 0;
  for (const [pointer, node] of walk(schema)) {
    for (const [key, property] of Object.entries(node.properties ?? {})) {
      count++;
      const where = `${pointer}/properties/${key}`;
      assert.ok(
        typeof property.description === 'string' && property.description.trim().length > 0,
        `${where} has no description`,
      );
      assert.ok(hasType(property), `${where} has no type`);
    }
  }
  assert.ok(count > 150, `only ${count} properties`);
});

test('objects with known keys are closed, except keyword arguments passed through', () => {
  for (const [pointer, node] of walk(schema)) {
    if (!node.properties) continue;
    if (PASSTHROUGH.has(pointer)) {
      assert.notEqual(node.additionalProperties, false, `${pointer} should stay open`);
    } else {
      assert.equal(node.additionalProperties, false, `${pointer} does not report unknown keys`);
    }
  }
});

test('every default is valid against its own property schema', () => {
  const ajv = newAjv();
  for (const [pointer, node] of walk(schema)) {
    for (const [key, property] of Object.entries(node.properties ?? {})) {
      if (!('default' in property)) continue;
      const valid = ajv.validate(property, property.default);
      assert.ok(valid, `${pointer}/properties/${key}: default ${JSON.stringify(property.default)}`);
    }
  }
});

test('wrong values fail where they are', () => {
  const cases: [Config, string, string][] = [
    [{ ...minimal(), method: 'foo' }, '/method', 'enum'],
    [minimal({ lora: { r: -1 } }), '/lora/r', 'minimum'],
    [minimal({ training: { learning_rate: 'high' } }), '/training/learning_rate', 'type'],
    [minimal({ training: { optim: 'adamw_hf' } }), '/training/optim', 'enum'],
    [minimal({ launch: { secrets: ['hf_token'] } }), '/launch/secrets/0', 'pattern'],
    [{ method: 'lora', model: {} }, '/model', 'required'],
  ];
  assert.deepEqual(errorsOf(minimal()), []);
  for (const [config, instancePath, keyword] of cases) {
    const errors = errorsOf(config);
    assert.ok(
      errors.some((e) => e.instancePath === instancePath && e.keyword === keyword),
      `${instancePath} ${keyword}: ${JSON.stringify(errors)}`,
    );
  }
});

test('unknown keys are reported with their name', () => {
  const errors = errorsOf(minimal({ lora: { lora_rank: 16 } }));
  assert.ok(
    errors.some(
      (e) =>
        e.instancePath === '/lora' &&
        e.keyword === 'additionalProperties' &&
        e.params.additionalProperty === 'lora_rank',
    ),
    JSON.stringify(errors),
  );
});

test('renamed keys: old names are not in the schema, new names are', () => {
  const ajv = newAjv();
  for (const entry of renamed) {
    const keys = schema.properties?.[entry.section]?.properties;
    assert.ok(keys, `unknown section ${entry.section}`);
    assert.ok(!(entry.old in keys), `${entry.section}.${entry.old} is in the schema`);
    const property = keys[entry.new];
    assert.ok(property, `${entry.section}.${entry.new} is not in the schema`);
    if ('newValue' in entry) {
      assert.ok(ajv.validate(property, entry.newValue), `${entry.old}: newValue does not fit`);
    }
  }
});

test('renamed keys: entries are well formed and unique', () => {
  const version = /^(transformers|trl|peft) \d+\.\d+(\.\d+)?$/;
  const seen = new Set<string>();
  for (const entry of renamed) {
    const id = `${entry.section}.${entry.old}`;
    assert.ok(!seen.has(id), `${id} listed twice`);
    seen.add(id);
    assert.ok(version.test(entry.renamedIn), `${id}: bad renamedIn ${entry.renamedIn}`);
    assert.ok(
      entry.removedIn === null || version.test(entry.removedIn),
      `${id}: bad removedIn ${entry.removedIn}`,
    );
    assert.ok(entry.note.length > 20, `${id}: note too short`);
  }
});

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { detectChatTemplateFamily } from './configJson';
import { clearModelFileCache, resolveModel } from './resolve';

// config.json of Qwen/Qwen2.5-0.5B (the keys that matter).
const QWEN_0_5B_CONFIG = {
  architectures: ['Qwen2ForCausalLM'],
  model_type: 'qwen2',
  hidden_size: 896,
  num_hidden_layers: 24,
  num_attention_heads: 14,
  num_key_value_heads: 2,
  intermediate_size: 4864,
  vocab_size: 151936,
  tie_word_embeddings: true,
};
const CHATML_TEMPLATE =
  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n'}}{% endfor %}";

let root: string;

function writeModelDir(name: string, files: Record<string, unknown>): string {
  const dir = path.join(root, name);
  fs.mkdirSync(dir, { recursive: true });
  for (const [file, content] of Object.entries(files)) {
    fs.writeFileSync(
      path.join(dir, file),
      typeof content === 'string' ? content : JSON.stringify(content),
    );
  }
  return dir;
}

before(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'tunelab-resolve-'));
});
after(() => {
  fs.rmSync(root, { recursive: true, force: true });
});
beforeEach(() => clearModelFileCache());

describe('resolveModel: local directory', () => {
  it('reads config.json and the tokenizer chat template', () => {
    const dir = writeModelDir('qwen-sft-instruct', {
      'config.json': QWEN_0_5B_CONFIG,
      'tokenizer_config.json': { chat_template: CHATML_TEMPLATE },
    });
    const { model, error } = resolveModel({ nameOrPath: dir, configDir: '/elsewhere' });
    assert.equal(error, undefined);
    assert.ok(model);
    assert.equal(model.id, dir);
    assert.equal(model.source, 'config.json');
    assert.equal(model.family, 'qwen2');
    assert.equal(model.headDim, 64);
    assert.equal(model.paramsTotal, 494032768);
    assert.equal(model.chatTemplate, 'chatml');
    assert.equal(model.kind, 'instruct');
    assert.ok(model.linearModules.includes('gate_proj'));
  });

  it('resolves a relative path against the config directory', () => {
    writeModelDir('models/plain', { 'config.json': QWEN_0_5B_CONFIG });
    const { model } = resolveModel({ nameOrPath: './models/plain', configDir: root });
    assert.equal(model?.id, path.join(root, 'models/plain'));
    assert.equal(model?.kind, 'base', 'no chat template: base');
  });

  it('calls a model with a template but a neutral name base', () => {
    const dir = writeModelDir('checkpoint-500', {
      'config.json': QWEN_0_5B_CONFIG,
      'tokenizer_config.json': { chat_template: CHATML_TEMPLATE },
    });
    assert.equal(resolveModel({ nameOrPath: dir, configDir: root }).model?.kind, 'base');
  });

  it('reads chat_template.jinja and named template lists', () => {
    const jinja = writeModelDir('llama-chat', {
      'config.json': { ...QWEN_0_5B_CONFIG, model_type: 'llama', tie_word_embeddings: false },
      'tokenizer_config.json': {},
      'chat_template.jinja': '<|start_header_id|>user<|end_header_id|>',
    });
    assert.equal(
      resolveModel({ nameOrPath: jinja, configDir: root }).model?.chatTemplate,
      'llama-3',
    );
    const listed = writeModelDir('gemma-it', {
      'config.json': { ...QWEN_0_5B_CONFIG, model_type: 'llama' },
      'tokenizer_config.json': {
        chat_template: [
          { name: 'tool_use', template: '<|im_start|>' },
          { name: 'default', template: '<start_of_turn>user' },
        ],
      },
    });
    const { model } = resolveModel({ nameOrPath: listed, configDir: root });
    assert.equal(model?.chatTemplate, 'gemma');
    assert.equal(model?.kind, 'instruct');
  });

  it('completes a sparse Gemma 3 text_config from the catalog', () => {
    const dir = writeModelDir('g3', {
      'config.json': {
        model_type: 'gemma3',
        text_config: {
          model_type: 'gemma3_text',
          hidden_size: 2560,
          intermediate_size: 10240,
          num_hidden_layers: 34,
        },
        vision_config: { hidden_size: 1152 },
      },
    });
    const { model, error } = resolveModel({ nameOrPath: dir, configDir: root });
    assert.equal(error, undefined);
    assert.equal(model?.family, 'gemma3');
    assert.equal(model?.numAttentionHeads, 8);
    assert.equal(model?.headDim, 256);
    assert.equal(model?.vocabSize, 262208);
    assert.equal(model?.tiedEmbeddings, true);
  });

  it('reads MoE expert counts under both spellings', () => {
    const mixtral = writeModelDir('mixtral', {
      'config.json': {
        model_type: 'mixtral',
        hidden_size: 4096,
        num_hidden_layers: 32,
        num_attention_heads: 32,
        num_key_value_heads: 8,
        intermediate_size: 14336,
        vocab_size: 32000,
        num_local_experts: 8,
        num_experts_per_tok: 2,
        tie_word_embeddings: false,
      },
    });
    const mixtralModel = resolveModel({ nameOrPath: mixtral, configDir: root }).model;
    assert.equal(mixtralModel?.numExperts, 8);
    assert.equal(mixtralModel?.paramsTotal, 46702792704);
    const qwenMoe = writeModelDir('qwen-moe', {
      'config.json': {
        model_type: 'qwen3_moe',
        hidden_size: 2048,
        num_hidden_layers: 48,
        num_attention_heads: 32,
        num_key_value_heads: 4,
        head_dim: 128,
        intermediate_size: 6144,
        moe_intermediate_size: 768,
        num_experts: 128,
        num_experts_per_tok: 8,
        vocab_size: 151936,
        tie_word_embeddings: false,
      },
    });
    assert.equal(
      resolveModel({ nameOrPath: qwenMoe, configDir: root }).model?.paramsTotal,
      30532122624,
    );
  });

  it('reports malformed config.json without throwing', () => {
    const dir = writeModelDir('broken', { 'config.json': '{"hidden_size": 896,' });
    const result = resolveModel({ nameOrPath: dir, configDir: root });
    assert.equal(result.model, undefined);
    assert.match(result.error ?? '', /config\.json is not valid JSON/);
  });

  it('keeps the model when only tokenizer_config.json is malformed', () => {
    const dir = writeModelDir('broken-tokenizer', {
      'config.json': QWEN_0_5B_CONFIG,
      'tokenizer_config.json': '{chat_template',
    });
    const result = resolveModel({ nameOrPath: dir, configDir: root });
    assert.equal(result.model?.paramsTotal, 494032768);
    assert.match(result.error ?? '', /tokenizer_config\.json is not valid JSON/);
  });

  it('names missing and malformed keys', () => {
    const missing = writeModelDir('missing', {
      'config.json': { model_type: 'exotic', hidden_size: 64 },
    });
    assert.match(
      resolveModel({ nameOrPath: missing, configDir: root }).error ?? '',
      /missing num_hidden_layers/,
    );
    const wrongType = writeModelDir('wrong', {
      'config.json': { ...QWEN_0_5B_CONFIG, hidden_size: '896' },
    });
    assert.match(
      resolveModel({ nameOrPath: wrongType, configDir: root }).error ?? '',
      /hidden_size must be/,
    );
    const noConfig = writeModelDir('empty', {});
    assert.match(
      resolveModel({ nameOrPath: noConfig, configDir: root }).error ?? '',
      /has no config\.json/,
    );
  });

  it('sees a rewritten config.json', () => {
    const dir = writeModelDir('changing', { 'config.json': QWEN_0_5B_CONFIG });
    assert.equal(resolveModel({ nameOrPath: dir, configDir: root }).model?.numLayers, 24);
    fs.writeFileSync(
      path.join(dir, 'config.json'),
      JSON.stringify({ ...QWEN_0_5B_CONFIG, num_hidden_layers: 2 }),
    );
    assert.equal(resolveModel({ nameOrPath: dir, configDir: root }).model?.numLayers, 2);
  });
});

describe('resolveModel: catalog and override', () => {
  it('finds catalog models by Hub id', () => {
    const { model, error } = resolveModel({
      nameOrPath: 'meta-llama/Llama-3.1-8B',
      configDir: root,
    });
    assert.equal(error, undefined);
    assert.equal(model?.source, 'catalog');
    assert.equal(model?.paramsTotal, 8030261248);
  });

  it('lays model.architecture over the catalog entry', () => {
    const { model } = resolveModel({
      nameOrPath: 'Qwen/Qwen2.5-0.5B-Instruct',
      configDir: root,
      architecture: { vocab_size: 151936 + 1000 },
    });
    assert.equal(model?.source, 'config');
    assert.equal(model?.id, 'Qwen/Qwen2.5-0.5B-Instruct');
    assert.equal(model?.kind, 'instruct');
    assert.equal(model?.hiddenSize, 896);
    assert.equal(model?.paramsTotal, 494032768 + 1000 * 896);
  });

  it('lays model.architecture over a local config.json', () => {
    const dir = writeModelDir('overridden', { 'config.json': QWEN_0_5B_CONFIG });
    const { model } = resolveModel({
      nameOrPath: dir,
      configDir: root,
      architecture: { num_hidden_layers: 12 },
    });
    assert.equal(model?.numLayers, 12);
    assert.equal(model?.source, 'config');
  });

  it('builds an unknown model from model.architecture alone', () => {
    const { model, error } = resolveModel({
      nameOrPath: 'acme/tiny-llama',
      configDir: root,
      architecture: {
        model_type: 'llama',
        hidden_size: 2048,
        num_hidden_layers: 16,
        num_attention_heads: 32,
        num_key_value_heads: 8,
        intermediate_size: 8192,
        vocab_size: 128256,
        tie_word_embeddings: true,
      },
    });
    assert.equal(error, undefined);
    assert.equal(model?.paramsTotal, 1235814400, 'the Llama 3.2 1B shape');
    assert.equal(model?.headDim, 64);
  });

  it('rejects an incomplete or malformed model.architecture', () => {
    const incomplete = resolveModel({
      nameOrPath: 'acme/x',
      configDir: root,
      architecture: { hidden_size: 64 },
    });
    assert.match(incomplete.error ?? '', /^model\.architecture: missing num_hidden_layers/);
    const malformed = resolveModel({
      nameOrPath: 'Qwen/Qwen2.5-0.5B',
      configDir: root,
      architecture: { hidden_size: -1 },
    });
    assert.match(malformed.error ?? '', /hidden_size must be a non-negative integer/);
  });

  it('explains unknown names and missing directories', () => {
    assert.match(
      resolveModel({ nameOrPath: 'acme/unknown-7b', configDir: root }).error ?? '',
      /not in the built-in catalog/,
    );
    assert.match(
      resolveModel({ nameOrPath: './nowhere', configDir: root }).error ?? '',
      /model directory not found/,
    );
    assert.match(resolveModel({ configDir: root }).error ?? '', /no model given/);
  });
});

describe('detectChatTemplateFamily', () => {
  const cases: [string, string][] = [
    ['<|start_header_id|>system<|end_header_id|>', 'llama-3'],
    ['<|im_start|>user', 'chatml'],
    ['[INST] <<SYS>>\nsys\n<</SYS>> hi [/INST]', 'llama-2'],
    ['[INST] hi [/INST]', 'mistral'],
    ['<start_of_turn>user', 'gemma'],
    ['<|user|>\nhi<|end|>', 'phi-3'],
    ['<｜User｜>hi<｜Assistant｜>', 'deepseek'],
    ['{{ messages }}', 'none'],
  ];
  for (const [template, family] of cases) {
    it(`reads ${family}`, () => assert.equal(detectChatTemplateFamily(template), family));
  }
});

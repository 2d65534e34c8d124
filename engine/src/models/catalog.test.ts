import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  catalogKey,
  countLoraParameters,
  countParameters,
  findCatalogModel,
  linearModuleShapes,
  listCatalogModels,
} from './catalog';
import type { ModelArchitecture } from './types';

function model(id: string): ModelArchitecture {
  const found = findCatalogModel(id);
  assert.ok(found, `${id} is in the catalog`);
  return found;
}

// Measured on real model instances (sum of p.numel(), shared-memory-free), the
// same totals as shared/data/memory-truth*.csv.
const MEASURED_TOTALS: [string, number][] = [
  ['Qwen/Qwen2.5-0.5B', 494032768],
  ['meta-llama/Llama-3.2-1B', 1235814400],
  ['Qwen/Qwen2.5-7B', 7615616512],
  ['meta-llama/Llama-3.1-8B', 8030261248],
];

// Published parameter counts of other families, each exercising a layout
// detail: Llama 2 MHA, Mistral v0.3 vocabulary, Nemo's explicit head_dim,
// Mixtral experts, Qwen3 q/k norms, Qwen3 MoE, Gemma 2/3 four norms, Phi-3
// fused projections, SmolLM2, and the untied R1-Distill-Qwen-1.5B.
const PUBLISHED_TOTALS: [string, number][] = [
  ['meta-llama/Llama-2-7b-hf', 6738415616],
  ['meta-llama/Llama-2-70b-hf', 68976648192],
  ['meta-llama/Meta-Llama-3-70B', 70553706496],
  ['meta-llama/Llama-3.1-405B', 405853388800],
  ['meta-llama/Llama-3.2-3B', 3212749824],
  ['Qwen/Qwen2.5-3B', 3085938688],
  ['Qwen/Qwen2.5-14B', 14770033664],
  ['Qwen/Qwen2.5-72B', 72706203648],
  ['Qwen/Qwen3-8B', 8190735360],
  ['Qwen/Qwen3-32B', 32762123264],
  ['Qwen/Qwen3-30B-A3B', 30532122624],
  ['mistralai/Mistral-7B-v0.1', 7241732096],
  ['mistralai/Mistral-7B-v0.3', 7248023552],
  ['mistralai/Mistral-Nemo-Base-2407', 12247782400],
  ['mistralai/Mixtral-8x7B-v0.1', 46702792704],
  ['google/gemma-2-2b', 2614341888],
  ['google/gemma-2-9b', 9241705984],
  ['google/gemma-2-27b', 27227128320],
  ['google/gemma-3-1b-pt', 999885952],
  ['microsoft/Phi-3-mini-4k-instruct', 3821079552],
  ['microsoft/Phi-3-medium-4k-instruct', 13960238080],
  ['microsoft/phi-4', 14659507200],
  ['HuggingFaceTB/SmolLM2-135M', 134515008],
  ['HuggingFaceTB/SmolLM2-360M', 361821120],
  ['HuggingFaceTB/SmolLM2-1.7B', 1711376384],
  ['deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B', 1777088000],
];

describe('countParameters', () => {
  for (const [id, total] of MEASURED_TOTALS) {
    it(`matches the measured total of ${id}`, () => {
      assert.equal(countParameters(model(id)), total);
      assert.equal(model(id).paramsTotal, total);
    });
  }
  for (const [id, total] of PUBLISHED_TOTALS) {
    it(`matches the published total of ${id}`, () => {
      assert.equal(model(id).paramsTotal, total);
    });
  }

  it('counts the lm_head only when it is not tied', () => {
    const tied = model('Qwen/Qwen2.5-1.5B');
    const untied = { ...tied, tiedEmbeddings: false };
    assert.equal(countParameters(untied) - countParameters(tied), tied.vocabSize * tied.hiddenSize);
  });

  it('is what every catalog entry carries', () => {
    for (const entry of listCatalogModels())
      assert.equal(entry.paramsTotal, countParameters(entry), entry.id);
  });
});

describe('countLoraParameters', () => {
  const cases: [string, number, number][] = [
    ['Qwen/Qwen2.5-0.5B', 8798208, 540672],
    ['meta-llama/Llama-3.2-1B', 11272192, 851968],
    ['Qwen/Qwen2.5-7B', 40370176, 2523136],
    ['meta-llama/Llama-3.1-8B', 41943040, 3407872],
  ];
  for (const [id, allLinearR16, qvR8] of cases) {
    it(`matches peft for ${id}`, () => {
      assert.equal(countLoraParameters(model(id), 16, 'all-linear'), allLinearR16);
      assert.equal(countLoraParameters(model(id), 8, ['q_proj', 'v_proj']), qvR8);
    });
  }

  it('accepts dotted targets and ignores names the model lacks', () => {
    const llama = model('meta-llama/Llama-3.1-8B');
    const qv = countLoraParameters(llama, 8, ['q_proj', 'v_proj']);
    assert.equal(
      countLoraParameters(llama, 8, ['self_attn.q_proj', 'v_proj', 'query_key_value']),
      qv,
    );
    assert.equal(countLoraParameters(llama, 8, []), 0);
  });

  it('counts every expert of an MoE layer', () => {
    const mixtral = model('mistralai/Mixtral-8x7B-v0.1');
    // w1: 4096 → 14336 in each of 8 experts, 32 layers.
    assert.equal(countLoraParameters(mixtral, 8, ['w1']), (4096 + 14336) * 8 * 8 * 32);
  });
});

describe('linearModuleShapes', () => {
  it('gives Llama 3.1 8B its GQA shapes', () => {
    const shapes = linearModuleShapes(model('meta-llama/Llama-3.1-8B'));
    assert.deepEqual(
      shapes.map((s) => [s.name, s.inFeatures, s.outFeatures]),
      [
        ['q_proj', 4096, 4096],
        ['k_proj', 4096, 1024],
        ['v_proj', 4096, 1024],
        ['o_proj', 4096, 4096],
        ['gate_proj', 4096, 14336],
        ['up_proj', 4096, 14336],
        ['down_proj', 14336, 4096],
      ],
    );
  });

  it('gives Qwen2.5 q/k/v biases and Qwen3 none', () => {
    const qwen25 = linearModuleShapes(model('Qwen/Qwen2.5-7B'));
    assert.deepEqual(
      qwen25.filter((s) => s.bias).map((s) => s.name),
      ['q_proj', 'k_proj', 'v_proj'],
    );
    assert.equal(linearModuleShapes(model('Qwen/Qwen3-8B')).filter((s) => s.bias).length, 0);
  });

  it('fuses Phi-3 projections', () => {
    const shapes = linearModuleShapes(model('microsoft/Phi-3-medium-4k-instruct'));
    assert.deepEqual(
      shapes.map((s) => [s.name, s.inFeatures, s.outFeatures]),
      [
        ['qkv_proj', 5120, (40 + 2 * 10) * 128],
        ['o_proj', 5120, 5120],
        ['gate_up_proj', 5120, 2 * 17920],
        ['down_proj', 17920, 5120],
      ],
    );
  });

  it('lists Mixtral experts and the router', () => {
    const byName = new Map(
      linearModuleShapes(model('mistralai/Mixtral-8x7B-v0.1')).map((s) => [s.name, s]),
    );
    assert.deepEqual(byName.get('gate'), {
      name: 'gate',
      inFeatures: 4096,
      outFeatures: 8,
      bias: false,
      count: 1,
    });
    assert.equal(byName.get('w2')?.inFeatures, 14336);
    assert.equal(byName.get('w2')?.count, 8);
    assert.deepEqual(model('mistralai/Mixtral-8x7B-v0.1').linearModules, [
      'q_proj',
      'k_proj',
      'v_proj',
      'o_proj',
      'gate',
      'w1',
      'w3',
      'w2',
    ]);
  });
});

describe('catalog entries', () => {
  const REQUIRED_IDS = [
    'meta-llama/Llama-2-7b-hf',
    'meta-llama/Llama-2-13b-chat-hf',
    'meta-llama/Llama-2-70b-hf',
    'meta-llama/Meta-Llama-3-8B',
    'meta-llama/Meta-Llama-3-70B-Instruct',
    'meta-llama/Llama-3.1-8B',
    'meta-llama/Llama-3.1-70B-Instruct',
    'meta-llama/Llama-3.1-405B',
    'meta-llama/Llama-3.2-1B-Instruct',
    'meta-llama/Llama-3.2-3B',
    'meta-llama/Llama-3.3-70B-Instruct',
    'Qwen/Qwen2-0.5B',
    'Qwen/Qwen2-1.5B',
    'Qwen/Qwen2-7B',
    'Qwen/Qwen2-72B',
    'Qwen/Qwen2.5-0.5B-Instruct',
    'Qwen/Qwen2.5-1.5B',
    'Qwen/Qwen2.5-3B-Instruct',
    'Qwen/Qwen2.5-7B-Instruct',
    'Qwen/Qwen2.5-14B',
    'Qwen/Qwen2.5-32B-Instruct',
    'Qwen/Qwen2.5-72B',
    'Qwen/Qwen3-0.6B',
    'Qwen/Qwen3-1.7B-Base',
    'Qwen/Qwen3-4B',
    'Qwen/Qwen3-8B',
    'Qwen/Qwen3-14B',
    'Qwen/Qwen3-32B',
    'Qwen/Qwen3-30B-A3B',
    'mistralai/Mistral-7B-v0.1',
    'mistralai/Mistral-7B-Instruct-v0.3',
    'mistralai/Mistral-Nemo-Base-2407',
    'mistralai/Mistral-Nemo-Instruct-2407',
    'mistralai/Mixtral-8x7B-Instruct-v0.1',
    'google/gemma-2-2b',
    'google/gemma-2-9b-it',
    'google/gemma-2-27b-it',
    'google/gemma-3-1b-it',
    'google/gemma-3-4b-pt',
    'google/gemma-3-12b-it',
    'google/gemma-3-27b-it',
    'microsoft/Phi-3-mini-4k-instruct',
    'microsoft/Phi-3-medium-128k-instruct',
    'microsoft/Phi-3.5-mini-instruct',
    'microsoft/phi-4',
    'HuggingFaceTB/SmolLM2-135M',
    'HuggingFaceTB/SmolLM2-360M-Instruct',
    'HuggingFaceTB/SmolLM2-1.7B-Instruct',
    'deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B',
    'deepseek-ai/DeepSeek-R1-Distill-Qwen-7B',
    'deepseek-ai/DeepSeek-R1-Distill-Qwen-14B',
    'deepseek-ai/DeepSeek-R1-Distill-Qwen-32B',
    'deepseek-ai/DeepSeek-R1-Distill-Llama-8B',
    'deepseek-ai/DeepSeek-R1-Distill-Llama-70B',
  ];

  it('holds every required model under its exact Hub id', () => {
    const ids = new Set(listCatalogModels().map((m) => m.id));
    for (const id of REQUIRED_IDS) assert.ok(ids.has(id), id);
  });

  it('has no two entries under one id or one lookup key', () => {
    const keys = listCatalogModels().map((m) => catalogKey(m.id));
    assert.equal(new Set(keys).size, keys.length);
  });

  it('labels kind and chat template per family', () => {
    assert.equal(model('meta-llama/Llama-3.1-8B').kind, 'base');
    assert.equal(model('meta-llama/Llama-3.1-8B-Instruct').kind, 'instruct');
    assert.equal(model('meta-llama/Llama-2-7b-chat-hf').chatTemplate, 'llama-2');
    assert.equal(model('Qwen/Qwen3-8B').kind, 'instruct');
    assert.equal(model('Qwen/Qwen3-8B-Base').kind, 'base');
    assert.equal(model('HuggingFaceTB/SmolLM2-1.7B').chatTemplate, 'chatml');
    assert.equal(model('google/gemma-2-9b-it').chatTemplate, 'gemma');
    assert.equal(model('microsoft/Phi-3.5-mini-instruct').chatTemplate, 'phi-3');
    assert.equal(model('deepseek-ai/DeepSeek-R1-Distill-Llama-8B').chatTemplate, 'deepseek');
    for (const entry of listCatalogModels()) {
      assert.notEqual(entry.chatTemplate, 'none', entry.id);
      assert.equal(entry.source, 'catalog');
      assert.ok(entry.displayName && entry.sizeLabel, entry.id);
    }
  });

  it('uses the text model of multimodal Gemma 3', () => {
    const gemma = model('google/gemma-3-4b-it');
    assert.equal(gemma.hiddenSize, 2560);
    assert.equal(gemma.vocabSize, 262208);
    assert.equal(gemma.headDim, 256);
  });
});

describe('findCatalogModel', () => {
  it('ignores case', () => {
    assert.equal(findCatalogModel('qwen/qwen2.5-7b-instruct')?.id, 'Qwen/Qwen2.5-7B-Instruct');
  });
  it('accepts a name without its organisation', () => {
    assert.equal(findCatalogModel('Llama-3.1-8B')?.id, 'meta-llama/Llama-3.1-8B');
    assert.equal(findCatalogModel('gemma-2-9b-it')?.id, 'google/gemma-2-9b-it');
  });
  it('accepts common aliases', () => {
    assert.equal(findCatalogModel('meta-llama/Meta-Llama-3.1-8B')?.id, 'meta-llama/Llama-3.1-8B');
    assert.equal(
      findCatalogModel('Meta-Llama-3.1-8B-Instruct')?.id,
      'meta-llama/Llama-3.1-8B-Instruct',
    );
    assert.equal(findCatalogModel('meta-llama/Llama-3-8B')?.id, 'meta-llama/Meta-Llama-3-8B');
    assert.equal(findCatalogModel('meta-llama/Llama-2-7b')?.id, 'meta-llama/Llama-2-7b-hf');
    assert.equal(findCatalogModel('google/gemma-3-1b')?.id, 'google/gemma-3-1b-pt');
    assert.equal(
      findCatalogModel('unsloth/Meta-Llama-3.1-8B-Instruct-bnb-4bit')?.id,
      'meta-llama/Llama-3.1-8B-Instruct',
    );
  });
  it('answers undefined for unknown names', () => {
    assert.equal(findCatalogModel('EleutherAI/pythia-1b'), undefined);
    assert.equal(findCatalogModel(''), undefined);
    assert.equal(findCatalogModel('   '), undefined);
  });
});

// Hostile config texts shared by bench/hostile.ts, the engine's unit tests and
// the LSP robustness tests: each is built on demand (some are megabytes), and
// each names what a correct answer contains so every consumer checks alike.

export interface HostileInput {
  name: string;
  /** A native config name, so the file is always read as a config. */
  fileName: string;
  build: () => string;
  /** A finding code the answer must contain. */
  expectCode: string;
  /** A pattern one message must match (the clear finding). */
  expectMessage?: RegExp;
}

const HEADER = 'method: lora\nmodel: {name_or_path: x}\n';

/** Classic billion laughs: 10 levels of 10 aliases, 10^10 values when expanded. */
function billionLaughs(): string {
  const lines = [HEADER + 'l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
  for (let i = 1; i < 10; i++)
    lines.push(
      `l${i}: &l${i} [${Array(10)
        .fill(`*l${i - 1}`)
        .join(', ')}]`,
    );
  return lines.join('\n') + '\n';
}

/** A wide fan of mappings: few levels, each 800 aliases of the last. */
function aliasBombMaps(): string {
  const lines = [HEADER + 'a0: &a0 {k: v}'];
  for (let i = 1; i < 4; i++) {
    const items = Array.from({ length: 800 }, (_, j) => `k${j}: *a${i - 1}`).join(', ');
    lines.push(`a${i}: &a${i} {${items}}`);
  }
  return lines.join('\n') + '\n';
}

/** Many aliases of one small anchor: quadratic if each alias searches the document. */
function manyAliases(count: number): string {
  return HEADER + 'base: &b {x: 1}\nrefs:\n' + '  - *b\n'.repeat(count);
}

function deepBlockMaps(levels: number): string {
  let text = HEADER + 'extra:\n';
  for (let i = 1; i <= levels; i++) text += ' '.repeat(i) + 'a:\n';
  return text + ' '.repeat(levels + 1) + '1\n';
}

/** Alias chain: each anchor is a list holding the previous alias, nested through aliases. */
function deepAnchors(levels: number): string {
  const lines = [HEADER + 'c0: &c0 [1]'];
  for (let i = 1; i <= levels; i++) lines.push(`c${i}: &c${i} [*c${i - 1}]`);
  return lines.join('\n') + '\n';
}

function distinctKeys(count: number): string {
  return Array.from({ length: count }, (_, i) => `key_${i}: ${i}`).join('\n') + '\n';
}

function targetModules(count: number): string {
  const items = Array.from({ length: count }, (_, i) => `    - mod_${i}`).join('\n');
  return `lora:\n  r: 8\n  lora_alpha: 16\n  target_modules:\n${items}\n`;
}

function randomText(length: number, seed: number): string {
  let state = seed;
  const random = () => (state = (state * 48271) % 2147483647) / 2147483647;
  return Array.from({ length }, () => String.fromCharCode(Math.floor(random() * 0xffff))).join('');
}

export const HOSTILE_INPUTS: readonly HostileInput[] = [
  {
    name: 'billion laughs',
    fileName: 'laughs.finetune.yaml',
    build: billionLaughs,
    expectCode: 'yaml-syntax',
    expectMessage: /alias/,
  },
  {
    name: 'alias bomb (maps)',
    fileName: 'bomb.finetune.yaml',
    build: aliasBombMaps,
    expectCode: 'yaml-syntax',
    expectMessage: /alias/,
  },
  {
    name: '3.5k aliases of one anchor',
    fileName: 'aliases.finetune.yaml',
    build: () => manyAliases(3_500),
    expectCode: 'schema-unknown-key',
  },
  {
    name: '50k aliases of one anchor',
    fileName: 'aliases50k.finetune.yaml',
    build: () => manyAliases(50_000),
    expectCode: 'yaml-syntax',
    expectMessage: /too large to check/,
  },
  {
    name: 'deep flow [[[ x100k',
    fileName: 'flow.finetune.yaml',
    build: () => HEADER + 'x: ' + '['.repeat(100_000) + ']'.repeat(100_000) + '\n',
    expectCode: 'yaml-syntax',
    expectMessage: /nested too deeply/,
  },
  {
    name: 'deep flow {a: x10k',
    fileName: 'flowmap.finetune.yaml',
    build: () => HEADER + 'x: ' + '{a: '.repeat(10_000) + '1' + '}'.repeat(10_000) + '\n',
    expectCode: 'yaml-syntax',
    expectMessage: /nested too deeply/,
  },
  {
    name: 'deep block maps x1000',
    fileName: 'block.finetune.yaml',
    build: () => deepBlockMaps(1000),
    expectCode: 'yaml-syntax',
    expectMessage: /nested too deeply/,
  },
  {
    name: 'deep block seq "- - -" x50k',
    fileName: 'seq.finetune.yaml',
    build: () => HEADER + 'x:\n' + '- '.repeat(50_000) + '1\n',
    expectCode: 'yaml-syntax',
    expectMessage: /nested too deeply/,
  },
  {
    name: 'explicit keys "? ?" x28',
    fileName: 'keys28.finetune.yaml',
    build: () => HEADER + 'x:\n' + '? '.repeat(28) + '1\n',
    expectCode: 'yaml-syntax',
  },
  {
    name: 'explicit keys "? ?" x50k',
    fileName: 'keys.finetune.yaml',
    build: () => HEADER + 'x:\n' + '? '.repeat(50_000) + '1\n',
    expectCode: 'yaml-syntax',
    expectMessage: /nested too deeply/,
  },
  {
    name: 'deep anchored flow &a [ x10k',
    fileName: 'anchored.finetune.yaml',
    build: () =>
      HEADER +
      'x: ' +
      Array.from({ length: 10_000 }, (_, i) => `&a${i} [`).join('') +
      ']'.repeat(10_000) +
      '\n',
    expectCode: 'yaml-syntax',
    expectMessage: /nested too deeply/,
  },
  {
    name: 'alias chain x1800',
    fileName: 'chain.finetune.yaml',
    build: () => deepAnchors(1800),
    expectCode: 'yaml-syntax',
    expectMessage: /nested too deeply/,
  },
  {
    name: '1 MB key',
    fileName: 'bigkey.finetune.yaml',
    build: () => HEADER + 'k'.repeat(1024 * 1024) + ': 1\n',
    expectCode: 'schema-unknown-key',
  },
  {
    name: '2.5k duplicate keys',
    fileName: 'dups.finetune.yaml',
    build: () => HEADER + 'a: 1\n'.repeat(2_500),
    expectCode: 'yaml-syntax',
    expectMessage: /more duplicate keys/,
  },
  {
    name: '2 MB of duplicate keys',
    fileName: 'dups2mb.finetune.yaml',
    build: () => HEADER + 'a: 1\n'.repeat(400_000),
    expectCode: 'yaml-syntax',
    expectMessage: /too large to check/,
  },
  {
    name: '2.5k distinct keys',
    fileName: 'keys3k.finetune.yaml',
    build: () => HEADER + distinctKeys(2_500),
    expectCode: 'schema-unknown-key',
    expectMessage: /more unknown keys/,
  },
  {
    name: '100k distinct keys',
    fileName: 'keys100k.finetune.yaml',
    build: () => HEADER + distinctKeys(100_000),
    expectCode: 'yaml-syntax',
    expectMessage: /too large to check/,
  },
  {
    name: '3k-item target_modules',
    fileName: 'modules3k.finetune.yaml',
    build: () => HEADER + targetModules(3_000),
    expectCode: 'model-unknown',
  },
  {
    name: '87k-item target_modules',
    fileName: 'modules.finetune.yaml',
    build: () => HEADER + targetModules(87_000),
    expectCode: 'yaml-syntax',
    expectMessage: /too large to check/,
  },
  {
    name: '20 MB file',
    fileName: 'big.finetune.yaml',
    build: () => HEADER + 'notes: |\n' + '  lorem ipsum dolor sit amet\n'.repeat(750_000),
    expectCode: 'yaml-syntax',
    expectMessage: /20\.\d MB/,
  },
  {
    name: 'multi-document',
    fileName: 'multi.finetune.yaml',
    build: () => HEADER + '---\nmethod: full\n---\nmethod: qlora\n',
    expectCode: 'yaml-syntax',
    expectMessage: /one YAML document; this file has 3/,
  },
  {
    name: '.nan and .inf values',
    fileName: 'nan.finetune.yaml',
    build: () => HEADER + 'training:\n  learning_rate: .nan\n  num_train_epochs: -.inf\n',
    expectCode: 'schema-range',
    expectMessage: /\.nan|\.inf/,
  },
  {
    name: 'lone surrogates and tabs',
    fileName: 'surrogate.finetune.yaml',
    build: () => 'method: lora\nmodel:\n\tname_or_path: "\uD800"\n' + '\uDC00: \t\uD800\n',
    expectCode: 'yaml-syntax',
  },
  {
    name: '100k chars of garbage',
    fileName: 'garbage.finetune.yaml',
    build: () => randomText(100_000, 42),
    expectCode: 'schema-type',
    expectMessage: /must be a mapping/,
  },
];

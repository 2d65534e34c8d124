// The inputs both servers validate, generated at run time into a temp dir: the
// spec example padded to a typical config, the same with a long list and with a
// long map, and the data files the example names.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { BIG, FIXTURE, type InputName } from './options';

export interface Input {
  name: InputName;
  file: string;
  uri: string;
  text: string;
  lines: number;
  /** Position of the digit toggled by the edits (`r: 16` ↔ `r: 17`). */
  edit: { line: number; character: number; a: string; b: string };
  completion: { line: number; character: number };
  hover: { line: number; character: number };
}

/** Training keys and comments that pad the spec example to a typical ~100-line config. */
const TRAINING_PADDING = [
  '  per_device_eval_batch_size: 8',
  '  eval_strategy: steps          # no | steps | epoch',
  '  eval_steps: 500',
  '  weight_decay: 0.0',
  '  adam_beta1: 0.9',
  '  adam_beta2: 0.999',
  '  adam_epsilon: 1.0e-8',
  '  seed: 42',
  '  data_seed: 42',
  '',
  '  # tracking',
  '  report_to: [tensorboard]      # none | wandb | tensorboard | mlflow',
  '  run_name: telecom-qlora-r16',
  '  logging_first_step: true',
  '  ', // a blank line inside `training:` where the user is about to type a key
  '  load_best_model_at_end: true',
  '  metric_for_best_model: eval_loss',
  '  greater_is_better: false',
  '  dataloader_pin_memory: true',
  '  remove_unused_columns: false',
];

export function lineIndex(lines: string[], pattern: RegExp, what: string, from = 0): number {
  for (let i = from; i < lines.length; i++) if (pattern.test(lines[i])) return i;
  throw new Error(`${path.basename(FIXTURE)} changed: cannot find ${what} (${pattern})`);
}

/** End (exclusive) of the block that starts at the top-level key on line `start`. */
function blockEnd(lines: string[], start: number): number {
  let i = start + 1;
  while (i < lines.length && (lines[i].trim() === '' || /^\s/.test(lines[i]))) i++;
  // Leave trailing blank lines outside the block.
  while (i > start + 1 && lines[i - 1].trim() === '') i--;
  return i;
}

function typicalLines(): string[] {
  const lines = fs.readFileSync(FIXTURE, 'utf8').replace(/\r\n/g, '\n').split('\n');
  const training = lineIndex(lines, /^training:/, 'training:');
  lines.splice(blockEnd(lines, training), 0, ...TRAINING_PADDING);
  return lines;
}

/**
 * The data files the spec example names (relative to the config), so that the
 * data rules read real files as in a user's workspace: chat examples in the
 * `messages` format, deterministic content.
 */
export function writeDataFiles(dir: string): string {
  const dataDir = path.join(dir, 'data');
  fs.mkdirSync(dataDir, { recursive: true });
  let seed = 42;
  const random = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const words =
    'the router modem line fibre outage bill plan roaming signal reset account contract upgrade speed tariff'.split(
      ' ',
    );
  const sentence = (n: number): string =>
    Array.from({ length: n }, () => words[Math.floor(random() * words.length)]).join(' ');
  const write = (file: string, count: number): number => {
    const lines: string[] = [];
    for (let i = 0; i < count; i++) {
      const messages = [
        { role: 'system', content: 'You are the support assistant of a telecom operator.' },
        { role: 'user', content: `${sentence(8 + Math.floor(random() * 40))}?` },
        { role: 'assistant', content: `${sentence(20 + Math.floor(random() * 200))}.` },
      ];
      lines.push(JSON.stringify({ messages }));
    }
    const text = lines.join('\n') + '\n';
    fs.writeFileSync(path.join(dataDir, file), text);
    return text.length;
  };
  const bytes =
    write('telecom-support.train.jsonl', 2000) +
    write('telecom-support.eval.jsonl', 200) +
    write('general.jsonl', 500);
  return `data/*.jsonl: 2,000 + 200 + 500 chat examples, ${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

export function buildInput(name: InputName, dir: string): Input {
  const lines = typicalLines();
  if (name === 'list') {
    const at = lineIndex(lines, /^ {2}target_modules:/, 'lora.target_modules');
    const modules = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];
    const items: string[] = [];
    for (let i = 0; i < BIG; i++) {
      const module = modules[i % modules.length];
      const kind = i % modules.length < 4 ? 'self_attn' : 'mlp';
      items.push(`    - model.layers.${Math.floor(i / modules.length)}.${kind}.${module}`);
    }
    lines.splice(at, 1, '  target_modules:', ...items);
  } else if (name === 'map') {
    const at = lineIndex(lines, /^ {2}env:/, 'launch.env');
    const entries = ['    HF_HOME: /scratch/hf'];
    for (let i = 1; i < BIG; i++)
      entries.push(`    BENCH_VAR_${String(i).padStart(4, '0')}: value-${i}`);
    lines.splice(at, 1, '  env:', ...entries);
  }
  const lora = lineIndex(lines, /^lora:/, 'lora:');
  const rLine = lineIndex(lines, /^ {2}r: \d+/, 'lora.r', lora);
  const digit = lines[rLine].search(/\d(?!.*\d)/); // the last digit of `r: 16`
  const a = lines[rLine][digit];
  const b = a === '6' ? '7' : '6';
  const training = lineIndex(lines, /^training:/, 'training:');
  const blank = lineIndex(lines, /^ {2}$/, 'the blank line inside training:', training);
  const hoverLine = lineIndex(lines, /^ {2}learning_rate:/, 'training.learning_rate', training);
  const text = lines.join('\n');
  const file = path.join(dir, `${name}.finetune.yaml`);
  fs.writeFileSync(file, text);
  return {
    name,
    file,
    uri: pathToFileURL(file).href,
    text,
    lines: lines.length,
    edit: { line: rLine, character: digit, a, b },
    completion: { line: blank, character: 2 },
    hover: { line: hoverLine, character: 5 },
  };
}

// `tunelab serve RUN…`: how to serve trained runs, as text to copy. For each
// base model: one `vllm serve BASE --enable-lora --lora-modules NAME=PATH…`
// with every adapter of that base and `--max-lora-rank` from the largest
// lora.r; per run the merged-model variant (`vllm serve MERGED_DIR`, after
// `tunelab export RUN --merge`) and a transformers/peft snippet. Paths are
// where the files are on the run's target. Shell values go through shQuote,
// Python values are Python string literals: no name or path becomes code.

import * as path from 'node:path';
import type { RunRecord } from './runRecord';
import { remoteJoin, shQuote } from './shell';

/** What a recipe needs of one run (serveRunOf reads it from the record and its config). */
export interface ServeRun {
  id: string;
  /** The adapter's name in vLLM and peft: letters, digits, `.`, `_`, `-`. */
  name: string;
  target: RunRecord['target'];
  host?: string;
  base: string;
  r: number;
  adapterPath: string;
  mergedPath: string;
}

export interface ServeGroup {
  base: string;
  maxLoraRank: number;
  runs: ServeRun[];
  /** The vLLM command line serving every adapter of this base. */
  vllm: string;
}

export interface ServeRecipe {
  groups: ServeGroup[];
  merged: { id: string; host?: string; command: string }[];
  python: string;
  notes: string[];
}

/** A name vLLM's NAME=PATH and a Python identifier-ish key can both carry. */
export function adapterName(raw: string): string {
  const name = raw
    .replace(/\.finetune\.ya?ml$|\.ya?ml$/i, '')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[-.]+|-+$/g, '');
  return name === '' ? 'adapter' : name;
}

/** Unique names: the config's stem, and the run id after it where two runs share one. */
export function uniqueNames(runs: { id: string; stem: string }[]): string[] {
  const counts = new Map<string, number>();
  for (const run of runs)
    counts.set(adapterName(run.stem), (counts.get(adapterName(run.stem)) ?? 0) + 1);
  return runs.map((run) => {
    const name = adapterName(run.stem);
    return (counts.get(name) ?? 0) > 1 ? `${name}-${run.id}` : name;
  });
}

function isPathLike(value: string): boolean {
  return (
    value.startsWith('/') || value.startsWith('./') || value.startsWith('../') || value === '.'
  );
}

/** A path of the config as the job on its target sees it (the job runs in the config's dir). */
export function targetPath(
  value: string,
  record: Pick<RunRecord, 'target' | 'workdir'>,
  configDir: string,
): string {
  if (path.posix.isAbsolute(value) || value.startsWith('~')) return value;
  if (record.target === 'local') return path.resolve(configDir, value);
  return remoteJoin(record.workdir ?? '.', value);
}

interface ConfigView {
  model?: { name_or_path?: unknown };
  lora?: { r?: unknown };
  training?: { output_dir?: unknown };
  export?: { output_dir?: unknown };
}

/** The ServeRun of a training record from its parsed config. */
export function serveRunOf(
  record: Pick<RunRecord, 'id' | 'target' | 'workdir' | 'ssh' | 'config'>,
  config: unknown,
  name: string,
): ServeRun {
  const view = (config ?? {}) as ConfigView;
  const base = view.model?.name_or_path;
  if (typeof base !== 'string' || base === '')
    throw new Error(`run ${record.id}: its config has no model.name_or_path`);
  const configDir = path.dirname(record.config);
  const output =
    typeof view.training?.output_dir === 'string' ? view.training.output_dir : 'output';
  const merged =
    typeof view.export?.output_dir === 'string'
      ? view.export.output_dir
      : path.posix.join(output, 'merged');
  const r = typeof view.lora?.r === 'number' && view.lora.r > 0 ? view.lora.r : 8;
  return {
    id: record.id,
    name,
    target: record.target,
    host: record.ssh?.host,
    base: isPathLike(base) ? targetPath(base, record, configDir) : base,
    r,
    adapterPath: targetPath(path.posix.join(output, 'adapter'), record, configDir),
    mergedPath: targetPath(merged, record, configDir),
  };
}

/** A Python string literal (JSON's escapes are Python's for every string). */
function py(value: string): string {
  return JSON.stringify(value);
}

export function buildServeRecipe(runs: ServeRun[]): ServeRecipe {
  const byBase = new Map<string, ServeRun[]>();
  for (const run of runs) byBase.set(run.base, [...(byBase.get(run.base) ?? []), run]);
  const groups: ServeGroup[] = [...byBase].map(([base, members]) => {
    const maxLoraRank = Math.max(...members.map((run) => run.r));
    // vLLM splits NAME=PATH at every `=`: a path holding one goes in the JSON form
    const modules = members.map((run) =>
      shQuote(
        run.adapterPath.includes('=')
          ? JSON.stringify({ name: run.name, path: run.adapterPath })
          : `${run.name}=${run.adapterPath}`,
      ),
    );
    const vllm = [
      'vllm serve',
      shQuote(base),
      '--enable-lora',
      '--lora-modules',
      ...modules,
      '--max-lora-rank',
      String(maxLoraRank),
    ].join(' ');
    return { base, maxLoraRank, runs: members, vllm };
  });
  const merged = runs.map((run) => ({
    id: run.id,
    host: run.host,
    command: `vllm serve ${shQuote(run.mergedPath)}`,
  }));
  const notes: string[] = [];
  const hosts = new Set(runs.map((run) => run.host ?? 'this machine'));
  if (hosts.size > 1)
    notes.push(
      `the adapters live on ${[...hosts].join(', ')}: copy them to one host before serving them together`,
    );
  if (byBase.size > 1)
    notes.push(`${byBase.size} base models: one vLLM server each (one base per server)`);
  return { groups, merged, python: pythonSnippet(groups), notes };
}

function pythonSnippet(groups: ServeGroup[]): string {
  const group = groups[0];
  const [first, ...rest] = group.runs;
  const lines = [
    'import torch',
    'from peft import PeftModel',
    'from transformers import AutoModelForCausalLM, AutoTokenizer',
    '',
    `base = AutoModelForCausalLM.from_pretrained(${py(group.base)}, dtype=torch.bfloat16, device_map="auto")`,
    `tokenizer = AutoTokenizer.from_pretrained(${py(first.adapterPath)})  # saved with the run's chat template`,
    `model = PeftModel.from_pretrained(base, ${py(first.adapterPath)}, adapter_name=${py(first.name)})`,
    ...rest.map(
      (run) => `model.load_adapter(${py(run.adapterPath)}, adapter_name=${py(run.name)})`,
    ),
    `model.set_adapter(${py(first.name)})  # with model.disable_adapter(): … answers as the base`,
    '',
    'messages = [{"role": "user", "content": "Hello"}]',
    'inputs = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt").to(model.device)',
    'out = model.generate(inputs, max_new_tokens=256)',
    'print(tokenizer.decode(out[0, inputs.shape[1]:], skip_special_tokens=True))',
  ];
  return lines.join('\n') + '\n';
}

/** The recipe as text: commands to copy, one per line, and the Python snippet. */
export function renderServeRecipe(recipe: ServeRecipe): string {
  const out: string[] = [];
  for (const group of recipe.groups) {
    const where = [...new Set(group.runs.map((run) => run.host ?? 'this machine'))].join(', ');
    out.push(
      // JSON.stringify: a newline in a name cannot end the comment and start a command
      `# ${group.runs.length} adapter${group.runs.length === 1 ? '' : 's'} of ${JSON.stringify(group.base)} (on ${where}), one server:`,
      group.vllm,
      '',
    );
  }
  out.push('# or a merged model each (after `tunelab export RUN --merge`):');
  for (const merged of recipe.merged) out.push(merged.command);
  out.push('', '# transformers + peft:', recipe.python.replace(/\n$/, ''));
  for (const note of recipe.notes) out.push('', `# note: ${note}`);
  return out.join('\n') + '\n';
}

// `tunelab serve RUN…`: how to serve trained runs, as text to copy. For each
// base model: one `vllm serve BASE --enable-lora --lora-modules NAME=PATH…`
// with every adapter of that base and `--max-lora-rank` from the largest
// lora.r; per run the merged-model variant (`vllm serve MERGED_DIR`, after
// `tunelab export RUN --merge`) and a transformers/peft snippet. A full
// fine-tune has no adapter: it is served as a model of its own (its newest
// `tunelab export`, else what training wrote) with a transformers snippet.
// Paths are where the files are on the run's target. Shell values go through
// shQuote/shPath, Python values are Python string literals: no name or path
// becomes code.

import * as path from 'node:path';
import type { RunRecord } from './runRecord';
import { remoteJoin, shPath, shQuote } from './shell';

/** A LoRA/QLoRA run (serveRunOf reads it from the record and its config). */
export interface ServeRun {
  kind: 'adapter';
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

/** Where a full fine-tune's model to serve comes from. */
export type ServeModelSource =
  /** A completed `tunelab export RUN [--dtype D] [--checkpoint N]`: `<output_dir>/export-D[-checkpoint-N]`. */
  | { kind: 'export'; exportId: string; dtype: string; checkpoint?: number }
  /** No export recorded: the model training saved (export.output_dir, default `<output_dir>/merged`). */
  | { kind: 'training' };

/** A full fine-tune (serveModelRunOf reads it from the record, its config and its exports). */
export interface ServeModelRun {
  kind: 'model';
  id: string;
  /** The model's name in vLLM (`--served-model-name`): as an adapter's name. */
  name: string;
  target: RunRecord['target'];
  host?: string;
  /** model.name_or_path the run started from (not needed to serve it). */
  base: string;
  /** The model folder on the run's target. */
  modelPath: string;
  source: ServeModelSource;
  /** Training was told to save no model (export.merge: false) and no export is recorded. */
  unsaved?: boolean;
}

/** A full run's recipe: its own server and a transformers snippet. */
export interface ServeModel extends ServeModelRun {
  vllm: string;
  python: string;
}

export interface ServeGroup {
  base: string;
  maxLoraRank: number;
  runs: ServeRun[];
  /** The vLLM command line serving every adapter of this base. */
  vllm: string;
}

export interface ServeRecipe {
  /** LoRA/QLoRA runs: one vLLM server per base. */
  groups: ServeGroup[];
  /** LoRA/QLoRA runs: each merged into its base (after `tunelab export RUN --merge`). */
  merged: { id: string; host?: string; command: string }[];
  /** Full fine-tunes, one each. */
  models: ServeModel[];
  /** The transformers/peft snippet of the first group; '' without LoRA runs. */
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
  export?: { output_dir?: unknown; merge?: unknown; dtype?: unknown };
}

type ServeRecord = Pick<RunRecord, 'id' | 'target' | 'workdir' | 'ssh' | 'config' | 'outputDir'>;

/** What every kind of run reads of its config: as the runner resolves it (config.py). */
function commonOf(record: ServeRecord, config: unknown) {
  const view = (config ?? {}) as ConfigView;
  const base = view.model?.name_or_path;
  if (typeof base !== 'string' || base === '')
    throw new Error(`run ${record.id}: its config has no model.name_or_path`);
  const configDir = path.dirname(record.config);
  const stem = path.basename(record.config).replace(/\.finetune\.ya?ml$|\.ya?ml$/i, '');
  const output =
    typeof view.training?.output_dir === 'string'
      ? view.training.output_dir
      : (record.outputDir ?? path.posix.join('runs', stem));
  const merged =
    typeof view.export?.output_dir === 'string'
      ? view.export.output_dir
      : path.posix.join(output, 'merged');
  return {
    view,
    output,
    base: isPathLike(base) ? targetPath(base, record, configDir) : base,
    onTarget: (value: string) => targetPath(value, record, configDir),
    mergedPath: targetPath(merged, record, configDir),
  };
}

/** The ServeRun of a LoRA/QLoRA training record from its parsed config. */
export function serveRunOf(record: ServeRecord, config: unknown, name: string): ServeRun {
  const { view, output, base, onTarget, mergedPath } = commonOf(record, config);
  const r = typeof view.lora?.r === 'number' && view.lora.r > 0 ? view.lora.r : 8;
  return {
    kind: 'adapter',
    id: record.id,
    name,
    target: record.target,
    host: record.ssh?.host,
    base,
    r,
    adapterPath: onTarget(path.posix.join(output, 'adapter')),
    mergedPath,
  };
}

/** `--dtype D` / `--checkpoint N` of a recorded export job's command line. */
function exportFlags(command: readonly string[]): { dtype?: string; checkpoint?: number } {
  const valueOf = (flag: string): string | undefined => {
    const at = command.lastIndexOf(flag);
    if (at >= 0) return command[at + 1];
    return [...command]
      .reverse()
      .find((word) => word.startsWith(`${flag}=`))
      ?.slice(flag.length + 1);
  };
  const checkpoint = Number(valueOf('--checkpoint'));
  return {
    dtype: valueOf('--dtype'),
    checkpoint: Number.isInteger(checkpoint) && checkpoint >= 0 ? checkpoint : undefined,
  };
}

/**
 * The ServeModelRun of a full fine-tune. `exports` are the store's records;
 * the newest completed export of this run wins (its check passed, or it
 * would have failed), at the folder the runner's default_full_out gives it.
 */
export function serveModelRunOf(
  record: ServeRecord,
  config: unknown,
  name: string,
  exports: readonly Pick<
    RunRecord,
    'id' | 'kind' | 'exportOf' | 'state' | 'command' | 'createdAt'
  >[] = [],
): ServeModelRun {
  const { view, output, base, onTarget, mergedPath } = commonOf(record, config);
  const host = record.ssh?.host;
  const where = { kind: 'model' as const, id: record.id, name, target: record.target, host, base };
  const exported = exports
    .filter((e) => e.kind === 'export' && e.exportOf === record.id && e.state === 'completed')
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0];
  if (exported) {
    const flags = exportFlags(exported.command);
    const dtype =
      flags.dtype ?? (typeof view.export?.dtype === 'string' ? view.export.dtype : 'bfloat16');
    const suffix = flags.checkpoint !== undefined ? `-checkpoint-${flags.checkpoint}` : '';
    return {
      ...where,
      modelPath: onTarget(path.posix.join(output, `export-${dtype}${suffix}`)),
      source: {
        kind: 'export',
        exportId: exported.id,
        dtype,
        ...(flags.checkpoint !== undefined ? { checkpoint: flags.checkpoint } : {}),
      },
    };
  }
  return {
    ...where,
    modelPath: mergedPath,
    source: { kind: 'training' },
    ...(view.export?.merge === false ? { unsaved: true } : {}),
  };
}

/** A Python string literal (JSON's escapes are Python's for every string). */
function py(value: string): string {
  return JSON.stringify(value);
}

/** A path for Python: `~/…` is expanded as the shell would on the target. */
function pyPath(value: string): string {
  return value.startsWith('~') ? `os.path.expanduser(${py(value)})` : py(value);
}

export function buildServeRecipe(runs: (ServeRun | ServeModelRun)[]): ServeRecipe {
  const adapters = runs.filter((run): run is ServeRun => run.kind === 'adapter');
  const fulls = runs.filter((run): run is ServeModelRun => run.kind === 'model');
  const byBase = new Map<string, ServeRun[]>();
  for (const run of adapters) byBase.set(run.base, [...(byBase.get(run.base) ?? []), run]);
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
  const merged = adapters.map((run) => ({
    id: run.id,
    host: run.host,
    command: `vllm serve ${shQuote(run.mergedPath)}`,
  }));
  const models: ServeModel[] = fulls.map((run) => ({
    ...run,
    // shPath: a `~/` path is the target's home, expanded by its shell
    vllm: `vllm serve ${shPath(run.modelPath)} --served-model-name ${shQuote(run.name)}`,
    python: modelSnippet(run.modelPath),
  }));
  const notes: string[] = [];
  const hosts = new Set(adapters.map((run) => run.host ?? 'this machine'));
  if (hosts.size > 1)
    notes.push(
      `the adapters live on ${[...hosts].join(', ')}: copy them to one host before serving them together`,
    );
  if (byBase.size > 1)
    notes.push(`${byBase.size} base models: one vLLM server each (one base per server)`);
  for (const run of fulls.filter((run) => run.unsaved))
    notes.push(
      `run ${run.id} has export.merge: false, so training saved no model: \`tunelab export ${run.id}\` first`,
    );
  return { groups, merged, models, python: groups.length ? peftSnippet(groups[0]) : '', notes };
}

const CHAT_LINES = [
  'messages = [{"role": "user", "content": "Hello"}]',
  'inputs = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt").to(model.device)',
  'out = model.generate(inputs, max_new_tokens=256)',
  'print(tokenizer.decode(out[0, inputs.shape[1]:], skip_special_tokens=True))',
];

function peftSnippet(group: ServeGroup): string {
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
    ...CHAT_LINES,
  ];
  return lines.join('\n') + '\n';
}

function modelSnippet(modelPath: string): string {
  const lines = [
    ...(modelPath.startsWith('~') ? ['import os', ''] : []),
    'from transformers import AutoModelForCausalLM, AutoTokenizer',
    '',
    `path = ${pyPath(modelPath)}`,
    'model = AutoModelForCausalLM.from_pretrained(path, dtype="auto", device_map="auto")  # the saved dtype',
    "tokenizer = AutoTokenizer.from_pretrained(path)  # saved with the run's chat template",
    '',
    ...CHAT_LINES,
  ];
  return lines.join('\n') + '\n';
}

/** Where a full run's model comes from, for a comment line. */
function sourceText(model: ServeModel): string {
  const source = model.source;
  if (source.kind === 'training') return 'as training saved it';
  const checkpoint = source.checkpoint !== undefined ? ` of checkpoint ${source.checkpoint}` : '';
  return `export ${source.exportId}${checkpoint} in ${source.dtype}`;
}

/** The recipe as text: commands to copy, one per line, and the Python snippets. */
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
  if (recipe.merged.length) {
    out.push('# or a merged model each (after `tunelab export RUN --merge`):');
    for (const merged of recipe.merged) out.push(merged.command);
    out.push('', '# transformers + peft:', recipe.python.replace(/\n$/, ''), '');
  }
  for (const model of recipe.models) {
    const where = model.host ?? 'this machine';
    out.push(
      `# full fine-tune ${JSON.stringify(model.id)} (${sourceText(model)}, on ${where}), its own server:`,
      model.vllm,
      '',
      '# transformers:',
      model.python.replace(/\n$/, ''),
      '',
    );
  }
  for (const note of recipe.notes) out.push(`# note: ${note}`, '');
  return out.join('\n').replace(/\n+$/, '') + '\n';
}

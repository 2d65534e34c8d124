// `tunelab tune` on the throughput benchmark's own configs (issue 16): for each
// model shape and method, the runner config of the benchmark's `defaults` run
// (runner/bench/bench_runs.py writes it, so both sides tune and train the
// same thing) is tuned for an H100 80GB, and the changes with their predicted
// tokens/s and whole-run peak go to runner/bench/inputs/tuned.json, which the
// benchmark's `tuned` run applies on the GPU machine and measures.
//
//   node --import tsx bench/tuneThroughput.ts [--gpu H100-80GB]
//
// The models are config.json files of the benchmark's shapes (no weights
// needed to estimate); token counts come from the benchmark's tokenizer
// (runner/bench/inputs/throughput-tokenizer) when it is there.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { analyzeFileWithHub } from '../cli/src/analyzeFile';
import { tuneOutcome } from '../cli/src/tuneCommand';
import type { TuneChange } from '../engine/src/estimate/fastest';
import { tuneWrites } from '../engine/src/report/tune';

const ROOT = path.resolve(__dirname, '..');
const BENCH = path.join(ROOT, 'runner', 'bench');
const TOKENIZER = path.join(BENCH, 'inputs', 'throughput-tokenizer');
const OUT = path.join(BENCH, 'inputs', 'tuned.json');

/**
 * The benchmark's `section.key` changes for tune's changes: a key of a
 * sub-mapping (liger_kernel_config) becomes that mapping's value.
 */
function benchChanges(changes: TuneChange[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const w of changes.flatMap(tuneWrites)) {
    if (w.section.length === 1) out[`${w.section[0]}.${w.key}`] = w.value;
    else {
      const dotted = w.section.join('.');
      out[dotted] = { ...(out[dotted] as Record<string, unknown> | undefined), [w.key]: w.value };
    }
  }
  return out;
}

function python(args: string[]): string {
  const r = spawnSync('python3', args, { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python3 ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout;
}

function writeModelDir(dir: string, shape: Record<string, unknown>): boolean {
  fs.mkdirSync(dir, { recursive: true });
  const config = Object.fromEntries(Object.entries(shape).filter(([k]) => !k.startsWith('_')));
  fs.writeFileSync(
    path.join(dir, 'config.json'),
    JSON.stringify({
      ...config,
      model_type: 'llama',
      architectures: ['LlamaForCausalLM'],
      torch_dtype: 'bfloat16',
    }),
  );
  if (!fs.existsSync(path.join(TOKENIZER, 'tokenizer.json'))) return false;
  for (const f of fs.readdirSync(TOKENIZER))
    fs.copyFileSync(path.join(TOKENIZER, f), path.join(dir, f));
  return true;
}

async function main(): Promise<void> {
  const gpuAt = process.argv.indexOf('--gpu');
  const gpu = gpuAt > 0 ? process.argv[gpuAt + 1]! : 'H100-80GB';
  const shapes = JSON.parse(
    fs.readFileSync(path.join(BENCH, 'inputs', 'shapes.json'), 'utf8'),
  ) as Record<string, Record<string, unknown>>;
  const settings = JSON.parse(
    python([path.join(BENCH, 'throughput.py'), '--print-settings']),
  ) as Record<string, { packed: [number, number] }>;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tunelab-tune-bench-'));
  const data = path.join(work, 'chat.jsonl');
  python([path.join(BENCH, 'bench_data.py'), data]);
  const tuned: Record<string, unknown> = {};
  for (const [shape, arch] of Object.entries(shapes)) {
    const modelDir = path.join(work, `model-${shape}`);
    const tokenizer = writeModelDir(modelDir, arch);
    for (const method of ['lora', 'qlora']) {
      const [batch, accum] = settings[shape]!.packed;
      const config = JSON.parse(
        python([
          path.join(BENCH, 'bench_runs.py'),
          modelDir,
          data,
          method,
          String(batch),
          String(accum),
          path.join(work, `${shape}-${method}-out`),
        ]),
      ) as Record<string, unknown>;
      const file = path.join(work, `${shape}-${method}.finetune.yaml`);
      // JSON is YAML; the GPU is the benchmark's
      fs.writeFileSync(file, JSON.stringify({ ...config, hardware: { gpu } }, null, 2));
      const analyzed = await analyzeFileWithHub(file, { gpu }, true);
      const outcome = tuneOutcome(file, analyzed, { format: 'json', write: false, gpu });
      if (outcome.exitCode !== 0) throw new Error(`${shape} ${method}: ${outcome.stderr}`);
      const report = JSON.parse(outcome.stdout) as {
        before: unknown;
        after: unknown;
        changes: TuneChange[];
        steps: { explanation: string }[];
      };
      tuned[`${shape}-${method}`] = {
        gpu,
        tokenSource: tokenizer ? 'the benchmark tokenizer' : 'chars per token (no tokenizer yet)',
        config: benchChanges(report.changes),
        predicted: report.after,
        before: report.before,
        explanations: report.steps.map((s) => s.explanation),
      };
      console.log(`${shape} ${method}:`, JSON.stringify(tuned[`${shape}-${method}`], null, 1));
    }
  }
  fs.writeFileSync(OUT, JSON.stringify(tuned, null, 2) + '\n');
  fs.rmSync(work, { recursive: true, force: true });
  console.log(`written ${path.relative(ROOT, OUT)}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

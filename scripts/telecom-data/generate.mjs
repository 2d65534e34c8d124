#!/usr/bin/env node
// Deterministic generator of synthetic telecom customer-support chats for the
// telecom-support template (fictional operator "Northwind Mobile").
//
//   node scripts/telecom-data/generate.mjs [--seed S] [--train N] [--eval N]
//        [--general N] [--out DIR] [--quiet]
//   node scripts/telecom-data/generate.mjs --check FILE [FILE...]
//
// Same arguments -> byte-identical files. Train, eval and general data come
// from independent PRNG streams derived from the seed; a conversation that is
// an exact duplicate of one already written (in any set) is redrawn.
// Plain Node 20 ESM, no dependencies.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng, deriveSeed } from './prng.mjs';
import { Convo, SYSTEM_PROMPT, newCustomer } from './common.mjs';
import { INTENTS } from './intents/index.mjs';
import { GENERAL_SYSTEM_PROMPT, buildGeneral } from './general.mjs';
import { checkFile, strictProblem } from './check.mjs';
import { formatStats, setStats } from './stats.mjs';

export { SYSTEM_PROMPT, GENERAL_SYSTEM_PROMPT };

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const DEFAULTS = {
  seed: '20240917',
  train: 1200,
  eval: 150,
  general: 300,
  out: path.resolve(HERE, '../../templates/telecom-support/data'),
};

const USAGE = `usage: node scripts/telecom-data/generate.mjs [--seed S] [--train N] [--eval N] [--general N] [--out DIR] [--quiet]
       node scripts/telecom-data/generate.mjs --check FILE [FILE...]`;

function parseArgs(argv) {
  const opts = { ...DEFAULTS, check: [], quiet: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    const count = () => {
      const v = val();
      if (!/^\d+$/.test(v)) throw new Error(`${a} needs a whole number, got ${JSON.stringify(v)}`);
      return Number(v);
    };
    if (a === '--seed') opts.seed = val();
    else if (a === '--train') opts.train = count();
    else if (a === '--eval') opts.eval = count();
    else if (a === '--general') opts.general = count();
    else if (a === '--out') opts.out = path.resolve(val());
    else if (a === '--check') opts.check.push(val());
    else if (a === '--quiet') opts.quiet = true;
    else if (a === '--help' || a === '-h') opts.help = true;
    else if (opts.check.length && !a.startsWith('-')) opts.check.push(a);
    else throw new Error(`unknown argument ${JSON.stringify(a)}`);
  }
  return opts;
}

/** Exact per-intent counts for n rows (largest remainder on the weights). */
export function quotas(n, intents = INTENTS) {
  const total = intents.reduce((s, it) => s + it.weight, 0);
  const raw = intents.map((it) => (n * it.weight) / total);
  const counts = raw.map(Math.floor);
  let left = n - counts.reduce((a, b) => a + b, 0);
  const order = raw
    .map((r, i) => [r - Math.floor(r), i])
    .sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (let k = 0; left > 0; k++, left--) counts[order[k % order.length][1]]++;
  return counts;
}

/**
 * n conversations from rng. `seen` holds the serialised rows already written
 * (any set); exact duplicates are redrawn and counted.
 */
export function generateSet(rng, n, seen, kind = 'support') {
  const rows = [];
  let redrawn = 0;
  let plan;
  if (kind === 'support') {
    const counts = quotas(n);
    plan = rng.shuffle(INTENTS.flatMap((it, i) => Array(counts[i]).fill(it)));
  } else {
    plan = Array(n).fill(null);
  }
  for (const intent of plan) {
    for (let tries = 0; ; tries++) {
      if (tries > 500)
        throw new Error(
          `cannot draw a new ${intent ? intent.id : 'general'} conversation after 500 tries`,
        );
      let messages;
      if (intent) {
        const c = new Convo(rng, newCustomer(rng));
        intent.build(c);
        messages = c.messages;
      } else {
        messages = buildGeneral(rng);
      }
      const problem = strictProblem(messages, intent ? 5 : 3);
      if (problem)
        throw new Error(
          `generator bug in ${intent ? intent.id : 'general'}: ${problem}\n${JSON.stringify(messages, null, 1)}`,
        );
      const line = JSON.stringify({ messages });
      if (seen.has(line)) {
        redrawn++;
        continue;
      }
      seen.add(line);
      rows.push({ intent: intent ? intent.id : null, messages, line });
      break;
    }
  }
  return { rows, redrawn, draws: rows.length + redrawn };
}

function writeJsonl(file, rows) {
  fs.writeFileSync(file, rows.map((r) => r.line).join('\n') + '\n');
}

function runCheck(files) {
  let bad = 0;
  for (const f of files) {
    const r = checkFile(f);
    if (r.ok) {
      console.log(`${f}: OK, ${r.rows} rows`);
    } else if (r.unreadable) {
      console.error(`${f}: ${r.reason}`);
      return 2;
    } else {
      console.error(`${f}:${r.line}: line ${r.line} is invalid: ${r.reason}`);
      bad++;
    }
  }
  return bad ? 1 : 0;
}

export function generate(opts) {
  const seen = new Set();
  const train = generateSet(new Rng(deriveSeed(opts.seed, 'train')), opts.train, seen);
  const evalSet = generateSet(new Rng(deriveSeed(opts.seed, 'eval')), opts.eval, seen);
  const general = generateSet(
    new Rng(deriveSeed(opts.seed, 'general')),
    opts.general,
    seen,
    'general',
  );
  return { train, eval: evalSet, general };
}

function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`${e.message}\n${USAGE}`);
    process.exit(2);
  }
  if (opts.help) {
    console.log(USAGE);
    return;
  }
  if (opts.check.length) process.exit(runCheck(opts.check));

  const sets = generate(opts);
  fs.mkdirSync(opts.out, { recursive: true });
  const files = { train: 'train.jsonl', eval: 'eval.jsonl', general: 'general.jsonl' };
  for (const [k, name] of Object.entries(files))
    writeJsonl(path.join(opts.out, name), sets[k].rows);

  // Independent re-check of what was written: no exact duplicate within or across sets.
  const lines = (k) => sets[k].rows.map((r) => r.line);
  const trainSet = new Set(lines('train'));
  const cross = lines('eval').filter((l) => trainSet.has(l)).length;
  const dupTrain = lines('train').length - trainSet.size;
  if (cross || dupTrain)
    throw new Error(`duplicates survived: ${cross} across, ${dupTrain} within train`);

  if (opts.quiet) return;
  const labels = Object.fromEntries(INTENTS.map((it) => [it.id, it.label]));
  console.log(`seed ${opts.seed} -> ${opts.out}`);
  for (const k of ['train', 'eval', 'general']) {
    const s = sets[k];
    console.log(formatStats(`${files[k]}`, setStats(s.rows), labels));
    console.log(
      `  exact duplicates redrawn while sampling: ${s.redrawn} of ${s.draws} draws ` +
        `(${((100 * s.redrawn) / Math.max(1, s.draws)).toFixed(2)}%); duplicates written: 0`,
    );
  }
  console.log(`eval rows identical to a train row: ${cross}`);
  const bytes = Object.values(files).reduce(
    (n, f) => n + fs.statSync(path.join(opts.out, f)).size,
    0,
  );
  console.log(`total size: ${(bytes / 1024).toFixed(0)} KiB`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();

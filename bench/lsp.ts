// Latency and memory benchmark of the Tunelab language server against Red Hat's
// yaml-language-server, both validating the same files against the same schema
// (schemas/finetune.schema.json) over LSP on stdio.
//
//   npm run build && node --import tsx bench/lsp.ts [options]
//
//   --edits N       edits per series (default 200)
//   --budget-s S    stop a series after S seconds even if fewer edits were sent
//                   (default 20; yaml-language-server on the 5,000-entry map
//                   needs more than a second per edit)
//   --samples N     completion and hover requests per session (default 30)
//   --only ours|yls run one server only
//   --inputs a,b    subset of typical,list,map
//   --keep          keep the temp dir with the generated inputs
//   --cpu-prof      start our server with --cpu-prof (profiles in the temp dir)
//   --nice N        run the bench and both servers at niceness N (e.g. -10 on a
//                   machine shared with other work; negative values need root)
//
// Inputs are generated at run time into a temp dir: a typical config (the spec
// example padded to ~100 lines), the same with a 5,000-line
// `lora.target_modules` list, and with a 5,000-entry `launch.env` map.
//
// Per server and input, two sessions (each a fresh process):
//   e2e   what the user feels: ours with its default debounce
//         (`tunelab.validate.delayMs` = 50, answered via workspace/configuration),
//         yaml-language-server as shipped (fixed 200 ms wait after each change);
//   proc  processing time: ours with `validate.delayMs: 0`, yaml-language-server
//         from a copy in the temp dir with `validationDelayMs` patched to 0
//         (falls back to e2e minus 200 ms, said so, if the patch cannot be made).
// Each session: cold start (spawn → initialize → initialized → settings pulled →
// didOpen → first publishDiagnostics), then one-character incremental edits
// (`r: 16` ↔ `r: 17`) sent one at a time, each timed from didChange to the
// publishDiagnostics of that version (yaml-language-server sends no version:
// the next publish after the change is taken). The e2e session also times
// completion on a new line inside `training:` and hover on a key, and reads
// VmRSS / VmHWM of the server from /proc after the run.
//
// A benchmark, not a test: it never fails on timing. Every wait is bounded and
// every child process is killed on exit.
//
// The parts live in bench/lsp/: options.ts (paths, figures, command line),
// inputs.ts (generated configs and data), processes.ts (children, temp dir,
// memory), session.ts (one server over LSP), servers.ts (how each server is
// started), schemaCheck.ts, measure.ts (one timed session), statistics.ts and
// report.ts.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildInput, writeDataFiles, type Input } from './lsp/inputs';
import { runSession } from './lsp/measure';
import {
  OUR_SERVER,
  SCHEMA,
  WATCHDOG_MS,
  YLS_BIN,
  YLS_DIR,
  parseOptions,
  type ServerName,
} from './lsp/options';
import { cleanUpOnExit, killAll, removeTempDir, removeTempDirOnExit } from './lsp/processes';
import { keyOf, printReport, progressLine, type Results } from './lsp/report';
import { printSchemaChecks } from './lsp/schemaCheck';
import { makeServers, type Servers } from './lsp/servers';

cleanUpOnExit();

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  const missing = [OUR_SERVER, SCHEMA, path.join(YLS_DIR, YLS_BIN)].filter(
    (f) => !fs.existsSync(f),
  );
  if (missing.length) {
    console.error(`missing: ${missing.join(', ')} (run \`npm run build\`; the schema must exist)`);
    process.exitCode = 1;
    return;
  }
  if (options.nice !== undefined) {
    try {
      // Inherited by the servers spawned below.
      os.setPriority(0, options.nice);
    } catch (err) {
      log(`cannot set niceness ${options.nice}: ${String(err)}`);
      options.nice = undefined;
    }
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tunelab-lsp-bench-'));
  if (!options.keep && !options.cpuProf) removeTempDirOnExit(dir);
  const results: Results = new Map();
  let servers: Servers | undefined;
  let inputs: Input[] = [];
  let dataNote = '';
  const watchdog = setTimeout(() => {
    log(`watchdog: run exceeded ${WATCHDOG_MS / 60_000} min, stopping`);
    killAll();
    if (servers) printReport(results, options, servers, inputs, dataNote);
    process.exit(3);
  }, WATCHDOG_MS);
  watchdog.unref();
  try {
    dataNote = writeDataFiles(dir);
    inputs = options.inputs.map((name) => buildInput(name, dir));
    const typical = inputs.find((i) => i.name === 'typical') ?? buildInput('typical', dir);
    servers = makeServers(dir, options);
    const which: ServerName[] = options.only ? [options.only] : ['ours', 'yls'];

    await printSchemaChecks(servers, which, dir, typical);

    for (const input of inputs) {
      for (const server of which) {
        for (const variant of ['e2e', 'proc'] as const) {
          if (server === 'yls' && variant === 'proc' && servers.ylsProcessing === 'minus-wait')
            continue;
          const spec = servers[server](variant);
          const result = await runSession(spec, input, options, variant === 'e2e');
          results.set(keyOf(server, variant, input.name), result);
          log(progressLine(result));
        }
      }
    }
    printReport(results, options, servers, inputs, dataNote);
    if (options.cpuProf) console.log(`\nCPU profiles of our server: ${path.join(dir, 'profiles')}`);
  } finally {
    clearTimeout(watchdog);
    killAll();
    if (options.keep || options.cpuProf) log(`inputs kept in ${dir}`);
    else removeTempDir();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  killAll();
  process.exitCode = 1;
});

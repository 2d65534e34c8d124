// Hostile-input benchmark: every input of test/lsp/hostileInputs.ts through
// analyze(), each in a fresh child process so peak RSS belongs to that input.
//
//   node --import tsx bench/hostile.ts          engine only
//   node --import tsx bench/hostile.ts --lsp    also through the built server (npm run build)
//
// Prints per input: bytes, analyze() time (wall and CPU, the engine barely
// warmed up as in a fresh server; and the best of 6 more runs, compiled hot),
// peak RSS of the child (and the RSS it had before building the input, i.e.
// node + tsx + the engine loaded),
// number of findings, longest message, first finding code. Goal: under 200 ms
// and 300 MB each, a handful of findings, messages of bounded length.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { HOSTILE_INPUTS, type HostileInput } from '../test/lsp/hostileInputs';

interface Measurement {
  bytes: number;
  ms: number;
  cpuMs: number;
  /** The best of HOT_RUNS more analyses of the same input: the engine's code compiled hot. */
  hotMs: number;
  baseRssMb: number;
  peakRssMb: number;
  findings: number;
  longestMessage: number;
  firstCode: string;
  hasExpected: boolean;
}

const CHILD_FLAG = '--one';
/** Repeated analyses of one input for the hot figure: V8 optimizes code that runs a few times. */
const HOT_RUNS = 6;

async function measureOne(input: HostileInput): Promise<Measurement> {
  const { analyze } = await import('../engine/src/engine');
  // Warm the engine (schema compilation, module loading) on a tiny config first.
  analyze('method: lora\nmodel: {name_or_path: x}\n', 'warm.finetune.yaml');
  const baseRssMb = process.resourceUsage().maxRSS / 1024;
  const text = input.build();
  const cpuStart = process.cpuUsage();
  const start = process.hrtime.bigint();
  const analysis = analyze(text, `/tmp/${input.fileName}`);
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const cpu = process.cpuUsage(cpuStart);
  let hotMs = Infinity;
  for (let run = 0; run < HOT_RUNS; run++) {
    const hotStart = process.hrtime.bigint();
    analyze(text, `/tmp/${input.fileName}`);
    hotMs = Math.min(hotMs, Number(process.hrtime.bigint() - hotStart) / 1e6);
  }
  const findings = analysis.findings;
  return {
    bytes: Buffer.byteLength(text),
    ms,
    cpuMs: (cpu.user + cpu.system) / 1000,
    hotMs,
    baseRssMb,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    findings: findings.length,
    longestMessage: Math.max(0, ...findings.map((f) => f.message.length)),
    firstCode: findings[0]?.code ?? '-',
    hasExpected: findings.some(
      (f) =>
        f.code === input.expectCode &&
        (!input.expectMessage || findings.some((g) => input.expectMessage!.test(g.message))),
    ),
  };
}

function runChild(index: number): Measurement | string {
  const result = spawnSync(
    process.execPath,
    ['--import', 'tsx', __filename, CHILD_FLAG, String(index)],
    { encoding: 'utf8', timeout: 120_000, maxBuffer: 64 * 1024 * 1024 },
  );
  if (result.error) return `failed: ${result.error.message}`;
  if (result.status !== 0) {
    const lastLine = (result.stderr.trim().split('\n').pop() ?? '').slice(0, 100);
    return `exit ${result.status ?? result.signal}: ${lastLine}`;
  }
  return JSON.parse(result.stdout.trim().split('\n').pop()!) as Measurement;
}

function formatRow(cells: (string | number)[], widths: number[]): string {
  return cells
    .map((cell, i) => (i === 0 ? String(cell).padEnd(widths[i]) : String(cell).padStart(widths[i])))
    .join('  ');
}

const HEADINGS = [
  'input',
  'bytes',
  'ms',
  'cpu ms',
  'hot ms',
  'base MB',
  'peak MB',
  'findings',
  'longest',
  'first code',
  'ok',
];
const WIDTHS = [30, 10, 8, 8, 8, 8, 8, 9, 8, 20, 3];

function engineTable(): void {
  console.log(`analyze() per input, fresh process each (${process.version}, ${process.platform})`);
  console.log(formatRow(HEADINGS, WIDTHS));
  HOSTILE_INPUTS.forEach((input, index) => {
    const m = runChild(index);
    if (typeof m === 'string') {
      console.log(formatRow([input.name, '', m], [30, 10, 0]));
      return;
    }
    console.log(
      formatRow(
        [
          input.name,
          m.bytes,
          m.ms.toFixed(1),
          m.cpuMs.toFixed(0),
          m.hotMs.toFixed(1),
          m.baseRssMb.toFixed(0),
          m.peakRssMb.toFixed(0),
          m.findings,
          m.longestMessage,
          m.firstCode,
          m.hasExpected ? 'yes' : 'NO',
        ],
        WIDTHS,
      ),
    );
  });
}

/** Peak resident memory of a process in MB, from /proc (Linux only). */
function peakRssOf(pid: number): number | undefined {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
    return kb ? Number(kb) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

async function lspTable(): Promise<void> {
  const { fileUri, LspTestClient, SERVER_JS } = await import('../test/lsp/client');
  if (!fs.existsSync(SERVER_JS)) {
    console.log(
      `\n${path.relative(process.cwd(), SERVER_JS)} missing: run npm run build for --lsp`,
    );
    return;
  }
  console.log(
    '\nReal language server, a fresh one per input (warmed on a small config): open to diagnostics,',
  );
  console.log('the debounce (tunelab.validate.delayMs, 50 ms) included');
  console.log(
    formatRow(
      ['input', 'bytes', 'ms', 'peak MB', 'diags', 'longest', 'alive'],
      [30, 10, 8, 8, 9, 8, 6],
    ),
  );
  for (const input of HOSTILE_INPUTS) {
    const client = await LspTestClient.start();
    // A normal config first, so the time below is the hostile input's, not the server's warm-up.
    const warm = fileUri('/tmp/hostile-bench/warm.finetune.yaml');
    client.open(warm, 'method: lora\nmodel:\n  name_or_path: x\n');
    await client.diagnosticsFor(warm, 1, 60_000);
    const text = input.build();
    const uri = fileUri(`/tmp/hostile-bench/${input.fileName}`);
    const start = process.hrtime.bigint();
    client.open(uri, text);
    let cells: (string | number)[];
    try {
      const diagnostics = await client.diagnosticsFor(uri, 1, 60_000);
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      const alive = await client
        .hover(uri, 0, 1)
        .then(() => client.process.exitCode === null)
        .catch(() => false);
      cells = [
        input.name,
        Buffer.byteLength(text),
        ms.toFixed(0),
        peakRssOf(client.process.pid!)?.toFixed(0) ?? '?',
        diagnostics.length,
        Math.max(0, ...diagnostics.map((d) => String(d.message).length)),
        alive ? 'yes' : 'NO',
      ];
    } catch (err) {
      cells = [input.name, Buffer.byteLength(text), 'failed', String(err).slice(0, 60)];
    }
    console.log(formatRow(cells, [30, 10, 8, 8, 9, 8, 6]));
    await client.stop().catch(() => undefined);
  }
}

async function main(): Promise<void> {
  const childIndex = process.argv.indexOf(CHILD_FLAG);
  if (childIndex !== -1) {
    const input = HOSTILE_INPUTS[Number(process.argv[childIndex + 1])];
    console.log(JSON.stringify(await measureOne(input)));
    return;
  }
  engineTable();
  if (process.argv.includes('--lsp')) await lspTable();
}

void main();

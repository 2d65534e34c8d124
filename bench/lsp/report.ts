// The Markdown report: the comparison table per input, the targets (reported,
// never asserted), bundle sizes, the machine, and any anomalies.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Input } from './inputs';
import type { SessionResult } from './measure';
import {
  BIG,
  INPUT_TITLES,
  OUR_DEFAULT_DELAY_MS,
  REPO,
  YLS_WAIT_MS,
  type InputName,
  type Options,
  type ServerName,
  type Variant,
} from './options';
import type { MemoryStatus } from './processes';
import type { Servers } from './servers';
import { fmt, median, percentile, ratio } from './statistics';

/** Load average when the bench started, to tell a busy machine in the report. */
const startLoad = os.loadavg()[0];

function fileSize(file: string): string {
  try {
    const bytes = fs.statSync(file).size;
    return bytes > 1024 * 1024
      ? `${(bytes / 1024 / 1024).toFixed(2)} MiB`
      : `${(bytes / 1024).toFixed(0)} KiB`;
  } catch {
    return 'missing';
  }
}

export type Results = Map<string, SessionResult>;
export const keyOf = (server: ServerName, variant: Variant, input: InputName): string =>
  `${server}/${variant}/${input}`;

interface Row {
  label: string;
  cell: (r: {
    ours?: SessionResult;
    yls?: SessionResult;
    input: InputName;
  }) => [string, string, string];
}

export function printReport(
  results: Results,
  options: Options,
  servers: Servers,
  inputs: Input[],
  dataNote: string,
): void {
  const minusWait = servers.ylsProcessing === 'minus-wait';
  const get = (server: ServerName, variant: Variant, input: InputName): SessionResult | undefined =>
    results.get(keyOf(server, variant, input));
  const yProc = (input: InputName): { latencies: number[] } | undefined => {
    if (!minusWait) return get('yls', 'proc', input);
    const e2e = get('yls', 'e2e', input);
    return e2e && { latencies: e2e.latencies.map((x) => x - YLS_WAIT_MS) };
  };
  const series = (latencies: number[] | undefined, n: boolean): string =>
    !latencies || latencies.length === 0
      ? 'n/a'
      : `${fmt(median(latencies))} / ${fmt(percentile(latencies, 0.95))}${n ? ` (n=${latencies.length})` : ''}`;
  const pair = (
    ours: number[] | undefined,
    theirs: number[] | undefined,
  ): [string, string, string] => [
    series(ours, false),
    series(theirs, false),
    ours?.length && theirs?.length
      ? `${ratio(median(theirs), median(ours))} / ${ratio(percentile(theirs, 0.95), percentile(ours, 0.95))}`
      : 'n/a',
  ];
  const single = (
    ours: number | undefined,
    theirs: number | undefined,
    digits?: number,
  ): [string, string, string] => [fmt(ours, digits), fmt(theirs, digits), ratio(theirs, ours)];

  const rows: Row[] = [
    {
      label: `edit → diagnostics, e2e (ours ${OUR_DEFAULT_DELAY_MS} ms debounce, theirs ${YLS_WAIT_MS} ms wait), median / p95 ms`,
      cell: ({ input }) =>
        pair(get('ours', 'e2e', input)?.latencies, get('yls', 'e2e', input)?.latencies),
    },
    {
      label: `edit → diagnostics, processing (ours delayMs 0, theirs ${minusWait ? 'e2e − 200 ms' : 'wait patched to 0'}), median / p95 ms`,
      cell: ({ input }) => pair(get('ours', 'proc', input)?.latencies, yProc(input)?.latencies),
    },
    {
      label: 'edits measured (e2e / proc)',
      cell: ({ input }) => {
        const n = (s: ServerName): string =>
          `${get(s, 'e2e', input)?.latencies.length ?? 0} / ${get(s, 'proc', input)?.latencies.length ?? 0}`;
        return [n('ours'), n('yls'), ''];
      },
    },
    {
      label: 'completion median, ms (items)',
      cell: ({ input }) => {
        const o = get('ours', 'e2e', input);
        const y = get('yls', 'e2e', input);
        const c = (s?: SessionResult): string =>
          s?.completionMs.length ? `${fmt(median(s.completionMs))} (${s.completionItems})` : 'n/a';
        return [c(o), c(y), ratio(y && median(y.completionMs), o && median(o.completionMs))];
      },
    },
    {
      label: 'hover median, ms',
      cell: ({ input }) => {
        const o = get('ours', 'e2e', input);
        const y = get('yls', 'e2e', input);
        const h = (s?: SessionResult): number | undefined =>
          s?.hoverMs.length ? median(s.hoverMs) : undefined;
        return single(h(o), h(y), 1);
      },
    },
    {
      label: 'RSS after the run / peak, MiB',
      cell: ({ input }) => {
        const o = get('ours', 'e2e', input)?.memory;
        const y = get('yls', 'e2e', input)?.memory;
        const m = (x?: MemoryStatus): string =>
          x ? `${x.rssMiB.toFixed(0)} / ${x.hwmMiB.toFixed(0)}` : 'n/a';
        return [m(o), m(y), `${ratio(y?.rssMiB, o?.rssMiB)} / ${ratio(y?.hwmMiB, o?.hwmMiB)}`];
      },
    },
    {
      label: 'cold start to first diagnostics, ms (e2e / proc)',
      cell: ({ input }) => {
        const c = (s: ServerName): string =>
          `${fmt(get(s, 'e2e', input)?.coldMs)} / ${fmt(get(s, 'proc', input)?.coldMs)}`;
        return [
          c('ours'),
          c('yls'),
          ratio(get('yls', 'e2e', input)?.coldMs, get('ours', 'e2e', input)?.coldMs),
        ];
      },
    },
    {
      label: 'of which spawn → initialize result / didOpen → diagnostics, ms (e2e)',
      cell: ({ input }) => {
        const c = (s: ServerName): string =>
          `${fmt(get(s, 'e2e', input)?.initMs)} / ${fmt(get(s, 'e2e', input)?.openMs)}`;
        return [c('ours'), c('yls'), ''];
      },
    },
    {
      label: 'RSS once initialized, before didOpen, MiB',
      cell: ({ input }) => {
        const o = get('ours', 'e2e', input)?.idleMemory?.rssMiB;
        const y = get('yls', 'e2e', input)?.idleMemory?.rssMiB;
        return [fmt(o, 0), fmt(y, 0), ratio(y, o)];
      },
    },
    {
      label: 'diagnostics per publish (open / edits)',
      cell: ({ input }) => {
        const d = (s?: SessionResult): string =>
          s ? `${s.coldDiagnostics ?? '?'} / ${[...s.diagnosticCounts].join(',') || '-'}` : 'n/a';
        return [d(get('ours', 'e2e', input)), d(get('yls', 'e2e', input)), ''];
      },
    },
  ];

  const names = inputs.map((i) => i.name);
  const header = [
    '',
    ...names.flatMap((n) => [`${INPUT_TITLES[n]}: ours`, 'yaml-language-server', 'theirs/ours']),
  ];
  const inputLines = inputs.map((i) => `${i.name} ${i.lines} lines`).join(', ');
  console.log('');
  console.log(`## Tunelab LSP vs yaml-language-server 1.25.0 (${inputLines})`);
  console.log('');
  console.log(
    `Inputs: the spec example padded with training keys; the list is \`lora.target_modules\` as ${BIG.toLocaleString('en')} \`model.layers.N.<module>\` names, the map is \`launch.env\` with ${BIG.toLocaleString('en')} variables; ${dataNote}. ` +
      `Edits: \`r: 16\` ↔ \`r: 17\`, incremental, one at a time. Completion on a blank line inside \`training:\`, hover on \`learning_rate\`.`,
  );
  console.log('');
  console.log(`| ${header.join(' | ')} |`);
  console.log(`|${header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`);
  for (const row of rows) {
    const cells = names.flatMap((input) =>
      row.cell({ ours: get('ours', 'e2e', input), yls: get('yls', 'e2e', input), input }),
    );
    console.log(`| ${row.label} | ${cells.join(' | ')} |`);
  }
  console.log('');

  // Targets (reported, never asserted).
  const mark = (ok: boolean | undefined): string =>
    ok === undefined ? 'n/a' : ok ? 'met' : 'MISSED';
  console.log('### Targets');
  console.log('');
  const typicalProc = get('ours', 'proc', 'typical')?.latencies;
  const p95 = typicalProc?.length ? percentile(typicalProc, 0.95) : undefined;
  console.log(
    `- typical config p95 server-side < 10 ms: ${fmt(p95)} ms → ${mark(p95 === undefined ? undefined : p95 < 10)}`,
  );
  for (const input of names) {
    const ours = get('ours', 'proc', input)?.latencies;
    const theirs = yProc(input)?.latencies;
    const oursE = get('ours', 'e2e', input)?.latencies;
    const theirsE = get('yls', 'e2e', input)?.latencies;
    const r = ours?.length && theirs?.length ? median(theirs) / median(ours) : undefined;
    const rE = oursE?.length && theirsE?.length ? median(theirsE) / median(oursE) : undefined;
    const r95 =
      ours?.length && theirs?.length
        ? percentile(theirs, 0.95) / percentile(ours, 0.95)
        : undefined;
    console.log(
      `- ≥3× faster than yaml-language-server, ${INPUT_TITLES[input]}: processing median ${ratio(r, 1)}, p95 ${ratio(r95, 1)}, e2e median ${ratio(rE, 1)} → ${mark(r === undefined ? undefined : r >= 3 && (r95 ?? 0) >= 3)}`,
    );
  }
  for (const input of names) {
    const m = get('ours', 'e2e', input)?.memory;
    console.log(
      `- RSS < 100 MiB, ${INPUT_TITLES[input]}: after ${m ? m.rssMiB.toFixed(0) : 'n/a'} MiB, peak ${m ? m.hwmMiB.toFixed(0) : 'n/a'} MiB → ${mark(m ? m.hwmMiB < 100 : undefined)}`,
    );
  }
  console.log('');
  console.log('### Sizes');
  console.log('');
  console.log(
    `- dist/extension.js: ${fileSize(path.join(REPO, 'dist', 'extension.js'))} (activation cost proxy)`,
  );
  console.log(`- dist/server.js: ${fileSize(path.join(REPO, 'dist', 'server.js'))}`);
  const vsix = fs.readdirSync(REPO).filter((f) => f.endsWith('.vsix'));
  for (const f of vsix) console.log(`- ${f}: ${fileSize(path.join(REPO, f))}`);
  if (vsix.length === 0) console.log('- no *.vsix in the repo root');
  console.log('');
  const cpu = os.cpus();
  const load = os.loadavg()[0];
  console.log(
    `Load average (1 min) at start ${startLoad.toFixed(2)}, at end ${load.toFixed(2)} on ${cpu.length} CPUs` +
      (Math.max(startLoad, load) > 0.75 * cpu.length
        ? ' — the machine was busy with other work: figures are inflated, compare ratios only'
        : ''),
  );
  console.log(
    `Node ${process.version}, ${cpu.length} CPUs (${cpu[0]?.model.trim() ?? '?'}), ${options.edits} edits or ${options.budgetMs / 1000} s per series, ${options.samples} completion/hover samples${options.nice !== undefined ? `, niceness ${options.nice}` : ''}; ${new Date().toISOString()}`,
  );

  const problems = [...results.values()].filter((r) => r.errors.length || r.extraPublishes);
  if (problems.length) {
    console.log('');
    console.log('### Anomalies');
    console.log('');
    for (const r of problems) {
      const what = [...r.errors];
      if (r.extraPublishes) what.push(`${r.extraPublishes} publishes beyond one per change`);
      console.log(`- ${r.server} ${r.variant} ${r.input}: ${what.join('; ')}`);
    }
  }
}

/** One progress line (on stderr) per measured session. */
export function progressLine(result: SessionResult): string {
  return (
    `${result.server.padEnd(4)} ${result.variant.padEnd(4)} ${result.input.padEnd(7)} cold ${fmt(result.coldMs)} ms, ` +
    `${result.latencies.length} edits median ${fmt(median(result.latencies))} p95 ${fmt(percentile(result.latencies, 0.95))} ms` +
    (result.completionMs.length
      ? `, completion ${fmt(median(result.completionMs))} ms (${result.completionItems} items)`
      : '') +
    (result.hoverMs.length ? `, hover ${fmt(median(result.hoverMs))} ms` : '') +
    (result.memory
      ? `, RSS ${result.memory.rssMiB.toFixed(0)}/${result.memory.hwmMiB.toFixed(0)} MiB`
      : '') +
    (result.errors.length ? ` ERRORS: ${result.errors.join('; ')}` : '')
  );
}

// `tunelab convert [--to native|axolotl|llamafactory|trl] [--out FILE] [--force] [--format text|json] FILE`:
// writes the native config an Axolotl, LLaMA-Factory or TRL config amounts to,
// or a native config for one of those tools (stdout unless --out). Every key
// it drops or respells is named (stderr in text, fields in JSON). Refuses
// (exit 1) when the conversion loses something that changes training (keys
// without an equivalent, data that is not a local JSON Lines file), unless --force.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { DROP_REASONS, toNativeConfig } from '../../engine/src/dialects/convert';
import { fromNativeConfig } from '../../engine/src/dialects/fromNative';
import { analyze, type AnalyzeOptions } from '../../engine/src/engine';
import type { Dialect } from '../../engine/src/types';
import { readConfigFile } from './readConfig';

export interface ConvertOutcome {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export type ConvertOptions = {
  out?: string;
  force?: boolean;
  to?: Dialect;
  format?: 'text' | 'json';
} & AnalyzeOptions;

export function convertFile(file: string, options: ConvertOptions = {}): ConvertOutcome {
  const fail = (exitCode: number, message: string): ConvertOutcome =>
    options.format === 'json'
      ? { exitCode, stdout: JSON.stringify({ file, error: message }) + '\n', stderr: '' }
      : { exitCode, stdout: '', stderr: `tunelab: ${message}\n` };
  const read = readConfigFile(file);
  if (!read.ok) return fail(2, read.error);
  if ('encodingFinding' in read) return fail(2, `${file}: ${read.encodingFinding.message}`);
  const analysis = analyze(read.text, path.resolve(file), options);
  if (!analysis.dialect) return fail(2, `${file} is not a fine-tuning config`);
  const to = options.to ?? (analysis.dialect === 'native' ? undefined : 'native');
  if (!to || to === analysis.dialect)
    return fail(2, `${file} is already a ${analysis.dialect} config; give --to`);
  if (to !== 'native' && analysis.dialect !== 'native')
    return fail(2, `convert ${file} to native first`);
  const conversion =
    to === 'native'
      ? toNativeConfig(analysis)
      : (() => {
          const c = fromNativeConfig(analysis, to);
          return c && { ...c, missing: [] as string[], changed: [] as string[] };
        })();
  if (!conversion) return fail(2, `cannot convert ${file}`);
  const dropped = conversion.dropped.map((key) => ({
    key,
    reason: (to === 'native' && DROP_REASONS[key]) || `no equivalent in ${to}`,
  }));
  const refused = !conversion.lossless && !options.force;
  if (!refused && options.out) fs.writeFileSync(options.out, conversion.text);

  if (options.format === 'json') {
    const report = {
      file,
      from: analysis.dialect,
      to,
      lossless: conversion.lossless,
      converted: !refused,
      dropped,
      changed: conversion.changed,
      missing: conversion.missing,
      out: !refused && options.out ? options.out : null,
      config: !refused && !options.out ? conversion.text : null,
    };
    return { exitCode: refused ? 1 : 0, stdout: JSON.stringify(report) + '\n', stderr: '' };
  }
  const problems = [
    ...dropped.map((d) => `  ${d.key}: dropped: ${d.reason}`),
    ...conversion.missing.map((m) => `  needs ${m}`),
  ];
  const changes = conversion.changed.map((c) => `  ${c}`);
  if (refused) {
    return {
      exitCode: 1,
      stdout: '',
      stderr: `tunelab: ${file} does not convert losslessly (--force converts anyway):\n${[...problems, ...changes].join('\n')}\n`,
    };
  }
  const stderr =
    (problems.length ? `tunelab: converted with losses:\n${problems.join('\n')}\n` : '') +
    (changes.length ? `tunelab: respelled, same meaning:\n${changes.join('\n')}\n` : '');
  return { exitCode: 0, stdout: options.out ? '' : conversion.text, stderr };
}

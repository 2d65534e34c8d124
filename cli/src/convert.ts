// `tunelab convert [--to native|axolotl|llamafactory|trl] [--out FILE] [--force] FILE`:
// writes the native config an Axolotl, LLaMA-Factory or TRL config amounts to,
// or a native config for one of those tools (stdout unless --out). Refuses
// (exit 1) when the conversion loses something that changes training (keys
// without an equivalent, data that is not a local JSON Lines file), unless --force.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { toNativeConfig } from '../../engine/src/dialects/convert';
import { fromNativeConfig } from '../../engine/src/dialects/fromNative';
import { analyze, type AnalyzeOptions } from '../../engine/src/engine';
import type { Dialect } from '../../engine/src/types';
import { readConfigFile } from './readConfig';

export interface ConvertOutcome {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export function convertFile(
  file: string,
  options: { out?: string; force?: boolean; to?: Dialect } & AnalyzeOptions = {},
): ConvertOutcome {
  const read = readConfigFile(file);
  if (!read.ok) return { exitCode: 2, stdout: '', stderr: `tunelab: ${read.error}\n` };
  if ('encodingFinding' in read)
    return {
      exitCode: 2,
      stdout: '',
      stderr: `tunelab: ${file}: ${read.encodingFinding.message}\n`,
    };
  const analysis = analyze(read.text, path.resolve(file), options);
  if (!analysis.dialect)
    return { exitCode: 2, stdout: '', stderr: `tunelab: ${file} is not a fine-tuning config\n` };
  const to = options.to ?? (analysis.dialect === 'native' ? undefined : 'native');
  if (!to || to === analysis.dialect)
    return {
      exitCode: 2,
      stdout: '',
      stderr: `tunelab: ${file} is already a ${analysis.dialect} config; give --to\n`,
    };
  if (to !== 'native' && analysis.dialect !== 'native')
    return { exitCode: 2, stdout: '', stderr: `tunelab: convert ${file} to native first\n` };
  const conversion =
    to === 'native'
      ? toNativeConfig(analysis)
      : (() => {
          const c = fromNativeConfig(analysis, to);
          return c && { ...c, missing: [] as string[] };
        })();
  if (!conversion) return { exitCode: 2, stdout: '', stderr: `tunelab: cannot convert ${file}\n` };
  const problems = [
    ...conversion.dropped.map((k) => `  ${k}: no equivalent in ${to}`),
    ...conversion.missing.map((m) => `  needs ${m}`),
  ];
  if (!conversion.lossless && !options.force) {
    return {
      exitCode: 1,
      stdout: '',
      stderr: `tunelab: ${file} does not convert losslessly (--force converts anyway):\n${problems.join('\n')}\n`,
    };
  }
  const warning = problems.length
    ? `tunelab: converted with losses:\n${problems.join('\n')}\n`
    : '';
  if (options.out) {
    fs.writeFileSync(options.out, conversion.text);
    return { exitCode: 0, stdout: '', stderr: warning };
  }
  return { exitCode: 0, stdout: conversion.text, stderr: warning };
}

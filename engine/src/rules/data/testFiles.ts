// Test helpers for the data rules: a real folder in the temp dir with a config
// file and JSONL files next to it, linted through the engine with the real
// data reader.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { summarizeData } from '../../data/inspect';
import type { AnalyzeOptions } from '../../engine';
import type { Finding } from '../../types';
import { findings } from '../testing';

export interface TempProject {
  dir: string;
  /** Writes a file (parents created) relative to the project; returns its absolute path. */
  write(relative: string, text: string): string;
  /** Writes the config as `run.finetune.yaml` and lints it with the data reader; findings of `code`. */
  lint(code: string, yaml: string, options?: AnalyzeOptions): Finding[];
  remove(): void;
}

export function tempProject(): TempProject {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tunelab-rules-'));
  const write = (relative: string, text: string) => {
    const file = path.join(dir, relative);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
    return file;
  };
  return {
    dir,
    write,
    lint(code, yaml, options = {}) {
      const fileName = write('run.finetune.yaml', yaml);
      return findings(code, yaml, { summarizeData, ...options, fileName });
    },
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/** One `messages` row with a user turn and an assistant answer of `answerChars` characters. */
export function chatRow(answerChars = 40, question = 'How do I reset my router?'): string {
  return JSON.stringify({
    messages: [
      { role: 'user', content: question },
      { role: 'assistant', content: 'x'.repeat(answerChars) },
    ],
  });
}

/** `n` rows, newline-terminated. */
export function rows(n: number, row: (i: number) => string = () => chatRow()): string {
  let text = '';
  for (let i = 0; i < n; i++) text += row(i) + '\n';
  return text;
}

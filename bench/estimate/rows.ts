// The measured rows: every memory-truth*.csv in the shared data folder
// (`../shared/data` next to the repo, or $TUNELAB_SHARED/data), one record per
// CSV row, tagged with its file.

import * as fs from 'node:fs';
import * as path from 'node:path';

const repoRoot = path.resolve(__dirname, '..', '..');
export const sharedDir = process.env.TUNELAB_SHARED
  ? path.join(process.env.TUNELAB_SHARED, 'data')
  : path.resolve(repoRoot, '..', 'shared', 'data');

export type Row = Record<string, string> & { __file: string };

function parseCsv(text: string, file: string): Row[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const split = (line: string): string[] => {
    const out: string[] = [];
    let cur = '';
    let quoted = false;
    for (let i = 0; i < line.length; i++) {
      const c = line[i];
      if (quoted) {
        if (c === '"' && line[i + 1] === '"') {
          cur += '"';
          i++;
        } else if (c === '"') quoted = false;
        else cur += c;
      } else if (c === '"') quoted = true;
      else if (c === ',') {
        out.push(cur);
        cur = '';
      } else cur += c;
    }
    out.push(cur);
    return out;
  };
  const header = split(lines[0] ?? '');
  return lines.slice(1).map((line) => {
    const cells = split(line);
    const row: Row = { __file: file };
    header.forEach((h, i) => (row[h] = cells[i] ?? ''));
    return row;
  });
}

export function loadRows(): Row[] {
  if (!fs.existsSync(sharedDir)) {
    console.error(`no shared data folder at ${sharedDir} (set TUNELAB_SHARED)`);
    process.exit(2);
  }
  const files = fs
    .readdirSync(sharedDir)
    .filter((f) => /^memory-truth.*\.csv$/.test(f))
    .sort();
  return files.flatMap((f) => parseCsv(fs.readFileSync(path.join(sharedDir, f), 'utf8'), f));
}

export function settingsLabel(row: Row): string {
  const bits = [
    row.method === 'full' ? row.weights_dtype : `r${row.lora_r} ${row.lora_targets}`,
    `${row.seq_len}x${row.micro_batch}`,
    row.grad_ckpt === 'true' ? 'ckpt' : 'no-ckpt',
    row.optimizer.replace('adamw_torch_fused', 'fused').replace('paged_adamw_8bit', 'paged8'),
  ];
  if (row.prepare_kbit === 'false') bits.push('no-prep');
  if (row.num_gpus && row.num_gpus !== '1') bits.push(`${row.num_gpus}x ${row.parallelism}`);
  if (row.training_bf16 === 'false') bits.push('bf16=false');
  return bits.join(' ');
}

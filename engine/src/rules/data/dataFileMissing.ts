import { shortText } from '../../schema/messageText';
import * as path from 'node:path';
import type { Rule } from '../rule';
import { fileState } from '../evaluation/shared';
import { namedDataFiles } from './shared';

/** Files the evaluation section names, read after training (docs/evaluation.md). */
const EVALUATION_FILES = [
  ['evaluation', 'forgetting', 'file'],
  ['evaluation', 'task', 'json_schema'],
] as const;

export const dataFileMissing: Rule = {
  code: 'data-file-missing',
  severity: 'error',
  doc: {
    title: 'A data file that does not exist or is not a file',
    why: 'The runner reads `data.train_file`, `data.eval_file` and `data.general_data.file` only after the model is loaded, so a wrong path fails a run minutes (or a queue wait) after launch; `evaluation.forgetting.file` and `evaluation.task.json_schema` are read only after training, so a wrong path there loses the evaluation of a finished run. Relative paths are read from the folder of the config file, not from the folder the command is started in, a frequent surprise.',
    fix: 'Correct the path (relative to the config file), or create the file.',
    thresholds:
      'A path that names a folder, or anything else that is not a regular file (`/dev/zero`, a named pipe, a socket: the editor does not read those), is reported too. Silent when the file exists but cannot be read by the editor (the runner may have other permissions), for relative paths in an unsaved config, and for absolute or `~` paths when the launch target is `ssh` or `slurm` (the file may live on the remote machine).',
  },
  check(ctx) {
    const target = ctx.value(['launch', 'target']);
    const remote = target === 'ssh' || target === 'slurm';
    const hits = [];
    for (const file of namedDataFiles(ctx)) {
      const { summary } = file;
      const relative = !path.isAbsolute(file.written) && !file.written.startsWith('~');
      if (!summary.exists) {
        if (remote && !relative) continue;
        const where = relative
          ? ` Relative paths are read from the config file's folder: this one resolves to ${shortText(summary.path)}.`
          : '';
        hits.push({
          message: `\`${file.key}\`: \`${shortText(file.written)}\` does not exist.${where} The run would stop when it loads the data, after the model.`,
          range: ctx.rangeAt(file.path),
        });
      } else if (summary.error && /directory/.test(summary.error)) {
        hits.push({
          message: `\`${file.key}\`: ${shortText(summary.path)} is a folder; give the path of one JSON Lines file.`,
          range: ctx.rangeAt(file.path),
        });
      } else if (summary.error && /not a regular file/.test(summary.error)) {
        hits.push({
          message: `\`${file.key}\`: ${shortText(summary.path)} is not a regular file (a device, pipe or socket): it was not read, and the runner would block on it or read it without end. Give the path of one JSON Lines file.`,
          range: ctx.rangeAt(file.path),
        });
      }
    }
    for (const configPath of EVALUATION_FILES) {
      const written = ctx.value([...configPath]);
      if (typeof written !== 'string' || written === '') continue;
      const relative = !path.isAbsolute(written) && !written.startsWith('~');
      if (remote && !relative) continue;
      const found = fileState(written, ctx.configDir);
      if (found === undefined || found.state === 'file') continue;
      const { state, absPath: resolved } = found;
      const key = configPath.join('.');
      const problem =
        state === 'missing'
          ? `\`${shortText(written)}\` does not exist.${relative ? ` Relative paths are read from the config file's folder: this one resolves to ${shortText(resolved)}.` : ''}`
          : state === 'folder'
            ? `${shortText(resolved)} is a folder; give the path of one file.`
            : `${shortText(resolved)} is not a regular file (a device, pipe or socket).`;
      hits.push({
        message: `\`${key}\`: ${problem} The evaluation reads it after training, so the finished run would go unevaluated.`,
        range: ctx.rangeAt([...configPath]),
      });
    }
    return hits;
  },
};

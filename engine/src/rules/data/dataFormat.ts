import type { Rule, RuleHit } from '../rule';
import { count, describeFile, namedDataFiles } from './shared';

export const dataFormat: Rule = {
  code: 'data-format',
  severity: 'error',
  // Native-only: reads keys (or runner behaviour) the other dialects do not have.
  dialects: ['native'],
  doc: {
    title: 'A data file line that is not JSON or lacks the fields of `data.format`',
    why: 'Every line of a data file must be one JSON object in the shape `data.format` names: `messages` = `{"messages": [{"role": "system"|"user"|"assistant"|"tool", "content": "..."}]}` with at least one assistant turn; `prompt_completion` = `{"prompt": "...", "completion": "..."}`; `text` = `{"text": "..."}`. The runner stops at the first bad line after loading the model; a row without an assistant turn carries no loss. `data.general_data.file` may mix the three shapes line by line, as the runner reads it.',
    fix: 'Fix the named line (and the others the count reports), or set `data.format` to the shape the file has. An empty file needs rows.',
    thresholds:
      'Checks the first 20 MB of each file. The message names the first bad line (1-based, counting blank lines) and how many of the lines read are bad.',
  },
  check(ctx) {
    const hits: RuleHit[] = [];
    for (const file of namedDataFiles(ctx)) {
      const { summary } = file;
      if (!summary.exists || summary.error) continue;
      const range = ctx.rangeAt(file.path);
      if (summary.rows === 0 && !summary.partial) {
        hits.push({
          message: `\`${file.key}\`: ${describeFile(file)} has no rows (it is empty or holds only blank lines); the runner stops with "${file.key.split('.').pop()} is empty".`,
          range,
        });
        continue;
      }
      if (!summary.firstBadLine) continue;
      const { line, reason } = summary.firstBadLine;
      const others =
        summary.badLines > 1
          ? ` ${count(summary.badLines)} of the ${count(summary.rows)} lines${summary.partial ? ' in the first 20 MB' : ''} are bad.`
          : '';
      const fixHint =
        reason.startsWith('not ') || file.key === 'data.general_data.file'
          ? 'The runner stops at such a line: fix the data before training.'
          : `Fix the data, or \`data.format\` (now \`${ctx.plan.data.format}\`), before training.`;
      hits.push({
        message: `\`${file.key}\`: line ${line} of ${describeFile(file)}: ${reason}.${others} ${fixHint}`,
        range,
      });
    }
    return hits;
  },
};

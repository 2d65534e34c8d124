import type { Rule } from '../rule';
import { count, describeFile, namedDataFiles } from './shared';

/** Share of rows above max_length beyond which the rule fires. */
export const TRUNCATION_SHARE = 0.05;

export const dataTruncation: Rule = {
  code: 'data-truncation',
  severity: 'info',
  doc: {
    title: 'Many training examples are longer than `max_length`',
    why: "Examples longer than `data.max_length` tokens are cut at the end. In chat data the end is the assistant's answer, the part that carries the loss with `completion_only_loss`, so the model learns answers that stop mid-sentence, or an example contributes nothing at all. A few outliers do little harm; a noticeable share means max_length was set without looking at the data.",
    fix: 'Raise `data.max_length` to the suggested length (activation memory grows with it; the estimate shows the cost), or shorten or split the longest examples.',
    thresholds: `More than ${TRUNCATION_SHARE * 100}% of the rows read (the first 20 MB of \`data.train_file\`) are estimated longer than max_length. Lengths are estimated without the tokenizer (3.6 characters per token plus 4 tokens of chat template per message), good to about ±20% on English text, so the rule is an info, not a warning.`,
  },
  check(ctx) {
    const maxLength = ctx.plan.data.maxLength;
    if (maxLength === undefined || maxLength <= 0) return [];
    const train = namedDataFiles(ctx).find((f) => f.key === 'data.train_file');
    const lengths = train?.summary.tokenLengths ?? [];
    if (!train || lengths.length === 0) return [];
    let over = 0;
    for (const n of lengths) if (n > maxLength) over++;
    const share = over / lengths.length;
    if (share <= TRUNCATION_SHARE) return [];
    const sorted = Float64Array.from(lengths).sort();
    const p95 = sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.95) - 1)];
    const suggestion = nextPowerOfTwo(Math.max(p95, maxLength + 1));
    const read = train.summary.partial ? ' in the first 20 MB' : '';
    return [
      {
        message: `About ${percent(share)} of the training examples (${count(over)} of ${count(lengths.length)}${read} of ${describeFile(train)}) are estimated longer than \`max_length: ${maxLength}\` tokens (longest about ${count(sorted[sorted.length - 1])}) and will be cut at the end, where the assistant's answer is. \`max_length: ${suggestion}\` fits 95% of the examples (at the cost of activation memory); or shorten the long ones.`,
        range: ctx.rangeAt(['data', 'max_length']),
      },
    ];
  },
};

function nextPowerOfTwo(n: number): number {
  return 2 ** Math.ceil(Math.log2(Math.max(n, 512)));
}

function percent(share: number): string {
  const value = share * 100;
  return `${value < 10 ? value.toFixed(1).replace(/\.0$/, '') : Math.round(value)}%`;
}

import { exactSourceAt, sourceAt } from '../../parse';
import type { Path } from '../../types';
import type { RuleContext } from '../context';
import type { Rule, RuleHit } from '../rule';

/** Values visited at most: far above any real config, low enough for a hostile one. */
const MAX_VISITED = 20_000;
/** Findings reported at most: one bad paste must not bury the rest. */
const MAX_HITS = 20;

export const nonFiniteNumber: Rule = {
  code: 'non-finite-number',
  severity: 'error',
  doc: {
    title: 'A number that is infinite or not a number',
    why: 'YAML reads `.inf`, `.nan` and numbers too large for a double (`1e400`) as Infinity or NaN. No setting can use them: `num_train_epochs: .inf` trains until the job is killed, `r: 1e400` fails when the adapter is built, a NaN learning rate turns the loss into NaN. The checks and the estimate cannot reason about them either, and would otherwise fall back to the default (`r: 1e400` estimated as r 8).',
    fix: 'Write the finite number you meant.',
    thresholds:
      'Every number in the file, at any depth (the first 20,000 values, at most 20 findings). While a setting Tunelab reads for its checks (`lora.r`, `training.*` sizes, `hardware.num_gpus`, ...) is not finite, the memory estimate is skipped.',
  },
  check(ctx) {
    const hits: RuleHit[] = [];
    const stack: { value: unknown; path: Path }[] = [{ value: ctx.parsed.value, path: [] }];
    let visited = 0;
    while (stack.length && visited < MAX_VISITED && hits.length < MAX_HITS) {
      const { value, path } = stack.pop() as { value: unknown; path: Path };
      visited++;
      if (typeof value === 'number') {
        if (!Number.isFinite(value)) hits.push(hitAt(ctx, value, path));
      } else if (Array.isArray(value)) {
        for (let i = value.length - 1; i >= 0; i--)
          stack.push({ value: value[i], path: [...path, i] });
      } else if (value !== null && typeof value === 'object') {
        const entries = Object.entries(value as Record<string, unknown>);
        for (let i = entries.length - 1; i >= 0; i--) {
          stack.push({ value: entries[i][1], path: [...path, entries[i][0]] });
        }
      }
    }
    return hits;
  },
};

function hitAt(ctx: RuleContext, value: number, path: Path): RuleHit {
  const key = describePath(path);
  const what = Number.isNaN(value)
    ? 'is not a number (NaN)'
    : `is ${value > 0 ? '' : 'minus '}infinity`;
  const estimateSkipped = usedByEstimate(ctx, path)
    ? ' The memory estimate is skipped until it is finite rather than shown for the default.'
    : '';
  // Ranges in the file's own keys (for a dialect too): the walk is over the text as written.
  const node = exactSourceAt(ctx.parsed.root, path);
  const range = node?.valueRange ?? sourceAt(ctx.parsed.root, path)?.keyRange ?? ctx.rangeAt([]);
  return {
    message: `\`${key}\` ${what}: no run can use it, and the trainer would receive it as is. Write a finite number.${estimateSkipped}`,
    range,
  };
}

/** `training.num_train_epochs`, `lora.target_modules[2]`. */
function describePath(path: Path): string {
  let text = '';
  for (const segment of path) {
    text += typeof segment === 'number' ? `[${segment}]` : text ? `.${segment}` : segment;
  }
  return text || '(the document)';
}

/** True when `path` is where a plan field listed as invalid came from. */
function usedByEstimate(ctx: RuleContext, path: Path): boolean {
  return (ctx.plan.invalidNumbers ?? []).some((field) => {
    const where = ctx.plan.where[field];
    return (
      where !== undefined && where.length <= path.length && where.every((s, i) => s === path[i])
    );
  });
}

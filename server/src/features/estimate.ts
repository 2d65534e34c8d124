// The memory estimate in the editor: a code lens at the top of a config, the
// breakdown on hover over the keys that drive it, and method conversion actions.

import { CodeActionKind, type CodeAction, type CodeLens } from 'vscode-languageserver/node';
import { formatGiB } from '../../../engine/src/estimate/index';
import type { Analysis } from '../../../engine/src/engine';
import type { Method } from '../../../engine/src/plan';
import {
  buildEstimateReport,
  estimateLensTitle,
  estimateMarkdown,
  recommendationFor,
} from '../../../engine/src/report/estimateReport';
import { methodEdits } from '../../../engine/src/report/proposal';
import { exactSourceAt } from '../../../engine/src/parse';
import type { Path, Range } from '../../../engine/src/types';
import { contains } from '../../../engine/src/cursor';

/** Keys whose hover shows the estimate: changing them changes the memory. */
const ESTIMATE_KEYS: readonly Path[] = [
  ['method'],
  ['model'],
  ['model', 'name_or_path'],
  ['training', 'per_device_train_batch_size'],
  ['data', 'max_length'],
  ['lora', 'r'],
  ['training', 'gradient_checkpointing'],
  ['hardware', 'gpu'],
];

export const SHOW_ESTIMATE_COMMAND = 'tunelab.showEstimate';

export function isEstimateKey(path: Path): boolean {
  return ESTIMATE_KEYS.some((k) => k.length === path.length && k.every((s, i) => s === path[i]));
}

export function estimateHoverMarkdown(analysis: Analysis): string | undefined {
  const report = buildEstimateReport(analysis);
  return report ? estimateMarkdown(report) : undefined;
}

export function estimateCodeLenses(uri: string, analysis: Analysis): CodeLens[] {
  const top: Range = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
  const report = buildEstimateReport(analysis);
  if (!report) {
    if (!analysis.plan?.method) return [];
    return [
      {
        range: top,
        command: {
          title:
            'Memory estimate unavailable: model architecture unknown (give model.architecture or a local path)',
          command: '',
        },
      },
    ];
  }
  return [
    {
      range: top,
      command: {
        title: estimateLensTitle(report),
        command: SHOW_ESTIMATE_COMMAND,
        arguments: [uri],
      },
    },
  ];
}

export function estimateBreakdown(analysis: Analysis): string | undefined {
  const report = buildEstimateReport(analysis);
  return report ? estimateMarkdown(report, true) : undefined;
}

const METHOD_TITLES: Record<Method, string> = {
  full: 'full fine-tuning',
  lora: 'LoRA',
  qlora: 'QLoRA',
};

/**
 * "Convert to …" actions on the `method` line; the recommended method comes
 * first. Each title's figure is the estimate of the config its edits write.
 */
export function methodConversionActions(
  uri: string,
  analysis: Analysis,
  range: Range,
): CodeAction[] {
  const parsed = analysis.parsed;
  const method = analysis.plan?.method;
  const methodNode = parsed ? exactSourceAt(parsed.root, ['method']) : undefined;
  if (!parsed || !method || !methodNode?.keyRange) return [];
  const line = methodNode.keyRange.start.line;
  if (!(contains(methodNode.valueRange, range.start) || range.start.line === line)) return [];
  const recommended = recommendationFor(analysis);
  const targets = (['lora', 'qlora', 'full'] as Method[]).filter((m) => m !== method);
  targets.sort((a, b) => Number(b === recommended?.method) - Number(a === recommended?.method));
  return targets.flatMap((target) => {
    const edits = methodEdits(analysis, target);
    if (!edits) return [];
    const estimate = recommended?.estimates[target];
    const figure = estimate ? ` (≈ ${formatGiB(estimate.perGpuBytes)} per GPU)` : '';
    return [
      {
        title:
          target === recommended?.method
            ? `Convert to ${METHOD_TITLES[target]} (recommended: ${recommended.reason})`
            : `Convert to ${METHOD_TITLES[target]}${figure}`,
        kind: CodeActionKind.RefactorRewrite,
        isPreferred: target === recommended?.method,
        edit: { changes: { [uri]: edits } },
      },
    ];
  });
}

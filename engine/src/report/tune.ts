// "Fastest that fits" for an analysed config: the search's inputs gathered
// from the analysis, and its changes written back as minimal edits (the value
// at fault only, comments kept). Native configs only: the keys it writes
// (use_liger_kernel, liger_kernel_config, torch_compile, max_length, attn_implementation) have no
// common spelling in the other tools.
// The editor's code action and `tunelab tune` share it.

import { chainEdits, setKey } from '../edits';
import type { Analysis } from '../engine';
import {
  fastestThatFits,
  type TuneChange,
  type TuneField,
  type TuneResult,
} from '../estimate/fastest';
import { LIGER_LAYER_KERNEL_KEYS } from '../estimate/fusedLoss';
import type { GpuSpec } from '../hardware/types';
import type { ParsedYaml } from '../parse';
import type { TextEdit } from '../types';
import { estimateAfterEdits, runInputsOfAnalysis } from './proposal';

export interface TuneProposal extends TuneResult {
  edits: TextEdit[];
  /** The whole-run peak of the edited config, re-analysed (what the estimate shows once applied). */
  checkedPeakBytes: number | undefined;
}

/** The config section and key each change writes. */
export const TUNE_KEYS: Record<
  Exclude<TuneField, 'training.ligerLayerKernels'>,
  [string, string]
> = {
  'training.microBatch': ['training', 'per_device_train_batch_size'],
  'training.gradAccum': ['training', 'gradient_accumulation_steps'],
  'training.gradientCheckpointing': ['training', 'gradient_checkpointing'],
  'training.useLigerKernel': ['training', 'use_liger_kernel'],
  'training.torchCompile': ['training', 'torch_compile'],
  'model.attnImplementation': ['model', 'attn_implementation'],
  'data.maxLength': ['data', 'max_length'],
};

export interface TuneWrite {
  /** The mapping the key lives in: [section] or [section, sub-mapping]. */
  section: string[];
  key: string;
  value: number | boolean | string;
}

/** The keys and values a change writes into the config. */
export function tuneWrites(c: TuneChange): TuneWrite[] {
  if (c.field === 'training.ligerLayerKernels')
    return LIGER_LAYER_KERNEL_KEYS.map((key) => ({
      section: ['training', 'liger_kernel_config'],
      key,
      value: c.to,
    }));
  const [section, key] = TUNE_KEYS[c.field];
  return [{ section: [section], key, value: c.to }];
}

export function tuneEdits(parsed: ParsedYaml, changes: readonly TuneChange[]): TextEdit[] {
  return chainEdits(
    parsed.text,
    changes.flatMap((c) =>
      tuneWrites(c).map((w) => (p: ParsedYaml) => setKey(p, w.section, w.key, String(w.value))),
    ),
  );
}

/**
 * The fastest settings that fit `gpu` (the config's own by default), with
 * the edits that write them; undefined when the config has no estimate, is
 * not native, or nothing fits.
 */
export function tuneAnalysis(
  analysis: Analysis,
  options: { gpu?: GpuSpec; fusedLossAllowed?: boolean; compileAllowed?: boolean } = {},
): TuneProposal | undefined {
  const { plan, model, parsed } = analysis;
  const gpu = options.gpu ?? analysis.gpu;
  if (analysis.dialect !== 'native' || !plan || !model || !gpu || !parsed || !analysis.estimate)
    return undefined;
  const result = fastestThatFits({
    plan,
    model,
    gpu,
    run: runInputsOfAnalysis(analysis),
    tokenLengths: analysis.data?.train?.tokenLengths,
    fusedLossAllowed: options.fusedLossAllowed,
    compileAllowed: options.compileAllowed,
  });
  if (!result) return undefined;
  const edits = tuneEdits(parsed, result.changes);
  // Cross-check on the written text: the figure the estimate shows once applied.
  const checked = edits.length > 0 ? estimateAfterEdits(analysis, edits) : analysis.estimate;
  return { ...result, edits, checkedPeakBytes: checked?.perGpuBytes };
}

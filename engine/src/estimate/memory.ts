// Peak device memory per GPU of one training step, built from its parts.
//
// A step has three candidate peaks:
// - backward-start: the forward is done and the loss backward begins: every
//   saved activation (or checkpoint) plus the fp32 logits and their gradients;
// - backward-end: all gradients exist, one layer is being recomputed/backpropagated;
// - optimizer-step: gradients + states + the optimizer's temporaries.
// The largest is the peak; the parts reported are those alive at that moment.
// The run's peak is the largest of training, the Trainer's evaluation
// (evaluation.ts) and the runner's evaluation after training (generation.ts).

import type { GpuSpec } from '../hardware/types';
import type { ModelArchitecture } from '../models/types';
import type { Plan } from '../plan';
import {
  checkpointPerToken,
  dtypeFlow,
  headSavedPerToken,
  layerBackwardTempPerToken,
  layerSavedPerToken,
  logitsPerToken,
} from './activations';
import { layoutOf, loraTargets, paramGroups } from './arch';
import { evaluationPeak } from './evaluation';
import { settingAssumptions } from './assumptions';
import { exportPhase } from './exportPhase';
import { finalEvaluationPhase } from './generation';
import { finalEvaluationAssumptions, kvCacheNote } from './generationNotes';
import { compiledLayers, fusedLayerKernels, fusedLossBytes, usesFusedLoss } from './fusedLoss';
import type { RunInputs } from './inputs';
import {
  CUDA_CONTEXT_BYTES,
  EXPANDABLE_RESERVE_WORDS,
  expandableSlackBytes,
  FRAGMENTATION,
  type FragmentationCoefficients,
  fragmentationBytes,
  NCCL_BYTES,
  RESERVE_WORDS,
  type SlackCoefficients,
  slackOnly,
  smallestMemoryBytes,
  TRAINING_WORKSPACE_BYTES,
} from './overhead';
import { resolveSettings } from './settings';
import { stateBytes } from './states';
import { firstStepReserveBytes } from './firstStepReserve';
import { strandedLogitsBytes } from './workspaceStrand';
import {
  type MemoryEstimate,
  type MemoryPart,
  type PeakPhase,
  type RunPhase,
  zeroParts,
} from './types';

const GiB = 1024 ** 3;

export interface EstimateOptions {
  /** Fragmentation coefficients (the bench calibrates its own on a subset of rows). */
  fragmentation?: FragmentationCoefficients;
  /** Slack of the smallest memory (the bench fits its own to check held-out shapes). */
  slack?: SlackCoefficients;
  /**
   * Keep the per-GPU figure at or above the smallest memory (default true);
   * the bench turns it off to fit the fragmentation model on its own.
   */
  floorAtMinimum?: boolean;
  /**
   * Evaluation and the data's token lengths (runInputsOf). Without them the
   * run is training only, every row max_length tokens.
   */
  run?: RunInputs;
}

type Parts = Record<MemoryPart, number>;

function roundParts(p: Parts): void {
  for (const k of Object.keys(p) as MemoryPart[]) p[k] = Math.round(p[k]);
}

function sum(p: Parts): number {
  return Object.values(p).reduce((a, b) => a + b, 0);
}

export function formatGiB(bytes: number): string {
  return `${(bytes / GiB).toFixed(1)} GiB`;
}

export function estimateMemory(
  plan: Plan,
  model: ModelArchitecture,
  gpu: GpuSpec | undefined,
  options: EstimateOptions = {},
): MemoryEstimate {
  const s = resolveSettings(plan, options.run);
  const layout = layoutOf(model);
  const groups = paramGroups(layout);
  const loraModules = s.lora ? loraTargets(layout, s.lora.targets) : [];
  const st = stateBytes(layout, groups, s, loraModules);
  const f = dtypeFlow(s);
  const T = s.tokens;
  const L = layout.layers;
  const full = s.method === 'full';
  const accumulating = plan.training.gradAccum > 1;
  const assumptions = [...s.assumed];

  // --- Activations and logits.
  // Liger's kernels, or compiled layers, change what a layer keeps (activations.ts).
  const kernels = { fusedNormAndMlp: fusedLayerKernels(plan) };
  const layer = layerSavedPerToken(layout, s, loraModules, kernels);
  const lmHeadTrained = full || (s.lora?.modulesToSave.some((m) => m.endsWith('lm_head')) ?? false);
  const head = headSavedPerToken(layout, s, lmHeadTrained);
  const actsStart = s.checkpointing
    ? (L * checkpointPerToken(layout, s) + head) * T
    : (L * layer.total + head) * T;
  const layerTemps = layerBackwardTempPerToken(layout, s, kernels) * T;
  const actsEnd = layer.total * T + layerTemps;
  // Liger's fused loss keeps a chunk of logits instead of all of them (fusedLoss.ts).
  const fused = usesFusedLoss(plan)
    ? fusedLossBytes(
        T,
        layout.vocab,
        layout.hidden,
        f.compute,
        f.normOut,
        lmHeadTrained
          ? (s.weightBytes === 4 || s.autocast ? 4 : 2) * layout.vocab * layout.hidden
          : 0,
        s.checkpointing ? actsEnd : layerTemps,
      )
    : undefined;
  const logits = fused ? fused.total : logitsPerToken(layout) * T;

  // 16-bit copies autocast makes of fp32 weights. They are saved for backward;
  // with checkpointing only lm_head's survives the forward.
  const vh = layout.vocab * layout.hidden;
  let castStart = 0;
  let castEnd = 0;
  let lmHeadCast = 0;
  if (s.autocast && s.weightBytes === 4 && !s.quant) {
    castStart = 2 * (s.checkpointing ? vh : groups.linearWeights + vh);
    castEnd = 2 * groups.perLayer;
  } else if (s.quant && s.prepareKbit && s.autocast) {
    // lm_head was upcast to fp32 and is frozen: its 16-bit cast is saved by the matmul.
    lmHeadCast = 2 * vh;
  }

  const persistent = st.baseWeights + st.adapter + st.optimizer + st.gradientBuckets;
  const phaseParts: Record<PeakPhase, Parts> = {
    'backward-start': {
      ...zeroParts(),
      weights: st.baseWeights + st.gatheredWeights + castStart,
      adapter: st.adapter,
      gradients: st.gradientBuckets + (accumulating ? st.gradients : 0),
      optimizer: st.optimizer,
      activations: actsStart,
      logits: logits + lmHeadCast,
    },
    'backward-end': {
      ...zeroParts(),
      weights: st.baseWeights + st.gatheredWeights + castEnd,
      adapter: st.adapter,
      gradients: st.gradientBuckets + st.gradients + st.tiedEmbeddingGradTemp,
      optimizer: st.optimizer,
      activations: actsEnd,
    },
    'optimizer-step': {
      ...zeroParts(),
      weights: st.baseWeights,
      adapter: st.adapter,
      gradients: st.gradientBuckets + st.gradients,
      optimizer: st.optimizer + st.optimizerStepTemp,
    },
  };
  const phases = {
    'backward-start': sum(phaseParts['backward-start']),
    'backward-end': sum(phaseParts['backward-end']),
    'optimizer-step': sum(phaseParts['optimizer-step']),
  };
  let peakPhase: PeakPhase = 'backward-start';
  for (const p of ['backward-end', 'optimizer-step'] as const) {
    if (phases[p] > phases[peakPhase]) peakPhase = p;
  }
  const parts = { ...phaseParts[peakPhase] };
  const allocated = phases[peakPhase];

  // --- Overhead outside the tensors.
  const sharded = s.parallelism === 'fsdp' || s.parallelism === 'zero3';
  const gradsPart = st.gradients + st.gradientBuckets;
  // Expandable segments (the runner's default) strand no freed blocks: a small slack
  // replaces the default allocator's reserve model in every phase (overhead.ts); the
  // slack-only coefficients give it to evaluation and the evaluation after training.
  const expandableSlack =
    (plan.cudaAllocator?.expandableSegments ?? true) ? expandableSlackBytes(s.rowsVary) : undefined;
  const coefficients =
    expandableSlack === undefined
      ? (options.fragmentation ?? FRAGMENTATION)
      : slackOnly(expandableSlack);
  const nccl = s.numGpus > 1 ? NCCL_BYTES : 0;
  const shardedStateBytes = sharded ? persistent + st.gradients : 0;
  // foreach temporaries without accumulation: the gradients took the blocks
  // the loss and activations freed; what the temporaries do not find there is
  // fresh reserve on top of the step (overhead.ts).
  const freedByBackward =
    phaseParts['backward-start'].activations + phaseParts['backward-start'].logits;
  const freshTemps = accumulating
    ? 0
    : Math.max(0, st.optimizerStepTemp - Math.max(0, freedByBackward - st.gradients));
  // The backward's cuBLAS workspace in a freed fp32 logits block (workspaceStrand.ts).
  const stranded = strandedLogitsBytes({
    method: s.method,
    tokens: T,
    vocab: layout.vocab,
    hidden: layout.hidden,
    mlpWidth: layout.mlpWidthPerToken,
    widestAdapterInput: Math.max(0, ...loraModules.map((m) => m.inFeatures)),
    loraDropout: s.lora?.dropout ?? 0,
    prepareKbit: s.prepareKbit,
    fusedLoss: fused !== undefined,
    computeCapability: gpu?.computeCapability,
  });
  // zero under expandable segments, whose slack-only coefficients carry no share of it
  const strandedShare = coefficients.strandedLogits * stranded;
  // Full fine-tuning under checkpointing: the first step's reserve, over the
  // states it is allocated without, where the rule of firstStepReserve.ts holds.
  const firstStep =
    expandableSlack === undefined
      ? firstStepReserveBytes({
          method: s.method,
          checkpointing: s.checkpointing,
          accumulating,
          numGpus: s.numGpus,
          fusedAdamw16:
            s.optimizer === 'adamw' &&
            s.fusedOptimizer &&
            !s.pagedOptimizer &&
            s.weightBytes === 2 &&
            !s.quant,
          fusedLoss: fused !== undefined,
          logitSoftcap: layout.logitSoftcap,
          tokens: T,
          vocab: layout.vocab,
          states: st.optimizer,
          gradients: st.gradients,
        })
      : undefined;
  // training's reserve model also adds stream-split and fresh-temporary terms: none here
  const frag =
    expandableSlack ??
    (firstStep !== undefined ? coefficients.base + firstStep : undefined) ??
    fragmentationBytes(
      {
        // Under the fused loss the recomputed layer is the peak itself, not a reserve above it.
        logitsBytes: fused ? fused.loss : logits,
        recomputeBytes: s.checkpointing && !fused ? layer.total * T : 0,
        backwardGradBytes: full ? st.gradients : 0,
        fp32CheckpointGradBytes:
          full && s.checkpointing && s.autocast && s.weightBytes === 4 && !s.quant
            ? st.gradients
            : 0,
        shardedStateBytes,
        streamSplitBytes:
          sharded && peakPhase !== 'backward-start'
            ? Math.max(0, phases['backward-start'] - (allocated - gradsPart))
            : 0,
        stepFreshBytes: Math.max(0, phases['optimizer-step'] + freshTemps - allocated),
        strandedLogitsBytes: stranded,
      },
      coefficients,
    );
  parts.overhead = CUDA_CONTEXT_BYTES + TRAINING_WORKSPACE_BYTES + nccl + frag;
  parts.optimizer += st.optimizerOutside;
  roundParts(parts);
  const trainingBytes = sum(parts);

  // --- Evaluation, when the config evaluates: its own peak, states resident.
  const evaluation = s.evaluation && evaluationPeak(layout, s, s.evaluation, st);
  let evaluationBytes: number | undefined;
  let evalFrag = 0;
  if (evaluation) {
    evalFrag = fragmentationBytes(
      {
        logitsBytes: evaluation.logitsBytes,
        recomputeBytes: 0,
        backwardGradBytes: 0,
        fp32CheckpointGradBytes: 0,
        shardedStateBytes,
        streamSplitBytes: 0,
        stepFreshBytes: 0,
        strandedLogitsBytes: 0,
      },
      coefficients,
    );
    evaluation.parts.overhead = CUDA_CONTEXT_BYTES + TRAINING_WORKSPACE_BYTES + nccl + evalFrag;
    evaluation.parts.optimizer += st.optimizerOutside;
    roundParts(evaluation.parts);
    evaluationBytes = sum(evaluation.parts);
  }

  // --- The runner's evaluation after training: one GPU, the optimizer and gradients freed.
  const final = finalEvaluationPhase(layout, s, st, coefficients, trainingBytes);

  let peakRunPhase: RunPhase = 'training';
  let peakParts = parts;
  if (evaluation && evaluationBytes !== undefined && evaluationBytes > sum(peakParts)) {
    peakRunPhase = 'evaluation';
    peakParts = evaluation.parts;
  }
  const exported = exportPhase(layout, s, st);
  if (exported && !exported.onlyIfItFits && exported.bytes > sum(peakParts)) {
    peakRunPhase = 'export';
    peakParts = exported.parts;
  }
  if (final && final.bytes > sum(peakParts)) {
    peakRunPhase = 'final-evaluation';
    peakParts = final.parts;
  }
  // --- The smallest memory it completes in: tensors + context + what the
  // allocator cannot give back under pressure (overhead.ts, slackBytes).
  const evalAllocated = evaluation
    ? sum(evaluation.parts) - evaluation.parts.overhead - st.optimizerOutside
    : 0;
  const minimumBytes = smallestMemoryBytes(
    {
      allocated: Math.max(allocated, evalAllocated),
      ncclBytes: nccl,
      finalAllocated: final?.allocated ?? 0,
      expandableSlack,
      slack: {
        // Liger's fused loss never asks for the whole logits block the slack is lost to
        varyingLogitsBytes: s.rowsVary && !fused ? 4 * T * layout.vocab : 0,
        mlpIntermediateBytes: fused ? 0 : 2 * T * layout.mlpWidthPerToken,
        fullVaryingRows: full && s.rowsVary,
        // accumulated gradients pin the freed logits block they were allocated in
        accumulatedHoleBytes:
          full && accumulating && !s.rowsVary && !fused
            ? Math.max(0, 4 * T * layout.vocab - st.gradients)
            : 0,
      },
    },
    options.slack,
  );

  // nvidia-smi on a roomy card is never below the smallest memory the run
  // completes in (a run that reserves R uncapped completes under a cap of R):
  // where the fragmentation model says less, the allocator's reserve is raised.
  const reserveShortfall =
    options.floorAtMinimum === false ? 0 : Math.max(0, minimumBytes - sum(peakParts));
  if (reserveShortfall > 0)
    peakParts = { ...peakParts, overhead: peakParts.overhead + reserveShortfall };
  const perGpuBytes = sum(peakParts);
  const raised = (phase: RunPhase, bytes: number | undefined) =>
    bytes === undefined || phase !== peakRunPhase ? bytes : perGpuBytes;

  // --- Notes.
  const notes: Record<MemoryPart, string> = {
    weights: st.notes.weights,
    adapter: st.notes.adapter,
    gradients: st.notes.gradients,
    optimizer: st.notes.optimizer,
    activations: '',
    kvCache: kvCacheNote(final?.summary),
    logits: '',
    overhead: '',
  };
  if (castStart > 0 && peakPhase === 'backward-start') {
    notes.weights += `; + ${formatGiB(castStart)} of bf16 copies autocast makes of the fp32 weights`;
  }
  if (peakPhase !== 'backward-start' && !accumulating && parts.gradients === 0) {
    notes.gradients += ' (not yet allocated at the peak)';
  }
  if (peakPhase === 'backward-start' && !accumulating && st.gradients > st.gradientBuckets) {
    notes.gradients += ' — allocated during backward, after this peak';
  }
  const tokensDesc = `${T} tokens per micro-step (${s.seqLen} × ${s.microBatch})`;
  const perLayerKiB = (layer.total / 1024).toFixed(0);
  if (peakPhase === 'backward-start') {
    notes.activations = s.checkpointing
      ? `gradient checkpointing: each of ${L} layers keeps only its ${f.residual === 4 ? 'fp32' : 'bf16'} input, ${tokensDesc}`
      : `${L} layers × ${perLayerKiB} KiB per token saved for backward` +
        `${s.lora && loraModules.length > 0 ? ` (LoRA${s.lora.dropout > 0 ? ' dropout masks +' : ''} input copies: ${(layer.lora / 1024).toFixed(0)} KiB)` : ''}` +
        `, ${tokensDesc}; gradient checkpointing would keep ${formatGiB((L * checkpointPerToken(layout, s) + head) * T)}`;
  } else {
    notes.activations = `one layer being ${s.checkpointing ? 'recomputed and ' : ''}backpropagated (${perLayerKiB} KiB per token), ${tokensDesc}`;
  }
  if (kernels.fusedNormAndMlp)
    notes.activations += compiledLayers(plan)
      ? '; compiled layers: norms and MLP keep what fused kernels keep'
      : "; Liger's fused RMSNorm and SwiGLU";
  notes.logits =
    fused && peakPhase === 'backward-start'
      ? `Liger fused linear cross-entropy (training.use_liger_kernel): one chunk of ${fused.chunkRows} × ${layout.vocab} logits (${formatGiB(fused.chunk)}) instead of all ${T} tokens' fp32 logits (${formatGiB(logitsPerToken(layout) * T)}), + the hidden states' gradient (${formatGiB(fused.gradInput)})` +
        (fused.layerBackward > fused.chunk
          ? `; the chunk freed, the last layer's backward${s.checkpointing ? ' (recomputed)' : ''} takes ${formatGiB(fused.layerBackward)}`
          : '') +
        (fused.gradWeight > 0 ? `, + lm_head's gradient (${formatGiB(fused.gradWeight)})` : '') +
        (lmHeadCast > 0 ? `, + ${formatGiB(lmHeadCast)} bf16 copy of the fp32 lm_head` : '')
      : peakPhase === 'backward-start'
        ? `fp32 logits [${T} × ${layout.vocab}] and their gradients (12 B per entry) in the loss` +
          (lmHeadCast > 0 ? `, + ${formatGiB(lmHeadCast)} bf16 copy of the fp32 lm_head` : '')
        : `freed before this peak (${formatGiB(logits)} at the start of backward)`;
  notes.overhead =
    `CUDA context and workspaces ${formatGiB(CUDA_CONTEXT_BYTES + TRAINING_WORKSPACE_BYTES)}` +
    (nccl > 0 ? `, NCCL ${formatGiB(nccl)}` : '') +
    `, ${RESERVE_WORDS} ≈ ${formatGiB(frag)}` +
    (strandedShare > 0
      ? ` (${formatGiB(strandedShare)} of it for one more fp32 logits block: the backward's cuBLAS workspace lands in a freed one)`
      : '') +
    (firstStep !== undefined
      ? ` (the first step's: it peaks before AdamW's states exist, which then fill the logits blocks it cached)`
      : '');
  if (peakPhase !== 'backward-start') {
    const label = peakPhase === 'optimizer-step' ? 'the optimizer step' : 'the end of backward';
    notes.weights += `; peak at ${label}`;
  }

  if (evaluation && peakRunPhase === 'evaluation') {
    Object.assign(notes, evaluation.notes);
    notes.weights = `${st.notes.weights}; peak at evaluation (training peaks at ${formatGiB(trainingBytes)})`;
    notes.overhead =
      `CUDA context and workspaces ${formatGiB(CUDA_CONTEXT_BYTES + TRAINING_WORKSPACE_BYTES)}` +
      (nccl > 0 ? `, NCCL ${formatGiB(nccl)}` : '') +
      `, ${RESERVE_WORDS} ≈ ${formatGiB(evalFrag)}`;
  } else if (evaluation && evaluationBytes !== undefined && s.evaluation) {
    assumptions.push(
      `evaluation peaks at ${formatGiB(evaluationBytes)} (eval batch ${s.evaluation.batch} × ${s.evaluation.seqLen} tokens, forward only): below ${peakRunPhase === 'training' ? 'training' : 'the evaluation after training'}`,
    );
  }
  if (final && peakRunPhase === 'final-evaluation') Object.assign(notes, final.notes);
  if (exported && peakRunPhase === 'export') {
    notes.weights = `peak at the export after training: ${exported.words} (training peaks at ${formatGiB(trainingBytes)})`;
    notes.overhead = `CUDA context and workspaces ${formatGiB(exported.parts.overhead)}`;
  }
  if (expandableSlack !== undefined)
    notes.overhead = notes.overhead.replace(RESERVE_WORDS, EXPANDABLE_RESERVE_WORDS);
  if (reserveShortfall > 0) {
    notes.overhead += `; + ${formatGiB(reserveShortfall)} to reach the smallest memory the run completes in (nvidia-smi is never below it)`;
  }
  assumptions.push(...finalEvaluationAssumptions(layout, s, st, coefficients, final, peakRunPhase));
  if (s.seqLenBasis) assumptions.unshift(`row length: ${s.seqLenBasis}`);
  assumptions.push(...settingAssumptions(s, st, layout, model, fused !== undefined));

  const memoryBytes = gpu?.memoryBytes;
  return {
    method: s.method,
    paramsTotal: st.paramsTotal,
    paramsTrainable: st.paramsTrainable,
    numGpus: s.numGpus,
    parallelism: s.parallelism,
    tokensPerStep: T,
    seqLen: s.seqLen,
    bytes: peakParts,
    notes,
    perGpuBytes,
    minimumBytes,
    expandableSegments: expandableSlack !== undefined,
    peakPhase,
    phases,
    runPhases: {
      training: raised('training', trainingBytes)!,
      evaluation: raised('evaluation', evaluationBytes),
      export: raised('export', exported?.bytes),
      finalEvaluation: raised('final-evaluation', final?.bytes),
    },
    peakRunPhase,
    export: exported && {
      words: exported.words,
      onlyIfItFits: exported.onlyIfItFits,
      movedBytes: exported.movedBytes,
    },
    evaluation: s.evaluation && { batch: s.evaluation.batch, tokens: s.evaluation.tokens },
    finalEvaluation: final?.summary,
    run: options.run,
    gpu: gpu ? { id: gpu.id, memoryBytes: gpu.memoryBytes } : undefined,
    fits: memoryBytes === undefined ? undefined : perGpuBytes <= memoryBytes,
    assumptions,
  };
}

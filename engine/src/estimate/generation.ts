// The runner's evaluation after training (`evaluation.when: end`, run by
// `train` in-process, runner/tunelab_runner/evaluate.py). Before it starts
// the runner drops the optimizer and sets the gradients to None: only the
// trained model stays (weights and adapter). Its steps run one after the
// other on batches of `batch` rows, so the phase peaks at the largest:
// - task loss (eval_scoring.score_tokens): a forward under inference_mode
//   over the eval rows, longest batch first, and the loss over all of their
//   logits;
// - generation (eval_scoring.generate_replies): model.generate on left-padded
//   prompts. transformers 5 asks for the last position's logits only
//   (logits_to_keep=1) and keeps no scores by default; what grows is the
//   DynamicCache, K and V of every layer for prompt + new tokens of every
//   sequence, extended by torch.cat (one layer's copy at a time);
// - forgetting (Evaluation.forgetting): the loss forward over the first
//   max_samples general rows (longest batch first), for the tuned model and
//   then the base. An adapter is switched off for the base; a full fine-tune
//   has none, nor has a model export.merge merged (export.py: LoRA in place,
//   QLoRA into a 16-bit copy), so the base is loaded beside it (the first
//   time: later runs reuse its cached figure). Counted from the longest row
//   of its file (inputs.ts); when that file was not read, its max_length
//   bound is named beside the estimate instead (forgettingBound).

import {
  kvCacheBytesPerToken,
  layerForwardWorkingPerToken,
  paddedMaskBytes,
  runnerLossBytesPerEntry,
  dtypeFlow,
  inferenceSettings,
} from './activations';
import { type Layout, paramGroups } from './arch';
import {
  CUDA_CONTEXT_BYTES,
  FRAGMENTATION,
  type FragmentationCoefficients,
  fragmentationBytes,
  RESERVE_WORDS,
  TRAINING_WORKSPACE_BYTES,
} from './overhead';
import type { FinalEvaluationSettings, RunSettings } from './settings';
import { type StateBytes, stateBytes } from './states';
import type { FinalEvaluationStep, FinalEvaluationSummary, MemoryPart } from './types';

const GiB = 1024 ** 3;

/** Bytes per vocabulary entry of a generation step's logits beside the model's: generate's fp32 copy. */
const GENERATION_STEP_LOGIT_EXTRA = 4;
/** Sampling (do_sample) sorts each step's fp32 scores for top-k/top-p: values and int64 indices. */
const SAMPLING_EXTRA = 12;

export interface FinalEvaluationPeak {
  /** Allocated bytes by part at the largest step (overhead not yet added). */
  parts: Record<MemoryPart, number>;
  summary: FinalEvaluationSummary;
  /** The logits' bytes at the peak, for the allocator's fragmentation driver. */
  logitsBytes: number;
  /** The largest allocation of any step (tensors only): another step's when its reserve is smaller. */
  allocatedMax: number;
  notes: Partial<Record<MemoryPart, string>>;
}

interface Step {
  step: FinalEvaluationStep;
  /** The base model loaded beside the tuned one (forgetting of a full fine-tune). */
  secondModel: number;
  activations: number;
  kvCache: number;
  /** The whole cache at a batch's last new token (generation). */
  kvCacheAtEnd: number;
  logits: number;
  tokens: number;
  notes: Partial<Record<MemoryPart, string>>;
}

function fmt(bytes: number): string {
  return `${(bytes / GiB).toFixed(1)} GiB`;
}

/** A loss forward of the runner over `rows` rows of up to `seqLen` tokens. */
function lossForward(
  layout: Layout,
  s: RunSettings,
  rows: number,
  seqLen: number,
): { activations: number; logits: number; perEntry: number } {
  const inference = inferenceSettings(s);
  const tokens = rows * seqLen;
  const perEntry = runnerLossBytesPerEntry(s);
  return {
    activations:
      layerForwardWorkingPerToken(layout, inference, seqLen) * tokens +
      paddedMaskBytes(s, rows, seqLen, seqLen),
    logits: perEntry * layout.vocab * tokens,
    perEntry,
  };
}

function batchWords(fe: FinalEvaluationSettings): string {
  return fe.batchSource === 'config'
    ? `per_device_eval_batch_size ${fe.batch}`
    : `batch ${fe.batch}: per_device_eval_batch_size unset, the runner uses the training micro-batch`;
}

function taskStep(layout: Layout, s: RunSettings, fe: FinalEvaluationSettings): Step | undefined {
  if (!fe.task) return undefined;
  const { seqLen } = fe.task;
  const f = lossForward(layout, s, fe.batch, seqLen);
  const shape = `${fe.batch} × ${seqLen} tokens (${fe.lengthsBasis}, at most max_length)`;
  return {
    step: 'task loss',
    secondModel: 0,
    activations: f.activations,
    kvCache: 0,
    kvCacheAtEnd: 0,
    logits: f.logits,
    tokens: fe.batch * seqLen,
    notes: {
      activations: `evaluation after training, loss over data.eval_file under inference_mode: one layer's working set and the padded batch's attention mask, ${shape}`,
      logits: `${f.perEntry} B per entry: the model's logits [${fe.batch * seqLen} × ${layout.vocab}], their fp32 copy and log_softmax in the runner's loss, ${batchWords(fe)}`,
    },
  };
}

function generationStep(
  layout: Layout,
  s: RunSettings,
  fe: FinalEvaluationSettings,
): Step | undefined {
  const g = fe.generation;
  if (!g) return undefined;
  const sequences = fe.batch * g.sequencesPerPrompt;
  const P = g.promptTokens;
  const length = P + g.maxNewTokens;
  const perToken = kvCacheBytesPerToken(layout, s);
  const inference = inferenceSettings(s);
  const stepLogits =
    (dtypeFlow(inference).normOut +
      GENERATION_STEP_LOGIT_EXTRA +
      (g.sampling ? SAMPLING_EXTRA : 0)) *
    layout.vocab *
    sequences;
  // Prefill: the prompts' forward builds the cache; only the last position's logits.
  const prefill = {
    kvCache: perToken * sequences * P,
    activations:
      layerForwardWorkingPerToken(layout, inference, P) * sequences * P +
      paddedMaskBytes(s, sequences, P, P),
  };
  // Last new token: the whole cache, + one layer's K and V while torch.cat extends it.
  const decode = {
    kvCache: perToken * sequences * length * (1 + 1 / layout.layers),
    activations:
      layerForwardWorkingPerToken(layout, inference, length) * sequences +
      paddedMaskBytes(s, sequences, 1, length),
  };
  const atEnd = decode.kvCache + decode.activations >= prefill.kvCache + prefill.activations;
  const at = atEnd ? decode : prefill;
  const perTokenKiB = (perToken / 1024).toFixed(0);
  const kvDtype = perToken / (2 * layout.layers * layout.kvWidth);
  const beams =
    g.sequencesPerPrompt > 1
      ? ` × ${g.sequencesPerPrompt} sequences per prompt (num_beams / num_return_sequences)`
      : '';
  return {
    step: 'generation',
    secondModel: 0,
    activations: at.activations,
    kvCache: at.kvCache,
    kvCacheAtEnd: decode.kvCache,
    logits: stepLogits,
    tokens: sequences * length,
    notes: {
      kvCache:
        `DynamicCache of model.generate: 2 (K, V) × ${layout.layers} layers × ${layout.kvWidth / layout.headDim} kv heads × ${layout.headDim} × ${kvDtype} B = ${perTokenKiB} KiB per token per sequence, ` +
        `× ${sequences} sequences (${batchWords(fe)}${beams}) × ${atEnd ? `(${P} prompt + ${g.maxNewTokens} new) tokens, + one layer's copy while torch.cat extends it` : `${P} prompt tokens at the prefill`}` +
        ` (prompt: ${fe.lengthsBasis}, not truncated; new: evaluation.generation.max_new_tokens)`,
      activations: atEnd
        ? `one decoding step: one new token per sequence and the padded attention mask over ${length} positions`
        : `the prompts' forward (prefill): one layer's working set and the padded attention mask, ${sequences} × ${P} tokens`,
      logits: `the last position's logits only (transformers 5 sets logits_to_keep=1 and keeps no scores): ${sequences} × ${layout.vocab}, the model's and generate's fp32 copy${g.sampling ? ', + the sorted scores of sampling' : ''}`,
    },
  };
}

/**
 * The base as evaluate.load_base loads it beside the tuned model: training's
 * from_pretrained arguments (QLoRA: quantized), without
 * prepare_model_for_kbit_training's fp32 embeddings and norms.
 */
export function loadedBaseBytes(layout: Layout, s: RunSettings, st: StateBytes): number {
  if (!s.quant || !s.prepareKbit) return st.baseWeights;
  return stateBytes(layout, paramGroups(layout), { ...s, prepareKbit: false }, []).baseWeights;
}

function forgettingStep(
  layout: Layout,
  s: RunSettings,
  fe: FinalEvaluationSettings,
  st: StateBytes,
): Step | undefined {
  if (!fe.forgetting) return undefined;
  const { seqLen, rows, loadsBase } = fe.forgetting;
  const f = lossForward(layout, s, rows, seqLen);
  const basis = fe.forgetting.lengthsKnown
    ? 'the longest of the general rows scored, at most max_length'
    : 'general rows truncated at max_length; their file was not read';
  const shape = `${rows} × ${seqLen} tokens (${basis})`;
  const fewer = rows < fe.batch ? `, ${rows} rows scored` : '';
  return {
    step: 'forgetting',
    secondModel: loadsBase ? loadedBaseBytes(layout, s, st) : 0,
    activations: f.activations,
    kvCache: 0,
    kvCacheAtEnd: 0,
    logits: f.logits,
    tokens: rows * seqLen,
    notes: {
      activations: `forgetting measure after training, loss over general rows under inference_mode: one layer's working set and the padded attention mask, ${shape}`,
      logits: `${f.perEntry} B per entry: the model's logits [${rows * seqLen} × ${layout.vocab}], their fp32 copy and log_softmax in the runner's loss, ${batchWords(fe)}${fewer}`,
    },
  };
}

const stepTotal = (x: Step) => x.secondModel + x.activations + x.kvCache + x.logits;

/** The adapter held through the phase: none once export.merge merged it in place (LoRA). */
const adapterBytes = (fe: FinalEvaluationSettings, st: StateBytes) =>
  fe.merged === 'in-place' ? 0 : st.adapter;

/** Why the forgetting measure loads the base beside the tuned model. */
function secondModelWhy(s: RunSettings, fe: FinalEvaluationSettings): string {
  if (s.method === 'full') return 'full fine-tuning has no adapter to switch off';
  return fe.merged === 'in-place'
    ? 'export.merge merged the adapter into the model it evaluates'
    : 'export.merge: it evaluates the merged model, which has no adapter to switch off';
}

/**
 * The forgetting step at rows of max_length when its file was not read:
 * allocated bytes (the tuned model included) and its logits, for the
 * sentence that names the bound. Undefined when it is counted or not run.
 */
export function forgettingBound(
  layout: Layout,
  s: RunSettings,
  fe: FinalEvaluationSettings,
  st: StateBytes,
): { allocated: number; logitsBytes: number; secondModel: number } | undefined {
  const step = fe.forgetting?.lengthsKnown === false && forgettingStep(layout, s, fe, st);
  if (!step) return undefined;
  return {
    allocated: st.baseWeights + adapterBytes(fe, st) + stepTotal(step),
    logitsBytes: step.logits,
    secondModel: step.secondModel,
  };
}

/**
 * The phase's peak over the steps it counts, by device bytes (a step's large
 * logits leave a reserve that can outweigh another step's larger tensors);
 * undefined when it counts none.
 */
export function finalEvaluationPeak(
  layout: Layout,
  s: RunSettings,
  fe: FinalEvaluationSettings,
  st: StateBytes,
  coefficients: FragmentationCoefficients = FRAGMENTATION,
): FinalEvaluationPeak | undefined {
  const candidates = [
    taskStep(layout, s, fe),
    generationStep(layout, s, fe),
    fe.forgetting?.lengthsKnown ? forgettingStep(layout, s, fe, st) : undefined,
  ].filter((x): x is Step => x !== undefined);
  if (candidates.length === 0) return undefined;
  const device = (x: Step) => stepTotal(x) + deviceOverhead(x.logits, coefficients).total;
  let peak = candidates[0];
  for (const c of candidates) if (device(c) > device(peak)) peak = c;
  const generation = candidates.find((c) => c.step === 'generation');
  const g = fe.generation;
  return {
    parts: {
      weights: st.baseWeights + peak.secondModel,
      adapter: adapterBytes(fe, st),
      gradients: 0,
      optimizer: 0,
      activations: peak.activations,
      kvCache: peak.kvCache,
      logits: peak.logits,
      overhead: 0,
    },
    summary: {
      step: peak.step,
      batch: fe.batch,
      tokens: peak.tokens,
      generation:
        g && generation
          ? {
              promptTokens: g.promptTokens,
              maxNewTokens: g.maxNewTokens,
              sequences: fe.batch * g.sequencesPerPrompt,
              kvCacheBytes: Math.round(generation.kvCacheAtEnd),
            }
          : undefined,
    },
    logitsBytes: peak.logits,
    allocatedMax: st.baseWeights + adapterBytes(fe, st) + Math.max(...candidates.map(stepTotal)),
    notes: {
      ...peak.notes,
      ...(peak.secondModel > 0
        ? {
            weights: `the tuned model, + ${fmt(peak.secondModel)} of the base loaded beside it for the forgetting measure's base figure (${secondModelWhy(s, fe)}; later evaluations reuse the cached figure)`,
          }
        : {}),
      ...(fe.merged === 'in-place'
        ? { adapter: 'merged into the weights by export.merge before this evaluation' }
        : {}),
      gradients: 'freed before the evaluation after training (the runner sets them to None)',
      optimizer:
        'freed before the evaluation after training (the runner drops the optimizer and its states)',
    },
  };
}

/** The phase with what nvidia-smi adds: context, workspaces, the allocator's reserve. */
export interface FinalEvaluationPhase {
  /** Device bytes by part; they add up to `bytes`. */
  parts: Record<MemoryPart, number>;
  bytes: number;
  /** Tensors only, the largest of any step (for the smallest memory). */
  allocated: number;
  summary: FinalEvaluationSummary;
  /** The parts' notes when this phase sets the run's peak. */
  notes: Partial<Record<MemoryPart, string>>;
}

/** Context and workspaces (one process, one GPU) and the reserve the logits leave. */
export function deviceOverhead(logitsBytes: number, coefficients: FragmentationCoefficients) {
  const reserve = fragmentationBytes(
    {
      logitsBytes,
      recomputeBytes: 0,
      backwardGradBytes: 0,
      fp32CheckpointGradBytes: 0,
      shardedStateBytes: 0,
      streamSplitBytes: 0,
      stepFreshBytes: 0,
      strandedLogitsBytes: 0,
    },
    coefficients,
  );
  return { total: CUDA_CONTEXT_BYTES + TRAINING_WORKSPACE_BYTES + reserve, reserve };
}

const total = (p: Record<MemoryPart, number>) => Object.values(p).reduce((a, b) => a + b, 0);

export function finalEvaluationPhase(
  layout: Layout,
  s: RunSettings,
  st: StateBytes,
  coefficients: FragmentationCoefficients,
  trainingBytes: number,
): FinalEvaluationPhase | undefined {
  const fe = s.finalEvaluation;
  const peak = fe && finalEvaluationPeak(layout, s, fe, st, coefficients);
  if (!peak) return undefined;
  const overhead = deviceOverhead(peak.logitsBytes, coefficients);
  const parts = { ...peak.parts, overhead: overhead.total };
  for (const k of Object.keys(parts) as MemoryPart[]) parts[k] = Math.round(parts[k]);
  const bytes = total(parts);
  return {
    parts,
    bytes,
    allocated: Math.max(bytes - parts.overhead, Math.round(peak.allocatedMax)),
    summary: peak.summary,
    notes: {
      ...peak.notes,
      weights: `${peak.notes.weights ?? st.notes.weights}; peak at evaluation after training (${peak.summary.step}) (training peaks at ${fmt(trainingBytes)})`,
      overhead:
        `CUDA context and workspaces ${fmt(CUDA_CONTEXT_BYTES + TRAINING_WORKSPACE_BYTES)}, ${RESERVE_WORDS} ≈ ${fmt(overhead.reserve)}` +
        (peak.summary.step === 'generation'
          ? ' (the cache grows by torch.cat each step: its reserve beyond that is not measured)'
          : ''),
    },
  };
}

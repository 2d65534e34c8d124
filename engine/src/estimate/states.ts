// Parameters, gradients and optimizer states: how many of each, at which
// dtype, and how they are split across GPUs.
//
// - bf16 base + torch AdamW: states take the parameter dtype (2+2+2+2 bytes a
//   parameter for full fine-tuning); fp32 master weights with autocast: 4+4+4+4.
// - peft 0.21 keeps LoRA A/B in fp32 on a 16-bit base (autocast_adapter_dtype),
//   so an adapter parameter costs 4 (weight) + 4 (grad) + 8 (AdamW).
// - QLoRA: linear weights in 4-bit NF4 blocks of 64 with an absmax each (fp32,
//   or 8-bit with a second-level fp32 absmax per 256 blocks under double
//   quant); embeddings, lm_head, norms and biases stay 16-bit, and
//   prepare_model_for_kbit_training casts them to fp32.
// - FSDP2 via accelerate upcasts trainable parameters to fp32 before sharding
//   when bf16 mixed precision is on: 16 bytes a parameter before the split.

import type { Layout, LinearShape, ParamGroups } from './arch';
import { loraParams } from './arch';
import type { RunSettings } from './settings';

const GiB = 1024 ** 3;

export interface StateBytes {
  /** Stored base weights on this GPU (sharded share under FSDP / ZeRO-3). */
  baseWeights: number;
  /** All-gathered 16-bit working copies (FSDP / ZeRO-3): embeddings, lm_head and two layers. */
  gatheredWeights: number;
  /** LoRA A/B (+ modules_to_save copies) on this GPU. */
  adapter: number;
  /** Gradients of all trainable parameters on this GPU (after the split). */
  gradients: number;
  /** DDP's gradient bucket buffers: a copy of the gradients, allocated at wrap time. */
  gradientBuckets: number;
  /** Optimizer states inside the PyTorch allocator. */
  optimizer: number;
  /** Optimizer states outside it (bitsandbytes paged states: CUDA managed memory). */
  optimizerOutside: number;
  /** Temporaries of the optimizer step (foreach AdamW: one list the size of the parameters). */
  optimizerStepTemp: number;
  /** fp32 gradient of a tied, trained embedding computed and added at the end of backward. */
  tiedEmbeddingGradTemp: number;
  paramsTotal: number;
  paramsTrainable: number;
  /** Bytes per trainable parameter for weights+grads+states, for notes. */
  bytesPerTrainable: number;
  /** FSDP upcast the trainable parameters to fp32 (bf16 mixed precision). */
  fsdpUpcast: boolean;
  notes: { weights: string; adapter: string; gradients: string; optimizer: string };
}

/** Bytes per NF4-quantized weight: 4 bits + absmax per 64 (8-bit + fp32 per 256 blocks with double quant). */
export function nf4BytesPerParam(doubleQuant: boolean): number {
  return 0.5 + (doubleQuant ? 1 / 64 + 4 / (64 * 256) : 4 / 64);
}

/** Bytes per LLM.int8 weight: int8 + an fp32 scale per row (≈ negligible). */
const INT8_BYTES_PER_PARAM = 1.0;

/** Minimum device memory bitsandbytes' paged states were seen to commit (measured ≈ 0.125 GiB). */
export const PAGED_MIN_BYTES = 0.125 * GiB;

function fmtGiB(bytes: number): string {
  return `${(bytes / GiB).toFixed(2)} GiB`;
}

function fmtParams(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  return `${Math.round(n / 1e3)}k`;
}

/** State bytes per trainable parameter for the optimizer, given the state dtype. */
function optimizerStateBytes(s: RunSettings, stateDtype: number): number {
  switch (s.optimizer) {
    case 'adamw':
      return 2 * stateDtype;
    case 'adamw-32bit':
      return 8;
    case 'adamw-8bit':
      // Two 8-bit states with an fp32 absmax per block of 256.
      return 2 * (1 + 4 / 256);
    case 'lion':
      return stateDtype;
    case 'lion-8bit':
      return 1 + 4 / 256;
    case 'adafactor':
      return 0; // factored second moments, counted per matrix below
    case 'sgd':
      return 0;
  }
}

export function stateBytes(
  layout: Layout,
  groups: ParamGroups,
  s: RunSettings,
  loraModules: LinearShape[],
): StateBytes {
  const n = s.numGpus;
  const par = s.parallelism;
  const shardParams = par === 'fsdp' || par === 'zero3' ? n : 1;
  const shardGrads = par === 'fsdp' || par === 'zero3' || par === 'zero2' ? n : 1;
  const shardStates = par === 'fsdp' || par.startsWith('zero') ? n : 1;
  const full = s.method === 'full';
  const notes = { weights: '', adapter: '', gradients: '', optimizer: '' };

  // --- Base weights.
  let baseWeights: number;
  const vectorsAndEmbeddings = groups.embedding + groups.lmHead + groups.vectors;
  if (s.quant) {
    const perQuant =
      s.quant.bits === 4 ? nf4BytesPerParam(s.quant.doubleQuant) : INT8_BYTES_PER_PARAM;
    const otherBytes = s.prepareKbit ? 4 : 2;
    baseWeights = groups.linearWeights * perQuant + vectorsAndEmbeddings * otherBytes;
    notes.weights =
      `${fmtParams(groups.linearWeights)} linear weights in ${s.quant.bits}-bit ` +
      `(${perQuant.toFixed(3)} B/param${s.quant.doubleQuant ? ', double quant' : ''}); ` +
      `embeddings, lm_head and norms ${s.prepareKbit ? 'cast to fp32 by prepare_model_for_kbit_training (+2 B/param)' : 'kept 16-bit'}`;
  } else {
    baseWeights = groups.total * s.weightBytes;
    notes.weights = `${fmtParams(groups.total)} params × ${s.weightBytes} B (${s.weightBytes === 4 ? 'fp32' : 'bf16'})`;
  }
  // FSDP2 (accelerate) upcasts trainable params to fp32 before sharding under bf16 mixed precision.
  const fsdpUpcast = par === 'fsdp' && s.autocast && full && s.weightBytes === 2;
  if (fsdpUpcast) {
    baseWeights = groups.total * 4;
    notes.weights = `${fmtParams(groups.total)} params upcast to fp32 by FSDP mixed precision (4 B/param)`;
  }
  baseWeights /= shardParams;
  if (shardParams > 1) notes.weights += `, sharded over ${n} GPUs`;

  let gatheredWeights = 0;
  if (shardParams > 1) {
    // All-gathered copies: the root module (embeddings, lm_head) stays
    // unsharded through forward and backward; two decoder layers in flight.
    // Gathered at the compute dtype (FSDP mixed precision), or as stored (4-bit layers).
    const gatherDtype = s.autocast ? 2 : s.weightBytes;
    const rootDtype = s.quant && s.prepareKbit ? 4 : gatherDtype;
    const layerLinear = groups.linearWeights / layout.layers;
    const layerBytes = s.quant
      ? layerLinear * (s.quant.bits === 4 ? nf4BytesPerParam(s.quant.doubleQuant) : 1) +
        (groups.perLayer - layerLinear) * rootDtype
      : groups.perLayer * gatherDtype;
    gatheredWeights = (groups.embedding + groups.lmHead) * rootDtype + 2 * layerBytes;
    notes.weights += `; ${fmtGiB(gatheredWeights)} of gathered copies (embeddings, lm_head, 2 layers)`;
  }

  // --- Trainable parameters.
  let adapterParams = 0;
  let adapterBytes = 0;
  if (s.lora) {
    adapterParams = loraParams(layout, loraModules, s.lora.r);
    if (s.lora.dora) {
      // DoRA adds a magnitude vector per wrapped module (its output width).
      for (const m of loraModules) adapterParams += layout.layers * m.outFeatures * m.count;
    }
    adapterBytes = adapterParams * 4;
    notes.adapter = `${fmtParams(adapterParams)} LoRA params (r=${s.lora.r}, ${loraModules.length} module kinds × ${layout.layers} layers) in fp32 (peft keeps adapters fp32)`;
    const saved = s.lora.modulesToSave.map((m) => m.split('.').pop() ?? m);
    let savedParams = 0;
    if (saved.includes('embed_tokens')) savedParams += groups.embedding;
    if (saved.includes('lm_head')) savedParams += groups.lmHead || groups.embedding;
    if (savedParams > 0) {
      const savedDtype = s.prepareKbit || s.weightBytes === 4 ? 4 : 2;
      adapterParams += savedParams;
      adapterBytes += savedParams * savedDtype;
      notes.adapter += `; modules_to_save: trainable copies of ${saved.join(', ')} (${fmtParams(savedParams)})`;
    }
  } else {
    notes.adapter = 'no adapter (full fine-tuning trains the base weights)';
  }
  adapterBytes /= shardParams;

  const trainable = full ? groups.total : adapterParams;
  // Gradient / state dtype of trainable params.
  const trainDtype = full ? (fsdpUpcast ? 4 : s.weightBytes) : 4;
  const zero = par.startsWith('zero');
  let gradients = (trainable * trainDtype) / shardGrads;
  if (zero && full && s.autocast) {
    // DeepSpeed bf16: gradients are reduced into this rank's fp32 partition;
    // ZeRO-1 also keeps the full-size 16-bit .grad of every parameter.
    gradients = (trainable * 4) / n + (par === 'zero1' ? trainable * s.weightBytes : 0);
  }
  const gradientBuckets = par === 'ddp' ? trainable * trainDtype : 0;

  // --- Optimizer.
  let optimizer = trainable * optimizerStateBytes(s, trainDtype);
  if (s.optimizer === 'adafactor') {
    let rowsCols = 0;
    if (full) {
      for (const l of layout.linears) rowsCols += (l.inFeatures + l.outFeatures) * l.count;
      rowsCols = rowsCols * layout.layers + 2 * (layout.vocab + layout.hidden);
    } else {
      for (const l of loraModules)
        rowsCols += (l.inFeatures + 2 * (s.lora?.r ?? 16) + l.outFeatures) * l.count;
      rowsCols *= layout.layers;
    }
    optimizer = rowsCols * 4;
  }
  let masterNote = '';
  if (zero && full) {
    // DeepSpeed bf16: fp32 master copy lives in the optimizer partition.
    optimizer = trainable * (4 + optimizerStateBytes(s, 4));
    masterNote = ' incl. fp32 master copy';
  }
  optimizer /= shardStates;
  let optimizerOutside = 0;
  if (s.pagedOptimizer) {
    optimizerOutside = Math.max(optimizer, PAGED_MIN_BYTES);
    optimizer = 0;
  }
  let optimizerStepTemp = 0;
  if (s.optimizer === 'adamw' && !s.fusedOptimizer) {
    optimizerStepTemp = (trainable * trainDtype) / shardStates;
  } else if (s.optimizer === 'adafactor') {
    const largest = Math.max(
      groups.embedding,
      ...layout.linears.map((l) => l.inFeatures * l.outFeatures),
    );
    optimizerStepTemp = 2 * 4 * (full ? largest : 0);
  }
  gradients = Math.max(0, gradients);

  const tiedEmbeddingGradTemp =
    full && layout.tied && shardGrads === 1 ? groups.embedding * trainDtype : 0;

  const paged = s.pagedOptimizer
    ? ' (paged: CUDA managed memory outside the PyTorch allocator, still device memory)'
    : '';
  const stateDesc: Record<string, string> = {
    adamw: `AdamW m and v at ${trainDtype === 4 ? 'fp32' : 'bf16'}${s.fusedOptimizer ? ' (fused kernel, no temporaries)' : ' (foreach: +1 copy of the params during step)'}`,
    'adamw-32bit': `32-bit AdamW states (8 B/param)${paged}`,
    'adamw-8bit': `8-bit AdamW states (2 B/param)${paged}`,
    adafactor: 'Adafactor factored second moments (rows + columns)',
    lion: 'Lion momentum (one state)',
    'lion-8bit': `8-bit Lion momentum${paged}`,
    sgd: 'plain SGD: no state',
  };
  notes.optimizer = `${stateDesc[s.optimizer]} for ${fmtParams(trainable)} trainable params${masterNote}`;
  if (shardStates > 1) notes.optimizer += `, sharded over ${n} GPUs`;
  notes.gradients = `${fmtParams(trainable)} trainable params × ${trainDtype} B`;
  if (zero && full && s.autocast) {
    notes.gradients = `${fmtParams(trainable)} trainable params: fp32 gradient partition (4 B / ${n} GPUs)${par === 'zero1' ? ' + full-size 16-bit gradients' : ''}`;
  } else if (shardGrads > 1) notes.gradients += `, sharded over ${n} GPUs`;
  if (gradientBuckets > 0)
    notes.gradients += `; DDP bucket buffers add one more copy (${fmtGiB(gradientBuckets)})`;

  const paramsTotal = groups.total + (full ? 0 : adapterParams);
  const bytesPerTrainable = 2 * trainDtype + optimizerStateBytes(s, trainDtype);
  return {
    baseWeights,
    gatheredWeights,
    adapter: adapterBytes,
    gradients,
    gradientBuckets,
    optimizer,
    optimizerOutside,
    optimizerStepTemp,
    tiedEmbeddingGradTemp,
    paramsTotal,
    paramsTrainable: trainable,
    bytesPerTrainable,
    fsdpUpcast,
    notes,
  };
}

// "Did you mean" for unknown keys and enum values: known aliases from other
// tools first (they are not typos, so edit distance would miss them), then the
// closest candidate by edit distance.

/** Names users bring from other tools or older releases, per section. */
const KEY_ALIASES: Record<string, Record<string, string>> = {
  lora: {
    lora_rank: 'r',
    rank: 'r',
    lora_r: 'r',
    alpha: 'lora_alpha',
    dropout: 'lora_dropout',
    lora_target: 'target_modules',
    lora_target_modules: 'target_modules',
    target: 'target_modules',
    targets: 'target_modules',
  },
  data: {
    max_seq_length: 'max_length',
    sequence_len: 'max_length',
    seq_len: 'max_length',
    cutoff_len: 'max_length',
    max_seq_len: 'max_length',
    dataset: 'train_file',
    train_data: 'train_file',
    eval_data: 'eval_file',
    template: 'chat_template',
    train_on_inputs: 'completion_only_loss',
    sample_packing: 'packing',
  },
  training: {
    lr: 'learning_rate',
    epochs: 'num_train_epochs',
    num_epochs: 'num_train_epochs',
    batch_size: 'per_device_train_batch_size',
    micro_batch_size: 'per_device_train_batch_size',
    train_batch_size: 'per_device_train_batch_size',
    gradient_accumulation: 'gradient_accumulation_steps',
    grad_accum: 'gradient_accumulation_steps',
    optimizer: 'optim',
    scheduler: 'lr_scheduler_type',
    lr_scheduler: 'lr_scheduler_type',
    warmup: 'warmup_steps',
    warmup_ratio: 'warmup_steps',
    grad_clip: 'max_grad_norm',
  },
  model: {
    base_model: 'name_or_path',
    model_name_or_path: 'name_or_path',
    model_name: 'name_or_path',
    name: 'name_or_path',
    path: 'name_or_path',
    attention: 'attn_implementation',
  },
  quantization: {
    load_in_4bits: 'load_in_4bit',
    quant_type: 'bnb_4bit_quant_type',
    compute_dtype: 'bnb_4bit_compute_dtype',
    double_quant: 'bnb_4bit_use_double_quant',
  },
};

/**
 * The most likely intended key among `candidates`, or undefined. `aliases`
 * replaces the native section's table (other dialects bring their own).
 */
export function suggestKey(
  section: string,
  key: string,
  candidates: readonly string[],
  aliases?: Record<string, string>,
): string | undefined {
  const alias = (aliases ?? KEY_ALIASES[section])?.[key.toLowerCase()];
  if (alias && candidates.includes(alias)) return alias;
  return closest(key, candidates);
}

/** The closest candidate within a distance that suits the word's length. */
export function closest(word: string, candidates: readonly unknown[]): string | undefined {
  const lower = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    if (typeof candidate !== 'string') continue;
    const c = candidate.toLowerCase();
    if (c === lower) return candidate;
    // A key written with dashes, spaces or a different separator is the same key.
    if (normalize(c) === normalize(lower)) return candidate;
    const distance = editDistance(lower, c);
    if (distance < bestDistance) {
      bestDistance = distance;
      best = candidate;
    }
  }
  const allowed = Math.max(1, Math.min(3, Math.floor(Math.max(word.length, 3) / 3)));
  if (best !== undefined && bestDistance <= allowed) return best;
  // A missing or extra word part (`warmup` / `warmup_ratio`) is a common slip.
  for (const candidate of candidates) {
    if (typeof candidate !== 'string' || lower.length < 4) continue;
    const c = candidate.toLowerCase();
    if (c.startsWith(lower + '_') || lower.startsWith(c + '_')) return candidate;
  }
  return undefined;
}

function normalize(s: string): string {
  return s.replace(/[-_\s.]/g, '');
}

/** Optimal string alignment distance (Damerau-Levenshtein with adjacent swaps). */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  if (Math.abs(a.length - b.length) > 3) return Math.abs(a.length - b.length);
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array(rows * cols).fill(0);
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(
        d[(i - 1) * cols + j] + 1,
        d[i * cols + j - 1] + 1,
        d[(i - 1) * cols + j - 1] + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        v = Math.min(v, d[(i - 2) * cols + j - 2] + 1);
      }
      d[i * cols + j] = v;
    }
  }
  return d[rows * cols - 1];
}

// Renamed keys of the other tools, in the shape of schemas/renamed-keys.json
// (section '' is the top level: these formats are flat). A renamed key is
// reported as deprecated-key / removed-key, never as an unknown key.

import renamedKeys from '../../../schemas/renamed-keys.json';
import type { Dialect } from '../types';

export interface DialectRenamedKey {
  section: string;
  old: string;
  new: string;
  newValue?: unknown;
  renamedIn: string;
  removedIn: string | null;
  note?: string;
}

interface NativeRenamed extends DialectRenamedKey {
  section: string;
}

const NATIVE = renamedKeys as NativeRenamed[];

/** The native table's TrainingArguments / TRL renames, moved to the top level. */
function flattened(sections: readonly string[], skip: readonly string[] = []): DialectRenamedKey[] {
  return NATIVE.filter((r) => sections.includes(r.section) && !skip.includes(r.old)).map((r) => ({
    ...r,
    section: '',
  }));
}

const ATTENTION_FLAGS: [string, string][] = [
  ['flash_attention', 'flash_attention_2'],
  ['sdp_attention', 'sdpa'],
  ['xformers_attention', 'xformers'],
  ['s2_attention', 's2'],
  ['flex_attention', 'flex_attention'],
  ['sage_attention', 'sage'],
  ['eager_attention', 'eager'],
];

const AXOLOTL_DEPRECATED = 'Axolotl 0.14 development';

const AXOLOTL: DialectRenamedKey[] = [
  ...ATTENTION_FLAGS.map(([old, impl]) => ({
    section: '',
    old,
    new: 'attn_implementation',
    newValue: impl,
    renamedIn: AXOLOTL_DEPRECATED,
    removedIn: null,
    note: `config.py normalize_attn_implementation maps \`${old}: true\` to \`attn_implementation: ${impl}\` with a deprecation warning, and rejects the flag next to attn_implementation.`,
  })),
  {
    section: '',
    old: 'evaluation_strategy',
    new: 'eval_strategy',
    renamedIn: 'Axolotl (DeprecatedParameters)',
    removedIn: null,
  },
  {
    section: '',
    old: 'noisy_embedding_alpha',
    new: 'neftune_noise_alpha',
    renamedIn: 'Axolotl (DeprecatedParameters)',
    removedIn: null,
  },
  {
    section: '',
    old: 'dpo_beta',
    new: 'rl_beta',
    renamedIn: 'Axolotl (DeprecatedParameters)',
    removedIn: null,
  },
  {
    section: '',
    old: 'dataset_processes',
    new: 'dataset_num_proc',
    renamedIn: AXOLOTL_DEPRECATED,
    removedIn: null,
  },
  {
    section: '',
    old: 'sequence_parallel_degree',
    new: 'context_parallel_size',
    renamedIn: AXOLOTL_DEPRECATED,
    removedIn: null,
  },
  {
    section: '',
    old: 'pretrain_multipack_buffer_size',
    new: 'streaming_multipack_buffer_size',
    renamedIn: 'Axolotl 0.13',
    removedIn: null,
    note: 'Deprecated in v0.13.0, to be removed in v0.14.0 (config.py).',
  },
  {
    section: '',
    old: 'max_packed_sequence_len',
    new: 'sample_packing',
    newValue: true,
    renamedIn: 'earlier Axolotl releases',
    removedIn: 'current Axolotl, which stops on it',
  },
];

/** Renames other tools' users bring along that LLaMA-Factory rejects at start-up. */
const LLAMAFACTORY: DialectRenamedKey[] = [
  ...flattened(
    ['training'],
    [
      'warmup_ratio',
      'group_by_length',
      'no_cuda',
      'per_gpu_train_batch_size',
      'per_gpu_eval_batch_size',
      'push_to_hub_token',
      'push_to_hub_model_id',
    ],
  ),
];

const TRL: DialectRenamedKey[] = [
  ...flattened(['training', 'data']),
  {
    section: '',
    old: 'torch_dtype',
    new: 'dtype',
    renamedIn: 'TRL 0.21 (ModelConfig)',
    removedIn: 'TRL 1.x (ModelConfig of 1.13 has no torch_dtype; the CLI stops on unknown keys)',
  },
];

export const DIALECT_RENAMED_KEYS: Record<Exclude<Dialect, 'native'>, DialectRenamedKey[]> = {
  axolotl: AXOLOTL,
  llamafactory: LLAMAFACTORY,
  trl: TRL,
};

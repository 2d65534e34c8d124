// Token count of one pre-token under a byte-level BPE model (GPT-2, Llama 3,
// Qwen, Mistral Nemo): the piece's UTF-8 bytes mapped to GPT-2's printable
// byte characters, then the merges applied lowest rank first, as the Rust
// `tokenizers` crate does. Why not the library's own BPE: it keys each pair
// lookup by JSON.stringify and allocates a heap per word, ~60 µs a word, so
// the ~4,000 distinct words of the telecom chats cost ~250 ms and 20 MB of
// varied text seconds; this costs a few µs a word. Only counts (no ids), and
// only for plain BPE models (no dropout, suffixes or byte fallback); the
// tests check it against the library's encode.

/** GPT-2's byte → printable character map (bytes_to_unicode). */
const BYTE_CHARS: string[] = (() => {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const chars: string[] = new Array<string>(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    chars[b] = String.fromCharCode(printable.includes(b) ? b : 256 + extra++);
  }
  return chars;
})();

const encoder = new TextEncoder();

export type PieceCounter = (piece: string) => number;

interface BpeModelJson {
  type?: string;
  vocab?: Record<string, number>;
  merges?: (string | [string, string])[];
  dropout?: number | null;
  continuing_subword_prefix?: string | null;
  end_of_word_suffix?: string | null;
  byte_fallback?: boolean;
  ignore_merges?: boolean;
}

/** A counter for a tokenizer.json `model`, or undefined when it is not a plain BPE. */
export function byteLevelBpeCounter(model: unknown): PieceCounter | undefined {
  const m = model as BpeModelJson | null | undefined;
  if (!m || m.type !== 'BPE' || !m.vocab || !Array.isArray(m.merges)) return undefined;
  if (m.dropout || m.continuing_subword_prefix || m.end_of_word_suffix || m.byte_fallback) {
    return undefined;
  }
  const vocab = new Map(Object.entries(m.vocab));
  // "a\u0001b" → rank; byte-level symbols never hold U+0001 (it maps to Ā).
  const ranks = new Map<string, number>();
  m.merges.forEach((merge, rank) => {
    const pair = typeof merge === 'string' ? merge.split(' ') : merge;
    if (pair.length !== 2) return;
    const key = `${pair[0]}\u0001${pair[1]}`;
    if (!ranks.has(key)) ranks.set(key, rank);
  });
  const ignoreMerges = m.ignore_merges === true;
  return (piece) => {
    const bytes = encoder.encode(piece);
    let mapped = '';
    for (const b of bytes) mapped += BYTE_CHARS[b];
    if (ignoreMerges && vocab.has(mapped)) return 1;
    const symbols = Array.from(mapped);
    // Merge the lowest-ranked adjacent pair, leftmost first, until none is left.
    while (symbols.length > 1) {
      let best = Infinity;
      let at = -1;
      for (let i = 0; i < symbols.length - 1; i++) {
        const rank = ranks.get(`${symbols[i]}\u0001${symbols[i + 1]}`);
        if (rank !== undefined && rank < best) {
          best = rank;
          at = i;
        }
      }
      if (at < 0) break;
      symbols.splice(at, 2, symbols[at] + symbols[at + 1]);
    }
    return symbols.length;
  };
}

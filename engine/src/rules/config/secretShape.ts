// Whether an environment value written in a config looks like a secret, and
// in what way (for the message, which never repeats the value).

/** Prefixes of well-known token formats (Hugging Face, OpenAI, GitHub, Slack, GitLab, AWS, JWT). */
const TOKEN_PREFIX =
  /^(hf_|sk-|ghp_|gho_|ghs_|ghu_|github_pat_|xox[abpr]-|glpat-|AKIA|eyJ)[A-Za-z0-9_-]{8,}/;
/** A variable named like a secret: a TOKEN, KEY, SECRET or PASSWORD part (not TOKENIZERS_PARALLELISM). */
const SECRET_NAME = /(^|_)(TOKEN|KEY|APIKEY|SECRET|PASSWORD|PASSWD|CREDENTIALS?)S?($|_)/i;
/** A reference to another variable, not a value: `$HF_TOKEN`, `${HF_TOKEN}`. */
const REFERENCE = /^\$(\{?\w+\}?)$/;
/** Letters, digits and token punctuation only: no spaces, slashes or dots (paths, hosts). */
const TOKEN_CHARACTERS = /^[A-Za-z0-9_\-+=]{20,}$/;

/** How `value` (of variable `name`) looks like a secret, or undefined when it does not. */
export function secretShape(name: string, value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (!text || REFERENCE.test(text)) return undefined;
  if (TOKEN_PREFIX.test(text)) return 'starts like an access token';
  if (SECRET_NAME.test(name) && text.length >= 8 && !looksLikePath(text)) {
    return 'is named like a secret and holds a value';
  }
  if (isRandomLooking(text)) return 'holds a long random-looking string, likely a key';
  return undefined;
}

function looksLikePath(text: string): boolean {
  return /^[~./]/.test(text) || /[\\/]/.test(text);
}

/** 20+ token characters with one 16+ character run that mixes letters and digits at high entropy. */
export function isRandomLooking(text: string): boolean {
  if (!TOKEN_CHARACTERS.test(text)) return false;
  return text
    .split(/[-_]/)
    .some(
      (run) =>
        run.length >= 16 && /\d/.test(run) && /[A-Za-z]/.test(run) && shannonBits(run) >= 3.3,
    );
}

/** Shannon entropy in bits per character. */
function shannonBits(text: string): number {
  const counts = new Map<string, number>();
  for (const ch of text) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let bits = 0;
  for (const count of counts.values()) {
    const p = count / text.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

// Text of the user's config quoted inside finding messages: bounded in length
// (a 1 MB key must not make a 1 MB diagnostic) and written as YAML, the
// language the user wrote it in (`.nan`, not `null` or `NaN`); and the YAML
// library's own messages, bounded and, for the common ones, in plain words.

/** Longest key or value quoted in a message, in characters. */
export const MAX_QUOTED_LENGTH = 80;
/** Longest whole message; a last guard after quoting is bounded at the source. */
export const MAX_MESSAGE_LENGTH = 1000;

/** `text` cut to at most `max` characters, ending in `…` when cut. */
export function shortText(text: string, max = MAX_QUOTED_LENGTH): string {
  // Line breaks would break the message's own line: show them as a symbol.
  const flat = (text.length > max ? text.slice(0, max) : text).replace(/\r?\n/g, '⏎');
  if (text.length <= max) return flat;
  let end = Math.min(flat.length, max - 1);
  // Never split a surrogate pair: half of one is not text.
  if (isHighSurrogate(flat.charCodeAt(end - 1))) end--;
  return flat.slice(0, end) + '…';
}

/** A whole message bounded to MAX_MESSAGE_LENGTH. */
export function boundedMessage(message: string): string {
  if (message.length <= MAX_MESSAGE_LENGTH) return message;
  return shortText(message, MAX_MESSAGE_LENGTH);
}

/**
 * A config value as YAML-ish text for a message: scalars as YAML writes them
 * (`.nan`, `-.inf`, `null`), strings shortened, lists and mappings described
 * by their size rather than printed.
 */
export function yamlText(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return '.nan';
    if (value === Infinity) return '.inf';
    if (value === -Infinity) return '-.inf';
    return String(value);
  }
  if (typeof value === 'string') return shortText(value);
  if (typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value)) return `a list of ${plural(value.length, 'item')}`;
  if (typeof value === 'object') return `a mapping of ${plural(Object.keys(value).length, 'key')}`;
  return shortText(String(value));
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/** Longest YAML library message kept (its messages may quote the source). */
const MAX_LIBRARY_MESSAGE = 200;

/** The library's wording for the errors a config most often has, in the config's terms. */
const PLAIN_WORDS: Partial<Record<string, string>> = {
  TAB_AS_INDENT: 'Tabs are not allowed as indentation in YAML: indent this config with spaces.',
  KEY_OVER_1024_CHARS:
    'This key is longer than YAML allows (1024 characters before its `:`): config keys are short names.',
  MULTILINE_IMPLICIT_KEY:
    'A key must fit on one line: is a `:` missing at the end of the line before, or a quote left open?',
};

/** The library's message in plain words, or without its position and source excerpt, bounded. */
export function yamlErrorMessage(code: string, message: string): string {
  const plain = PLAIN_WORDS[code];
  if (plain) return plain;
  // It appends " at line L, column C" plus a source excerpt; the range says that.
  const clean = message.replace(/ at line \d+, column \d+:?[\s\S]*$/, '').trim();
  return shortText(clean, MAX_LIBRARY_MESSAGE);
}

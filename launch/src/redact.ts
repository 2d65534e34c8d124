// Credentials written into a URL (`https://user:token@host`, as people set
// HF_ENDPOINT or a proxy) must not reach a terminal, a CI log or a bug report.
// Every message that may quote such a URL goes through this first.

// scheme://userinfo@ — userinfo up to the last `@` before the host; it stops at
// whitespace, quotes and the characters that end an authority, so a message
// (or a JSON string) around the URL is left intact.
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#"'`<>@]*(?:@[^\s/?#"'`<>@]*)*@/gi;

/** `text` with the user name and password of every URL in it replaced by `***`. */
export function redactUrlCredentials(text: string): string {
  return text.replace(URL_CREDENTIALS, '$1***@');
}

// Length and composition statistics of generated sets (printed by
// generate.mjs and quoted in the data card). Token counts are estimates:
// characters / 4 plus 5 tokens of chat-template markup per message, close to
// the Llama 3 tokenizer on English text; the language server makes the same
// kind of estimate.

export const approxTokens = (messages) =>
  messages.reduce((n, m) => n + Math.ceil(m.content.length / 4) + 5, 1);

function summary(values) {
  const v = values.slice().sort((a, b) => a - b);
  const q = (p) => v[Math.min(v.length - 1, Math.floor(p * (v.length - 1) + 0.5))];
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  return { min: v[0], median: q(0.5), mean: Math.round(mean), p95: q(0.95), max: v[v.length - 1] };
}

/** rows: [{ intent?, messages }] */
export function setStats(rows) {
  const userTurns = {};
  const chars = [];
  const tokens = [];
  const assistantChars = [];
  const userChars = [];
  const intents = {};
  const firstUser = new Set();
  for (const r of rows) {
    const users = r.messages.filter((m) => m.role === 'user');
    userTurns[users.length] = (userTurns[users.length] || 0) + 1;
    chars.push(r.messages.reduce((n, m) => n + m.content.length, 0));
    tokens.push(approxTokens(r.messages));
    for (const m of r.messages) {
      if (m.role === 'assistant') assistantChars.push(m.content.length);
      if (m.role === 'user') userChars.push(m.content.length);
    }
    if (users.length) firstUser.add(users[0].content);
    if (r.intent) intents[r.intent] = (intents[r.intent] || 0) + 1;
  }
  return {
    rows: rows.length,
    userTurns,
    charsPerConversation: summary(chars),
    approxTokensPerConversation: summary(tokens),
    charsPerUserMessage: summary(userChars),
    charsPerAssistantMessage: summary(assistantChars),
    distinctFirstUserMessages: firstUser.size,
    intents,
  };
}

const pct = (n, d) => `${((100 * n) / d).toFixed(1)}%`;
const fmtSummary = (s) =>
  `min ${s.min} / median ${s.median} / mean ${s.mean} / p95 ${s.p95} / max ${s.max}`;

export function formatStats(name, s, labels = {}) {
  const lines = [`${name}: ${s.rows} rows`];
  const turns = Object.keys(s.userTurns)
    .sort((a, b) => a - b)
    .map((k) => `${k}: ${s.userTurns[k]} (${pct(s.userTurns[k], s.rows)})`);
  lines.push(`  user turns per conversation: ${turns.join(', ')}`);
  lines.push(`  characters per conversation: ${fmtSummary(s.charsPerConversation)}`);
  lines.push(`  approx. tokens per conversation: ${fmtSummary(s.approxTokensPerConversation)}`);
  lines.push(`  characters per user message: ${fmtSummary(s.charsPerUserMessage)}`);
  lines.push(`  characters per assistant message: ${fmtSummary(s.charsPerAssistantMessage)}`);
  lines.push(
    `  distinct first user messages: ${s.distinctFirstUserMessages} (${pct(s.distinctFirstUserMessages, s.rows)})`,
  );
  const ids = Object.keys(s.intents);
  if (ids.length) {
    lines.push('  intents:');
    for (const id of ids.sort((a, b) => s.intents[b] - s.intents[a] || a.localeCompare(b))) {
      lines.push(
        `    ${id.padEnd(28)} ${String(s.intents[id]).padStart(5)}  ${pct(s.intents[id], s.rows).padStart(6)}  ${labels[id] || ''}`,
      );
    }
  }
  return lines.join('\n');
}

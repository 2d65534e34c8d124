// Validation of a `messages`-format JSONL file: every line a JSON object
// {"messages": [{"role": "system"|"user"|"assistant", "content": "..."}, ...]}
// with at least one assistant turn. Used by `generate.mjs --check FILE` and,
// in strict form, on every conversation the generator builds.

import fs from 'node:fs';

const ROLES = new Set(['system', 'user', 'assistant']);

/** Why one parsed row is not a valid messages row, or null when it is. */
export function rowProblem(row) {
  if (row === null || typeof row !== 'object' || Array.isArray(row)) return 'not a JSON object';
  if (!Array.isArray(row.messages)) return 'no "messages" array';
  if (row.messages.length === 0) return '"messages" is empty';
  let assistants = 0;
  for (let i = 0; i < row.messages.length; i++) {
    const m = row.messages[i];
    if (m === null || typeof m !== 'object' || Array.isArray(m))
      return `message ${i + 1} is not an object`;
    if (!ROLES.has(m.role))
      return `message ${i + 1} has role ${JSON.stringify(m.role)} (expected system, user or assistant)`;
    if (typeof m.content !== 'string' || m.content.trim() === '')
      return `message ${i + 1} has no text content`;
    if (m.role === 'assistant') assistants++;
  }
  if (assistants === 0) return 'no assistant turn';
  return null;
}

/**
 * Stricter shape the generator guarantees: one leading system message, then
 * user/assistant alternating, starting with user and ending with assistant.
 */
export function strictProblem(messages, maxUserTurns = 5) {
  const basic = rowProblem({ messages });
  if (basic) return basic;
  if (messages[0].role !== 'system') return 'first message is not the system prompt';
  const rest = messages.slice(1);
  for (let i = 0; i < rest.length; i++) {
    const want = i % 2 === 0 ? 'user' : 'assistant';
    if (rest[i].role !== want) return `turn ${i + 1} is ${rest[i].role}, expected ${want}`;
  }
  if (rest.length % 2 !== 0) return 'does not end with an assistant turn';
  const users = rest.length / 2;
  if (users < 1 || users > maxUserTurns) return `${users} user turns (expected 1-${maxUserTurns})`;
  return null;
}

/** { ok: true, rows } or { ok: false, line, reason } (1-based line number). */
export function checkText(text) {
  const lines = text.split('\n');
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  if (lines.length === 0) return { ok: false, line: 1, reason: 'file is empty' };
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i].replace(/\r$/, '');
    let row;
    try {
      row = JSON.parse(raw);
    } catch (e) {
      return {
        ok: false,
        line: i + 1,
        reason: raw.trim() === '' ? 'blank line' : `not valid JSON (${e.message})`,
      };
    }
    const problem = rowProblem(row);
    if (problem) return { ok: false, line: i + 1, reason: problem };
  }
  return { ok: true, rows: lines.length };
}

export function checkFile(file) {
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    return {
      ok: false,
      line: 0,
      reason: `cannot read file (${e.code || e.message})`,
      unreadable: true,
    };
  }
  return checkText(text);
}

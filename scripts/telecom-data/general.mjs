// Generic helpful-assistant conversations (1-3 user turns) for the
// full-fine-tuning template's general data mix, which limits forgetting:
// arithmetic, percentages, unit conversions, dates, definitions, rewriting,
// grammar, synonyms, emails and tips. Template-based; answers are computed.

import { vary } from './common.mjs';
import { DEF_ASKS, GLOSSARY } from './glossary.mjs';
import { EMAIL_TO, GRAMMAR, REWRITES, SYNONYMS, TIPS } from './general-text.mjs';

export const GENERAL_SYSTEM_PROMPT = 'You are a helpful, concise assistant.';

/** 12345.6 -> "12,345.6" (at most two decimals; no locale data involved). */
function fmt(x) {
  const neg = x < 0;
  const [w, d] = Math.abs(x).toFixed(2).split('.');
  const frac = d.replace(/0+$/, '');
  return `${neg ? '-' : ''}${w.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}${frac ? `.${frac}` : ''}`;
}
const r2 = (x) => Math.round(x * 100) / 100;
const WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

class Chat {
  constructor(rng) {
    this.rng = rng;
    this.messages = [{ role: 'system', content: GENERAL_SYSTEM_PROMPT }];
  }
  user(t) {
    this.messages.push({ role: 'user', content: vary(this.rng, t) });
    return this;
  }
  assistant(t) {
    this.messages.push({ role: 'assistant', content: vary(this.rng, t) });
    return this;
  }
}

function arithmetic(c) {
  const { rng } = c;
  const op = rng.pick(['+', '-', '×', '÷']);
  let a;
  let b;
  let ans;
  let work = '';
  if (op === '+') {
    a = rng.int(100, 99999);
    b = rng.int(100, 99999);
    ans = a + b;
  }
  if (op === '-') {
    a = rng.int(1000, 99999);
    b = rng.int(100, a);
    ans = a - b;
  }
  if (op === '×') {
    a = rng.int(12, 999);
    b = rng.int(3, 99);
    ans = a * b;
    const t = Math.floor(b / 10) * 10;
    const u = b - t;
    if (t && u) work = ` (${fmt(a)} × ${t} = ${fmt(a * t)}, plus ${fmt(a)} × ${u} = ${fmt(a * u)})`;
  }
  if (op === '÷') {
    b = rng.int(2, 40);
    ans = rng.int(3, 500);
    a = b * ans;
  }
  c.user(`{What is|What's|Calculate|Can you work out} ${fmt(a)} ${op} ${fmt(b)}{?|, please?}`);
  c.assistant(`${fmt(a)} ${op} ${fmt(b)} = ${fmt(ans)}${work}.`);
  if (rng.chance(0.35)) {
    const k = rng.int(2, 9);
    const op2 = rng.pick(['multiply that by', 'divide that by', 'add']);
    const res = op2 === 'add' ? ans + k : op2 === 'multiply that by' ? ans * k : r2(ans / k);
    c.user(`{And if I|Now} ${op2} ${k}{?|, what do I get?}`);
    const exact = op2 !== 'divide that by' || res * k === ans;
    c.assistant(
      `${fmt(ans)} ${op2 === 'add' ? '+' : op2 === 'multiply that by' ? '×' : '÷'} ${k} ${exact ? '=' : '≈'} ${fmt(res)}${exact ? '' : ' (rounded to two decimals)'}.`,
    );
  }
}

function percent(c) {
  const { rng } = c;
  const kind = rng.pick(['of', 'discount', 'tip', 'change']);
  if (kind === 'of') {
    const p = rng.pick([5, 10, 12, 15, 20, 25, 30, 40, 75]);
    const x = rng.int(2, 400) * 10;
    c.user(`{What's|What is|Calculate} ${p}% of ${fmt(x)}?`);
    c.assistant(`${p}% of ${fmt(x)} is ${fmt(r2((p * x) / 100))} (${fmt(x)} × ${p / 100}).`);
  } else if (kind === 'discount') {
    const price = rng.int(10, 400);
    const p = rng.pick([10, 15, 20, 25, 30, 40, 50]);
    const off = r2((price * p) / 100);
    c.user(
      `{A jacket|A pair of shoes|A lamp|A backpack} costs $${price} and is ${p}% off. {What's the sale price?|How much will I pay?}`,
    );
    c.assistant(
      `The discount is ${p}% of $${price} = $${off.toFixed(2)}, so the sale price is $${price} − $${off.toFixed(2)} = $${(price - off).toFixed(2)}.`,
    );
  } else if (kind === 'tip') {
    const bill = r2(rng.int(1500, 25000) / 100);
    const p = rng.pick([15, 18, 20]);
    const tip = r2((bill * p) / 100);
    c.user(`{How much is a|What's a} ${p}% tip on $${bill.toFixed(2)}?`);
    c.assistant(
      `A ${p}% tip on $${bill.toFixed(2)} is $${tip.toFixed(2)}, for a total of $${(bill + tip).toFixed(2)}.`,
    );
    if (rng.chance(0.4)) {
      const n = rng.int(2, 6);
      c.user(`{Split between|Divided among} ${n} people?`);
      c.assistant(
        `$${(bill + tip).toFixed(2)} ÷ ${n} = about $${(Math.ceil(((bill + tip) / n) * 100) / 100).toFixed(2)} each.`,
      );
    }
  } else {
    const a = rng.int(20, 500);
    const b = rng.int(20, 500);
    if (a === b) return percent(c);
    const ch = r2(((b - a) / a) * 100);
    c.user(`{What's the percentage change|By what percentage did it change} from ${a} to ${b}?`);
    c.assistant(
      `The change is (${b} − ${a}) ÷ ${a} × 100 = ${ch > 0 ? '+' : ''}${fmt(ch)}%, ${ch > 0 ? 'an increase' : 'a decrease'}.`,
    );
  }
}

const UNITS = [
  ['kilometres', 'kilometre', 'miles', 0.621371],
  ['miles', 'mile', 'kilometres', 1.609344],
  ['kilograms', 'kilogram', 'pounds', 2.204623],
  ['pounds', 'pound', 'kilograms', 0.453592],
  ['litres', 'litre', 'US gallons', 0.264172],
  ['metres', 'metre', 'feet', 3.28084],
  ['inches', 'inch', 'centimetres', 2.54],
  ['feet', 'foot', 'metres', 0.3048],
];

function units(c) {
  const { rng } = c;
  if (rng.chance(0.3)) {
    const toF = rng.chance(0.5);
    const v = toF ? rng.int(-20, 45) : rng.int(0, 110);
    const res = toF ? r2((v * 9) / 5 + 32) : r2(((v - 32) * 5) / 9);
    c.user(
      `{Convert ${v} °${toF ? 'C' : 'F'} to ${toF ? 'Fahrenheit' : 'Celsius'}.|What is ${v} °${toF ? 'C' : 'F'} in ${toF ? 'Fahrenheit' : 'Celsius'}?}`,
    );
    c.assistant(
      toF
        ? `${v} °C = ${v} × 9/5 + 32 = ${fmt(res)} °F.`
        : `${v} °F = (${v} − 32) × 5/9 ≈ ${fmt(res)} °C.`,
    );
    return;
  }
  const [from, one, to, f] = rng.pick(UNITS);
  const v = rng.int(2, 250);
  c.user(
    `{How many ${to} is ${v} ${from}?|Convert ${v} ${from} to ${to}.|What's ${v} ${from} in ${to}?}`,
  );
  c.assistant(`${v} ${from} is about ${fmt(r2(v * f))} ${to} (1 ${one} ≈ ${f} ${to}).`);
}

function dates(c) {
  const { rng } = c;
  const d = rng.int(0, 6);
  const n = rng.int(2, 200);
  c.user(
    `{If today is|Today is} ${WEEKDAYS[d]}{,|.} {what day of the week will it be in|what day is it} ${n} days{ from now|}?`,
  );
  c.assistant(
    `${n} days is ${Math.floor(n / 7)} full week${Math.floor(n / 7) === 1 ? '' : 's'} and ${n % 7} day${n % 7 === 1 ? '' : 's'}, ` +
      `so it will be ${WEEKDAYS[(d + n) % 7]}.`,
  );
}

function definition(c) {
  const { rng } = c;
  const [term, def, example] = rng.pick(GLOSSARY);
  const bare = term.replace(/^(a|an|the) /, '');
  c.user(rng.pick(DEF_ASKS).replace('{X}', term).replace('{T}', `"${bare}"`));
  const cap = term.charAt(0).toUpperCase() + term.slice(1);
  c.assistant(`${cap} is ${def}.${rng.chance(0.5) ? ` For example: ${example}` : ''}`);
  if (rng.chance(0.35)) {
    c.user('{Can you give me an example?|Example?|Could you give a simple example?}');
    c.assistant(`Sure. ${example}`);
  }
}

function rewrite(c) {
  const { rng } = c;
  const [inf, formal] = rng.pick(REWRITES);
  c.user(
    `{Can you make this more formal|Rewrite this so it sounds professional|Make this sentence more polite}: "${inf}"`,
  );
  c.assistant(`{Here's a more formal version:|Sure:|Try this:} "${formal}"`);
  const parts = formal.split(/(?<=[.?!;]) /);
  if (parts.length > 1 && formal.endsWith('?') && rng.chance(0.5)) {
    c.user('{Shorter please.|Can you make it shorter?}');
    c.assistant(
      `"${parts[parts.length - 1].charAt(0).toUpperCase()}${parts[parts.length - 1].slice(1)}"`,
    );
  }
}

function grammar(c) {
  const { rng } = c;
  const [bad, good, why] = rng.pick(GRAMMAR);
  c.user(`{Is this sentence correct|Can you fix the grammar|Any mistakes here}? "${bad}"`);
  c.assistant(`{Corrected|A corrected version}: "${good}" ${why}`);
}

function synonyms(c) {
  const { rng } = c;
  const [w, list] = rng.pick(SYNONYMS);
  c.user(
    `{Give me some synonyms for "${w}".|What's another word for "${w}"?|Any other words for "${w}"?}`,
  );
  c.assistant(
    `{Some options|Here are a few}: ${list}. {The best choice depends on the tone of your sentence.|}`,
  );
}

function tips(c) {
  const { rng } = c;
  const [topic, list] = rng.pick(TIPS);
  const k = rng.int(3, 4);
  const chosen = rng.sample(list, k);
  c.user(`{Any tips for|Give me ${k} tips for|How can I get better at} ${topic}?`);
  c.assistant(
    `{Here are a few:|A few ideas:|Sure:}\n${chosen.map((t, i) => `${i + 1}. ${t}`).join('\n')}`,
  );
}

function email(c) {
  const { rng } = c;
  const [to, greet, about, ask, subject] = rng.pick(EMAIL_TO);
  c.user(
    `{Write|Draft|Help me write} a short email to ${to} {saying|to say|explaining} that ${about}.`,
  );
  const sign = rng.pick(['Best regards', 'Kind regards', 'Thanks', 'Many thanks']);
  c.assistant(
    `Subject: ${subject}\n\n${greet},\n\nI'm writing to let you know that ${about}. ${ask}\n\n${sign},\n[Your name]`,
  );
  if (rng.chance(0.3)) {
    c.user('{Make it a bit friendlier.|Can you make it warmer?}');
    c.assistant(
      `${greet.replace('Dear', 'Hi')},\n\nI hope you're doing well! Just a quick note to let you know that ${about}. ${ask} ` +
        `Thanks so much!\n\n${sign === 'Thanks' ? 'Best' : sign},\n[Your name]`,
    );
  }
}

const KINDS = [
  [4, arithmetic],
  [3, percent],
  [2, units],
  [1, dates],
  [4, definition],
  [2, rewrite],
  [2, grammar],
  [1, synonyms],
  [2, tips],
  [2, email],
];

/** One general conversation (system + 1-3 user turns). */
export function buildGeneral(rng) {
  const c = new Chat(rng);
  rng.weighted(KINDS)(c);
  return c.messages;
}

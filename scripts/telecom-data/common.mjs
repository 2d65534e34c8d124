// Shared machinery of the telecom support conversations: the template
// mini-language, the customer and conversation builders, and the moves many
// intents share (verification, apologies, closing, transfer to a human).
// The catalogue (plans, prices, slot values) lives in catalog.mjs and is
// re-exported here.

import { DEVICES, PLANS, SYSTEM_PROMPT, caseId } from './catalog.mjs';

export * from './catalog.mjs';

/**
 * The template mini-language: "{a|b|c}" picks one alternative, "{a|}" is
 * optional text; alternatives may nest ("{Hi{,| there}|Hello}").
 */
export function vary(rng, s) {
  let out = s;
  const re = /\{([^{}]*)\}/;
  let m;
  while ((m = re.exec(out))) {
    const choice = rng.pick(m[1].split('|'));
    out = out.slice(0, m.index) + choice + out.slice(m.index + m[0].length);
  }
  return tidy(out);
}

export function tidy(s) {
  return s
    .replace(/[ \t]+/g, ' ')
    .replace(/ ([,.!?;:])/g, '$1')
    .replace(/\n /g, '\n')
    .replace(/ \n/g, '\n')
    .trim()
    .replace(/(^|[.!?] )([a-z])(?!P)/g, (m, p, ch) => p + ch.toUpperCase());
}

/** Lower-case the first letter unless it starts "I", "I'm" or an acronym. */
function lowerFirst(s) {
  if (/^I\b/.test(s) || /^[A-Z]{2}/.test(s)) return s;
  return s.charAt(0).toLowerCase() + s.slice(1);
}

const OPENERS = {
  neutral: ['', '', '{Hi|Hello|Hey|Hi there}{,|!|.} '],
  polite: [
    "{Hello|Good morning|Good afternoon|Hi}, {I hope you can help me.|could you help me with something?|I hope you're well.} ",
    '{Hello|Hi}! ',
  ],
  frustrated: [
    '{Honestly|Look|Ugh}, ',
    "This is the {second|third} time I'm contacting you about this. ",
    "{I'm getting really frustrated here|I've had enough of this}. ",
  ],
  angry: [
    "{This is unacceptable|I'm really fed up|I am furious}. ",
    'Seriously? ',
    '{I want this fixed today|This is ridiculous}. ',
  ],
  confused: [
    "{I'm not sure this is the right place to ask, but|Sorry if this is a silly question, but|Not sure how this works, but} ",
    "Hi, I'm a bit confused. ",
  ],
  hurried: ['Quick question: ', "{I'm in a hurry|I don't have much time}, ", 'Hi, quickly: '],
};

export function newCustomer(rng) {
  return {
    mood: rng.weighted([
      [6, 'neutral'],
      [2, 'polite'],
      [2, 'frustrated'],
      [1, 'angry'],
      [1, 'confused'],
      [1, 'hurried'],
    ]),
    casual: rng.chance(0.15),
    account: `NW-${rng.int(1, 9)}${rng.digits(7)}`,
    code: `${rng.int(1, 9)}${rng.digits(5)}`,
    lineEnd: rng.digits(4),
    plan: rng.weighted([
      [2, PLANS[0]],
      [3, PLANS[1]],
      [2, PLANS[2]],
      [3, PLANS[3]],
      [2, PLANS[4]],
    ]),
    device: rng.pick(DEVICES),
    cycleDay: rng.int(1, 28),
  };
}

/** Builds one conversation; enforces 1-5 user turns and alternation. */
export class Convo {
  constructor(rng, ctx) {
    this.rng = rng;
    this.ctx = ctx;
    this.messages = [{ role: 'system', content: SYSTEM_PROMPT }];
    this.userTurns = 0;
  }

  /** User turns still allowed (at most 5 per conversation). */
  get room() {
    return 5 - this.userTurns;
  }

  /** The first user message: mood opener + core request. */
  open(core) {
    const rng = this.rng;
    let text = vary(rng, core);
    if (rng.chance(this.ctx.mood === 'neutral' ? 0.5 : 0.8)) {
      const prefix = vary(rng, rng.pick(OPENERS[this.ctx.mood]));
      if (prefix)
        text = /[,:] ?$|but ?$/.test(prefix)
          ? `${prefix} ${lowerFirst(text)}`
          : `${prefix} ${text}`;
    }
    return this.user(text, true);
  }

  user(text, raw = false) {
    if (this.userTurns >= 5) throw new Error('more than 5 user turns');
    let t = raw ? tidy(text) : vary(this.rng, text);
    if (this.ctx.casual) t = t.toLowerCase().replace(/\.$/, '');
    this.messages.push({ role: 'user', content: t });
    this.userTurns++;
    return this;
  }

  assistant(text) {
    this.messages.push({ role: 'assistant', content: vary(this.rng, text) });
    return this;
  }

  last() {
    return this.messages[this.messages.length - 1];
  }
}

// ---- shared assistant and user moves ------------------------------------

/** A brief acknowledgement fitted to the customer's mood. */
export function sorry(ctx, what = '') {
  const w = what ? ` ${what}` : '';
  if (ctx.mood === 'angry' || ctx.mood === 'frustrated') {
    return `{I'm sorry|I'm really sorry|I understand the frustration, and I'm sorry}${w}{.| — let's get it sorted.}`;
  }
  return `{Sorry|I'm sorry}${w}.`;
}

const VERIFY_WHAT =
  'your account number (it starts with NW- and is on {every bill|your bill|the top of your bill}) ' +
  "and the 6-digit code {I've just sent|we just texted} to the mobile number on the account";
export const VERIFY_ASK =
  '{Before I {can look at|look into|open} your account, I need to verify your identity|' +
  "First I need to confirm it's you|To protect your account, I have to verify you first}. " +
  `{{Please|Please} {send|share} ${VERIFY_WHAT}.|Could you {send|share} ${VERIFY_WHAT}?}`;

export const VERIFY_ASK_EMAIL =
  "Since you can't receive texts right now, I've sent the 6-digit code to the email address on file instead. " +
  '{Please {send|share} your account number (starting with NW-) and that code.|Could you {send|share} your account number (starting with NW-) and that code?}';

export function userVerify(ctx) {
  const a = ctx.account;
  const k = ctx.code;
  return (
    `{Sure, |OK, |Okay. |Yes: |Here you go: |Sure. |}{my account number is ${a} and the code is ${k}|account number ${a}, code ${k}|` +
    `it's ${a} and the code is ${k}|${a} and ${k}|account ${a}, the code I got is ${k}}{.|}`
  );
}

export const VERIFIED =
  "{Thanks, you're verified.|Thank you, that matches — you're verified.|Thanks, I've confirmed your identity.|" +
  "Thank you, verification complete.|Perfect, you're verified.}";

/**
 * Ask for verification and let the user answer (one or two user turns: some
 * customers give the account number first and the code after). Returns the
 * lead-in for the next assistant message, or null when the example stops at
 * the request itself (the caller then ends the conversation).
 */
export function verify(c, lead = '', stopP = 0.12) {
  const { rng, ctx } = c;
  c.assistant(`${lead} ${VERIFY_ASK}`);
  if (rng.chance(stopP)) return null; // a one-exchange example: the ask itself
  if (c.room >= 3 && rng.chance(0.15)) {
    c.user(`{It's|Account number is|Sure,} ${ctx.account}{.|}`);
    c.assistant(
      '{Thanks.|Got it, thanks.} {And the 6-digit code from the text message?|Could you also send the 6-digit code we texted you?}',
    );
    c.user(`{It's|The code is|} ${ctx.code}{.|}`);
  } else {
    c.user(userVerify(ctx));
  }
  return VERIFIED;
}

export const ANYTHING_ELSE =
  '{Is there anything else I can help you with?|Anything else I can do for you today?|' +
  'Can I help with anything else?|}';

/** Optional thanks/close exchange at the end (only if a user turn is left). */
export function maybeClose(c, p = 0.35) {
  if (c.room < 1 || !c.rng.chance(p)) return;
  c.user(
    "{Thanks|Thank you|Great, thanks|OK thanks|Perfect, thank you}{!|.} {That's all.|That's everything.|That helps.|}",
  );
  c.assistant(
    "{You're welcome|Happy to help|Glad I could help}{!|.} {Have a great day.|Take care.|Enjoy the rest of your day.|}",
  );
}

export const HUMAN_OFFER =
  "{If you'd prefer, I can|I can also|If you'd like, I can} transfer you to a human agent{ who can take it further| from our support team|}.";

export const HUMAN_HOURS = 'Our human agents are available from 8 am to 10 pm, seven days a week.';

/** Transfer to a human: a summary so the customer doesn't repeat themselves. */
export function transfer(c, topic) {
  const { rng } = c;
  const id = caseId(rng);
  c.assistant(
    `{Of course.|Understood.|Sure.} I'm transferring you to a human agent now. I've opened case ${id} with a summary of ${topic}, ` +
      "{so you won't need to repeat anything|so the agent can pick up where we left off}. " +
      `{The current wait is about ${rng.int(2, 25)} minutes.|Expected wait time: around ${rng.int(2, 25)} minutes.}`,
  );
  return id;
}

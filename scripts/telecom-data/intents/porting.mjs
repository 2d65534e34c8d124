// Number transfers (porting in, porting out, stuck transfers) and device
// unlocking for eligible devices.

import { money } from '../prng.mjs';
import {
  APP,
  HUMAN_OFFER,
  OTHER_CARRIERS,
  URL,
  an,
  caseId,
  date,
  maybeClose,
  sorry,
  verify,
} from '../common.mjs';

function portIn(c) {
  const { rng } = c;
  const carrier = rng.pick(OTHER_CARRIERS);
  const howLong = rng.chance(0.3);
  c.open(
    howLong
      ? `{How long does it take|How long will it take} to {transfer|move} my number from ${carrier}{ to Northwind|}?`
      : rng.pick([
          `I want to {switch to Northwind|join Northwind} and keep my number from ${carrier}. {How does that work?|What do I need?}`,
          `Can I bring my {phone number|number} over from ${carrier}?`,
        ]),
  );
  c.assistant(
    (howLong
      ? "Most transfers finish within an hour, and some take up to one business day. To start one, you'll need three things from "
      : "{Yes, you can keep your number.|Absolutely, you can bring your number with you.} You'll need three things from ") +
      `${carrier}:\n- the mobile number you're moving\n- your ${carrier} account number\n- a number transfer PIN, which ${carrier} gives you on request\n` +
      "Don't cancel your old service: it ends automatically when the transfer completes. Enter the details when you activate your Northwind SIM " +
      'or eSIM (in the app or in store).' +
      (howLong
        ? ''
        : ' Most transfers finish within an hour, and some take up to one business day.'),
  );
  if (c.room >= 1 && rng.chance(0.65)) {
    c.user(
      rng.pick([
        `How do I get the transfer PIN from ${carrier}?`,
        'Will I lose service during the transfer?',
        'Do I need to pay off my old phone first?',
      ]),
    );
    const q = c.last().content;
    c.assistant(
      /PIN/.test(q)
        ? `${carrier} issues it on request, usually in their app or by phone. It's different from your voicemail or SIM PIN, and it expires after a few days, so start the transfer soon after you get it.`
        : /lose service/.test(q)
          ? "Only briefly: your old SIM works until the transfer completes, then the Northwind SIM takes over. Restart the phone if you don't get signal right away."
          : `Not to transfer the number: any remaining balance stays between you and ${carrier}, but note your old phone may be locked to ${carrier} until it's paid off.`,
    );
  }
  maybeClose(c, 0.3);
}

function portOut(c) {
  const { rng, ctx } = c;
  c.open(
    rng.pick([
      "{I'm leaving Northwind|I'm switching to another provider}. {I need my transfer PIN.|How do I get a PIN to move my number?}",
      '{My new provider|The new carrier} is asking for a number transfer PIN and my account number. Where do I find them?',
      'I want to port my number out{, what do I need|}?',
    ]),
  );
  const lead = verify(
    c,
    '{Sorry to see you go, but I can help with that.|I can help you with the transfer.}',
  );
  if (!lead) return;
  c.assistant(
    `${lead} I've just texted a number transfer PIN to your line; it's valid for 7 days. Your account number is ${ctx.account}. ` +
      "Give both to your new provider. Please don't cancel your Northwind line: it closes automatically once the transfer completes, " +
      'and your final bill will cover service up to that day.',
  );
  if (c.room >= 1 && rng.chance(0.55)) {
    c.user(
      '{Do I still owe anything on my phone?|Will I get charged a cancellation fee?|What happens to my remaining balance?}',
    );
    const bal = rng.chance(0.5) ? rng.int(4, 18) * 25 : 0;
    c.assistant(
      bal
        ? `There's no cancellation fee, but your device plan has ${money(bal)} left to pay; that becomes due on your final bill once the number moves.`
        : "There's no cancellation fee and no device balance left, so your final bill will just be the service up to the transfer date.",
    );
  }
  maybeClose(c);
}

function portStuck(c) {
  const { rng, ctx } = c;
  const carrier = rng.pick(OTHER_CARRIERS);
  c.open(
    rng.pick([
      `My number transfer from ${carrier} has been pending for {2|3} days. {What's going on?|Why is it taking so long?}`,
      `{I still have a temporary number|I'm still on the temporary number}, my old number from ${carrier} never came across.`,
    ]),
  );
  const lead = verify(c, sorry(ctx, 'about the wait'));
  if (!lead) return;
  const reason = rng.pick(['the account number', 'the transfer PIN', 'the name on the account']);
  c.assistant(
    `${lead} ${carrier} rejected the transfer request because ${reason} didn't match their records` +
      (reason === 'the transfer PIN' ? ' (the PIN may have expired)' : '') +
      '. If you send me the correct details from ' +
      `${carrier}, I'll resubmit the request straight away.`,
  );
  if (c.room < 1) return;
  c.user(
    reason === 'the name on the account'
      ? "{It's under my business name|It might be in my partner's name}, let me check... OK, I've got the right details from them now."
      : `{Here's|OK, the} new ${reason.replace('the ', '')}{ from them|}: ${reason === 'the transfer PIN' ? rng.digits(6) : rng.digits(9)}.`,
  );
  c.assistant(
    `Thanks, I've resubmitted the transfer (reference ${caseId(rng)}). These usually complete within an hour; you'll get a text when your ` +
      "number is active, and then just restart the phone. {If it isn't done by tomorrow, come back to us and I'll pass it to our porting team.|" +
      "If it's still pending tomorrow, I can transfer you to our porting team.}",
  );
  maybeClose(c);
}

function unlockEligible(c) {
  const { rng, ctx } = c;
  const dev = ctx.device.model;
  c.open(
    rng.pick([
      `Can you unlock my ${dev}? {I'm traveling next month|I want to use a local SIM abroad|I'm switching carriers|I'm selling it}.`,
      `How do I get my ${dev} unlocked{ for other networks|}?`,
      `I want my phone unlocked. It's ${an(dev)}.`,
    ]),
  );
  const lead = verify(
    c,
    '{Sure, let me check whether your phone is eligible.|I can check that for you.}',
  );
  if (!lead) return;
  const status = rng.weighted([
    [6, 'ok'],
    [3, 'balance'],
    [2, 'new'],
  ]);
  if (status === 'ok') {
    c.assistant(
      `${lead} Your ${dev} is paid off, has been active on our network for more than 60 days, and isn't reported lost or stolen, so it's eligible. ` +
        `I've submitted the unlock request (reference ${caseId(rng)}). You'll get an email within 2 business days when it's done. After that, ` +
        'insert the other SIM and restart the phone. You keep your Northwind service until you choose to switch.',
    );
  } else if (status === 'balance') {
    const bal = rng.int(3, 24) * 25;
    c.assistant(
      `${lead} Your ${dev} still has ${money(bal)} left on its device plan, and we can only unlock phones that are fully paid off. ` +
        `You can pay the remaining balance in ${APP} under Devices > Pay off; once the payment clears, the unlock request is submitted automatically and completes within 2 business days.`,
    );
    if (c.room >= 1 && rng.chance(0.4)) {
      c.user(
        "{Can't you make an exception? I'm traveling on Friday.|Is there any way to do it sooner?}",
      );
      c.assistant(
        "I'm sorry, I can't unlock a phone with a balance on it. For the trip, a Travel Pass lets you use your Northwind line abroad " +
          `from $5 a day without unlocking: see ${URL.travel}. ${HUMAN_OFFER}`,
      );
    }
  } else {
    const d = date(rng);
    c.assistant(
      `${lead} Your line was activated recently, and a phone must be active on our network for 60 days before it can be unlocked. ` +
        `Yours becomes eligible on ${d}; you can request the unlock from that day at ${URL.unlock} or through me.`,
    );
  }
  maybeClose(c);
}

export const INTENTS = [
  {
    id: 'number_porting',
    label: 'Number transfers (porting)',
    weight: 8,
    build: (c) => c.rng.pick([portIn, portOut, portStuck])(c),
  },
  {
    id: 'device_unlock',
    label: 'Device unlock (eligible devices)',
    weight: 7,
    build: unlockEligible,
  },
];

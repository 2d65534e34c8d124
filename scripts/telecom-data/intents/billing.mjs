// Billing disputes: an unexpected charge on the bill, explained after
// verification, with a concrete resolution (credit, waiver, refund) or an
// explanation when the charge is correct.

import { money } from '../prng.mjs';
import {
  MONTHS,
  PLANS,
  ZONES,
  ANYTHING_ELSE,
  HUMAN_OFFER,
  caseId,
  cash,
  date,
  maybeClose,
  sorry,
  transfer,
  verify,
} from '../common.mjs';

const SERVICES = [
  'StarPlay Games',
  'TuneBox Premium',
  'DailyStars Horoscopes',
  'QuizMania',
  'FitDaily Pro',
  'Ringtone Club',
  'TriviaNight+',
];

/** Angry customers sometimes ask for a person mid-way; returns true if so. */
function maybeDemandHuman(c, topic) {
  const { rng, ctx } = c;
  const p = ctx.mood === 'angry' ? 0.5 : ctx.mood === 'frustrated' ? 0.2 : 0.04;
  if (c.room < 1 || !rng.chance(p)) return false;
  c.user(
    "{I don't want explanations, I want to talk to a real person.|Can I speak to a human please?|" +
      "Just put me through to a manager.|I'd rather talk to someone on the phone.}",
  );
  transfer(c, topic);
  return true;
}

function thirdParty(c) {
  const { rng, ctx } = c;
  const svc = rng.pick(SERVICES);
  const price = rng.pick([4.99, 6.99, 7.99, 9.99, 12.99]);
  const n = rng.int(1, 3);
  const total = Math.round(price * n * 100) / 100;
  const month = rng.pick(MONTHS);
  c.open(
    rng.pick([
      `There's a charge of ${money(price)} on my ${month} bill for "${svc}" and I never signed up for {that|anything like that}.`,
      `{What is|Who is} ${svc}{?| and why are they on my phone bill?} I'm being charged ${money(price)} {a month|every month}.`,
      `I see a ${money(price)} charge I don't recognize on my {last|latest|${month}} bill. {Can you check it?|What is it?|I want it removed.}`,
      rng.pick(['My son says he', 'My daughter says she', 'My kid says they']) +
        ` didn't buy anything but there's a ${money(price)} "${svc}" charge on the bill.`,
    ]),
  );
  const lead = verify(c, sorry(ctx, 'about the surprise charge'));
  if (!lead) return;
  const hist =
    n > 1
      ? `It has been billed ${n} times so far, ${money(total)} in total.`
      : 'This is the first time it was billed.';
  c.assistant(
    `${lead} I can see a ${money(price)} monthly charge from ${svc}, a third-party content subscription billed ` +
      `through your phone account since ${date(rng)}. ${hist} ` +
      '{Subscriptions like this are usually started by tapping an ad or entering the phone number on a website.|' +
      'These are usually started from an ad or a website that asks for the phone number.} ' +
      `I can cancel it, block third-party charges on your line, and credit ${money(total)} to your account since you reported it within 60 days. {Shall I go ahead?|Would you like me to do that?}`,
  );
  if (c.room < 1) return;
  if (rng.chance(0.3) && c.room >= 2) {
    c.user(
      "{Can I get the money back on my card instead of a credit?|I'd prefer a refund to my card, is that possible?}",
    );
    c.assistant(
      `Yes. I've cancelled ${svc}, turned on the third-party charge block, and issued a refund of ${money(total)} to the card on file. ` +
        `Card refunds take 5 to 10 business days to show, depending on your bank. Your reference is ${caseId(rng)}. ${ANYTHING_ELSE}`,
    );
  } else {
    c.user("{Yes please.|Yes, do that.|Please do, and make sure it can't happen again.|Go ahead.}");
    c.assistant(
      `Done. ${svc} is cancelled, the third-party charge block is active right away, and a credit of ${money(total)} ` +
        `will appear on your next bill (reference ${caseId(rng)}). {You can turn the block off later in the Northwind app under Account > Purchases if you ever need it.|} ${ANYTHING_ELSE}`,
    );
  }
  maybeClose(c);
}

function proration(c) {
  const { rng, ctx } = c;
  if (ctx.plan === PLANS[0]) ctx.plan = PLANS[rng.int(1, 4)];
  const cheaper = PLANS.filter((p) => p.price < ctx.plan.price);
  const old = rng.pick(cheaper);
  const days = rng.int(6, 24);
  const extra = Math.round(((ctx.plan.price - old.price) * days * 100) / 30) / 100;
  const bill = ctx.plan.price + extra;
  c.open(
    rng.pick([
      `Why is my bill ${cash(bill)} this month? {It's normally|I usually pay} ${cash(old.price)}.`,
      `My bill {jumped|went up} to ${cash(bill)}{ and I don't understand why|, can you explain?|. What happened?}`,
      `I think you overcharged me. The bill says ${cash(bill)}{ but my plan is ${cash(ctx.plan.price)}|}.`,
    ]),
  );
  const lead = verify(
    c,
    '{Let me check that for you.|I can look into it.|Happy to go through the bill with you.}',
  );
  if (!lead) return;
  c.assistant(
    `${lead} I've gone through your bill. You changed from ${old.name} (${money(old.price)}) to ${ctx.plan.name} ` +
      `(${money(ctx.plan.price)}) ${days} days before the end of the last billing period, so this bill has two parts:\n` +
      `- ${ctx.plan.name} for the coming month, billed in advance: ${money(ctx.plan.price)}\n` +
      `- the difference between the two plans for those ${days} days: ${money(extra)}\n` +
      `That's a one-time adjustment: from next month you'll pay the normal ${ctx.plan.name} price of ${money(ctx.plan.price)}{ plus any add-ons| as long as nothing else changes|}.`,
  );
  if (maybeDemandHuman(c, 'your question about the plan-change charges')) return;
  if (c.room < 1) return;
  c.user(
    rng.pick([
      "{Oh, OK, that makes sense.|Ah, I see.|Right, I forgot I changed plans.} {So next month is normal?|So it's not a mistake?|}",
      '{Nobody told me that when I changed plans.|That should have been explained when I switched.}',
    ]),
  );
  if (/told|explained/.test(c.last().content)) {
    c.assistant(
      `${sorry(ctx, "that it wasn't made clear when you switched")} The adjustment itself is correct, but I've added a note to your account, ` +
        `and you'll find the breakdown any time under Billing > Bill details in the app. ${HUMAN_OFFER}`,
    );
  } else {
    c.assistant(
      `{That's right|Exactly}: it's not a mistake, and your next bill should be ${money(ctx.plan.price)}. ${ANYTHING_ELSE}`,
    );
  }
  maybeClose(c);
}

function lateFee(c) {
  const { rng } = c;
  const month = rng.pick(MONTHS);
  const due = rng.int(3, 24);
  const paid = due + rng.int(1, 4);
  c.open(
    rng.pick([
      'Why is there a $7.50 late fee on my bill? {I paid on time!|I always pay.|I never miss a payment.}',
      `I got charged a late fee for ${month}. {Can you remove it?|That's not fair, I paid.|What's that about?}`,
      '{Please remove|Can you take off} the late payment fee, {the payment was only a couple of days late|my bank was slow}.',
    ]),
  );
  const lead = verify(c, '{I can check that.|Let me take a look.}');
  if (!lead) return;
  const waive = rng.chance(0.75);
  let text = `${lead} Your ${month} bill was due on ${month} ${due} and the payment reached us on ${month} ${paid}, so a $7.50 late fee was added automatically. `;
  text += waive
    ? "As you haven't had a late fee in the last 12 months, I've waived it as a one-time courtesy; a $7.50 credit will show on your next bill."
    : "{I'm sorry, but|Unfortunately,} a late fee was already waived for you in the past 12 months, so I can't remove this one.";
  text +=
    ' {To avoid it in future, turn on AutoPay in the app under Billing > AutoPay; it also takes $5 off each bill.|' +
    'AutoPay (Billing > AutoPay in the app) would prevent this and gives a $5 monthly discount.}';
  c.assistant(text);
  if (!waive && maybeDemandHuman(c, 'your request to waive the late fee')) return;
  if (c.room < 1 || rng.chance(0.3)) return;
  c.user(
    '{How do I set up AutoPay?|Does AutoPay take the money on the due date?|OK. Can AutoPay use a different card?}',
  );
  c.assistant(
    'In the app, go to Billing > AutoPay, choose "Add payment method", enter the card or bank account and confirm. ' +
      'AutoPay charges the full balance on the due date, and you get an email reminder 3 days before. You can change or switch it off at any time.',
  );
  maybeClose(c);
}

function doublePayment(c) {
  const { rng, ctx } = c;
  const amt = ctx.plan.price + rng.pick([0, 0, 5, 10, 12.5]);
  c.open(
    rng.pick([
      `I've been charged twice this month, two payments of ${cash(amt)}{!|.|, what's going on?}`,
      `My bank shows ${cash(amt)} taken {twice|two times} by Northwind{.| on the same day.} {I want one back.|Please fix this.|}`,
      `{Double charge|Duplicate payment} on my account{, ${cash(amt)} twice|}. {Can you refund it?|Help?}`,
    ]),
  );
  const lead = verify(c, sorry(ctx, 'about that'));
  if (!lead) return;
  const d = date(rng);
  c.assistant(
    `${lead} I can see two payments of ${money(amt)} on ${d}: one from AutoPay and one made manually in the app a few hours later. ` +
      `Nothing is lost: the second payment is on your account as a ${money(amt)} credit. I can either leave it there to cover your next bill, or refund it to your card. {Which would you prefer?|What would you like?}`,
  );
  if (c.room < 1) return;
  if (rng.chance(0.55)) {
    c.user('{Refund it please.|Back to my card, please.|I want the money back.}');
    c.assistant(
      `Done: a refund of ${money(amt)} is on its way to the card ending in ${rng.digits(4)} (reference ${caseId(rng)}). ` +
        "It usually takes 5 to 10 business days to appear. {You'll get an email confirmation shortly.|}",
    );
  } else {
    c.user(
      "{Just keep it for next month.|Leave it as credit, that's fine.|Use it for the next bill.}",
    );
    c.assistant(
      `{All set|Done}: the ${money(amt)} credit will be applied to your next bill automatically, so AutoPay won't charge you for that bill{ unless there are extra charges|}. ${ANYTHING_ELSE}`,
    );
  }
  maybeClose(c);
}

function intlCalls(c) {
  const { rng, ctx } = c;
  const z = rng.pick(ZONES.slice(1));
  const country = rng.pick(z.countries);
  const rate = z.zone === 2 ? 0.25 : 0.6;
  const mins = rng.int(25, 140);
  const total = Math.round(rate * mins * 100) / 100;
  c.open(
    rng.pick([
      `Why do I have ${money(total)} in international calls on my bill?`,
      `There's ${money(total)} for calls to ${country}{ on my bill|}. {I thought calls were included.|Is that right?|That seems like a lot.}`,
      `I called my family in ${country} a few times and now my bill is ${cash(ctx.plan.price + total)}. {Why?|What happened?}`,
    ]),
  );
  const lead = verify(
    c,
    "{I'll check the call details for you.|Let me look at the itemized calls.}",
  );
  if (!lead) return;
  c.assistant(
    `${lead} Your plan includes unlimited calls within the country, but calls to ${country} are international calls at ${money(rate)} a minute. ` +
      `Last month there were ${mins} minutes of calls to ${country}, which makes ${money(total)}. The charge is correct, but there's a cheaper way for the future: ` +
      'the World Calling add-on is $10 a month and includes 300 minutes to more than 60 countries{, including ' +
      country +
      '|}. {Would you like me to add it?|Shall I add it to your line?}',
  );
  if (maybeDemandHuman(c, 'your international call charges')) return;
  if (c.room < 1) return;
  if (rng.chance(0.6)) {
    c.user(
      '{Yes, add it.|OK, add the add-on.|Yes please, and can you take something off this bill?}',
    );
    const goodwill = /take something off/.test(c.last().content);
    c.assistant(
      `I've added World Calling; it's active from today and shows as $10 on your next bill. ` +
        (goodwill
          ? `As a one-time goodwill gesture I've also credited ${money(Math.min(15, total / 2))} against this bill.`
          : ANYTHING_ELSE),
    );
  } else {
    c.user("{No thanks, I won't call that often.|I'll think about it.|Not now.}");
    c.assistant(
      `{No problem.|Understood.} You can add World Calling any time in the app under Plan > Add-ons, and it applies from the day you add it. ${ANYTHING_ELSE}`,
    );
  }
  maybeClose(c);
}

export const INTENTS = [
  {
    id: 'billing_dispute',
    label: 'Billing disputes',
    weight: 12,
    build: (c) =>
      c.rng.pick([thirdParty, thirdParty, proration, lateFee, doublePayment, intlCalls])(c),
  },
];

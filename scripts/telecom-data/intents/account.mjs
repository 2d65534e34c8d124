// Refunds, account details (balance, due date, plan: verification first) and
// plan changes.

import { money } from '../prng.mjs';
import {
  ANYTHING_ELSE,
  DEVICES,
  HUMAN_OFFER,
  MONTHS,
  PLANS,
  URL,
  caseId,
  cash,
  date,
  maybeClose,
  planLine,
  sorry,
  verify,
} from '../common.mjs';

function refundDevice(c) {
  const { rng } = c;
  const d = rng.pick(DEVICES);
  const dev = d.model;
  const price = d.price - 0.01;
  c.open(
    rng.pick([
      `I returned {my|the} ${dev} {last week|${rng.int(6, 14)} days ago|within the 14 days}. When do I get my money back?`,
      `{Where is|What's happening with} my refund for the ${dev} I sent back?`,
      `I sent back {my|the} ${dev} {because I didn't like it|because it was faulty|as I changed my mind} and {still no refund|haven't seen the refund yet}.`,
    ]),
  );
  const lead = verify(
    c,
    '{I can check the status of that return.|Let me look up the return for you.}',
  );
  if (!lead) return;
  if (rng.chance(0.6)) {
    const d = date(rng);
    c.assistant(
      `${lead} Your ${dev} arrived at our returns center on ${d} and passed inspection, so a refund of ${money(price)} ` +
        `was issued the next day to the card you paid with. Card refunds take 5 to 10 business days to appear{, depending on your bank|}; ` +
        `if you don't see it by then, {let us know|come back to us} with reference ${caseId(rng)} and we'll chase it with the payment provider.`,
    );
  } else {
    c.assistant(
      `${lead} I can't see the ${dev} as received at our returns center yet. Returns can take up to 5 business days in transit. ` +
        'Do you have the tracking number from the prepaid return label?',
    );
    if (c.room < 1) return;
    c.user(`{Yes, it's|Tracking number is|Here:} NWR${rng.digits(9)}{.|}`);
    c.assistant(
      `Thanks. The parcel was delivered to the returns center ${rng.pick(['yesterday', 'two days ago', 'this morning'])} and is waiting to be checked, ` +
        `which usually takes 1 to 2 business days. As soon as it passes, the refund of ${money(price)} goes to your original payment method ` +
        `and takes 5 to 10 business days to show. I've added a note to make sure it's processed (reference ${caseId(rng)}).`,
    );
  }
  maybeClose(c, 0.4);
}

function refundAfterCancel(c) {
  const { rng, ctx } = c;
  const p = ctx.plan;
  const month = rng.pick(MONTHS);
  const day = rng.int(3, 20);
  const unused = 30 - day;
  const amt = Math.round((p.price * unused * 100) / 30) / 100;
  c.open(
    rng.pick([
      `I cancelled {a line|my second line|my son's line} on ${month} ${day} but I was still charged the full ${cash(p.price)} for it.`,
      '{I closed a line and still got billed for the whole month.|Why am I paying for a line I cancelled?} {I want a refund.|Can I get the money back?|}',
    ]),
  );
  const lead = verify(c, sorry(ctx, 'about the confusion'));
  if (!lead) return;
  c.assistant(
    `${lead} The line on your ${p.name} plan was cancelled on ${month} ${day}. Plans are billed a month in advance, ` +
      `so the bill that came out before the cancellation included the full month. You're due a refund for the ${unused} unused days: ` +
      `${money(amt)}. I've issued it to your original payment method (reference ${caseId(rng)}); it will arrive within 5 to 10 business days.`,
  );
  if (c.room >= 1 && rng.chance(0.4)) {
    c.user(
      "{Why didn't that happen automatically?|Shouldn't that have been automatic?|Will this happen again with my other line?}",
    );
    c.assistant(
      'Prorated refunds are normally automatic, but this one was missed because the cancellation was processed after the bill ' +
        `had already been produced. ${sorry(ctx, 'for the hassle')} It won't affect any other line on the account. ${ANYTHING_ELSE}`,
    );
  }
  maybeClose(c);
}

function refundTopUp(c) {
  const { rng, ctx } = c;
  const amt = rng.pick([10, 15, 20, 25, 30, 40, 50]);
  const used = rng.chance(0.3);
  c.open(
    used
      ? rng.pick([
          `Can I get a refund of the ${cash(amt)} top-up I did? I'm {switching to another provider|moving abroad} and don't need it.`,
          `I topped up ${cash(amt)} by mistake. {Please refund it.|Can you refund it?}`,
        ])
      : rng.pick([
          `My ${cash(amt)} top-up failed but the money left my bank account.`,
          `{Top-up didn't work|The top-up says failed} but I've been charged ${cash(amt)}{!|.|, help}`,
        ]),
  );
  const lead = verify(c, '{I can check that top-up.|Let me look at your recent payments.}');
  if (!lead) return;
  if (used) {
    c.assistant(
      `${lead} I can see the ${money(amt)} top-up on ${date(rng)}. {I'm sorry, but|Unfortunately,} prepaid credit isn't refundable once it's ` +
        "been added to the account, even if it hasn't been used. It stays valid for 12 months from the top-up date, and you can use it for any " +
        `add-on or transfer it to another Northwind prepaid number in the app under Balance > Transfer. ${HUMAN_OFFER}`,
    );
  } else {
    c.assistant(
      `${lead} ${sorry(ctx, 'about that')} I can see a ${money(amt)} card payment that was declined on our side, so no credit was added. ` +
        'What your bank shows is a temporary authorization hold, not a completed payment: it drops off automatically within 3 to 5 business days. ' +
        "If it's still there after 5 business days, send us your bank statement line and we'll refund it directly.",
    );
    if (c.room >= 1 && rng.chance(0.5)) {
      c.user(
        '{Can I try again with the same card?|So should I top up again?|Will it work if I try again now?}',
      );
      c.assistant(
        "Yes, you can try again now. The decline came from a mismatch in the card's billing ZIP code, so please check that it matches " +
          'what your bank has on file. If it fails again, top-up vouchers from any Northwind store or partner shop work as well.',
      );
    }
  }
  maybeClose(c);
}

const DETAIL_ASKS = [
  ['balance', "{What's|What is} my {current balance|balance}?"],
  ['balance', '{Quick one|Quick question}: {what do I owe|how much is my bill} right now?'],
  ['balance', 'How much do I owe {right now|this month}?'],
  ['due', 'When is my {next bill|payment} due?'],
  ['plan', '{Which|What} plan am I on{ at the moment|}?'],
  ['plan', 'Can you tell me {what plan I have|my plan} and how much I pay?'],
  [
    'email',
    'What email address do you have on my account? I {might have|think I} used an old one.',
  ],
  ['usage', 'How many minutes did I use last month?'],
];

function accountDetails(c) {
  const { rng, ctx } = c;
  const [kind, ask] = rng.pick(DETAIL_ASKS);
  c.open(ask);
  const lead = verify(
    c,
    '{Happy to check that.|Sure, I can look that up.|I can help with that.}',
    0.2,
  );
  if (!lead) return;
  const p = ctx.plan;
  const month = rng.pick(MONTHS);
  const bal = rng.chance(0.3) ? 0 : p.price + rng.pick([0, 0, 5, 10]);
  let answer;
  if (kind === 'balance') {
    answer =
      bal === 0
        ? `Your balance is $0.00: your last bill was paid in full, and the next one is due on ${month} ${ctx.cycleDay}.`
        : `Your current balance is ${money(bal)}, due on ${month} ${ctx.cycleDay}. {You can pay it in the app under Billing > Pay now.|}`;
  } else if (kind === 'due') {
    answer =
      `Your next bill, ${money(p.price)}{ plus any add-ons|}, is due on ${month} ${ctx.cycleDay}. ` +
      "{AutoPay is on, so it will be paid automatically.|AutoPay isn't set up, so you'll need to pay it in the app or by card.}";
  } else if (kind === 'plan') {
    answer = `You're on ${planLine(p)}. {Your billing cycle starts on day ${ctx.cycleDay} of each month.|}`;
  } else if (kind === 'email') {
    const masked = `${rng.pick(['j', 'm', 's', 'a', 'r', 'k'])}•••••@${rng.pick(['mail', 'inbox', 'post'])}.example`;
    answer =
      `For security I can only show it partly masked: ${masked}. If that's out of date, you can change it in the app under ` +
      "Account > Contact details; we'll send a confirmation code to the new address.";
  } else {
    answer =
      `Last month you used ${rng.int(40, 900)} minutes of calls{, all included in your plan| — calls are unlimited on your plan}. ` +
      'The full itemized list is in the app under Usage > Calls.';
  }
  c.assistant(`${lead} ${answer}`);
  maybeClose(c, 0.45);
}

function planChange(c) {
  const { rng, ctx } = c;
  const cur = ctx.plan;
  const up = cur === PLANS[0] ? true : cur === PLANS[4] ? false : rng.chance(0.55);
  const options = PLANS.filter((p) => (up ? p.price > cur.price : p.price < cur.price));
  let target = rng.pick(options);
  if (rng.chance(0.15)) {
    // A general question: no account detail, so no verification needed.
    c.open(
      "{What plans do you have?|Can you list your plans and prices?|What's the cheapest plan you offer?}",
    );
    c.assistant(
      `{Here are our current plans:|These are our plans right now:}\n${PLANS.map((p) => `- ${planLine(p)}`).join('\n')}\n` +
        `Capped plans slow to 512 kbps at the limit instead of charging extra. Full details are at ${URL.plans}. ` +
        '{If you tell me roughly how much data you use, I can suggest one.|Want a recommendation based on your usage?}',
    );
    if (c.room >= 1 && rng.chance(0.6)) {
      const gb = rng.int(3, 70);
      c.user(`{I use|I usually use|Around} ${gb} GB a month{, mostly streaming| on average|}.`);
      const best = PLANS.find((p) => !p.cap || p.cap >= gb * 1.2) || PLANS[3];
      c.assistant(
        `With about ${gb} GB a month, ${best.name} (${money(best.price)} a month) ${best.cap ? 'gives you some room to spare' : 'is the best fit, since the capped plans would be too tight'}. ` +
          "If you're already a customer, I can switch you after a quick verification.",
      );
    }
    maybeClose(c, 0.3);
    return;
  }
  const named = rng.chance(0.5);
  c.open(
    named
      ? up
        ? `{I want to upgrade|I'd like to upgrade|Can I switch|Please change my plan} to ${target.name}{.|, please.|?}`
        : `{I want to {downgrade|switch}|Can I move|Please switch me} to ${target.name}{.|, please.|?}`
      : up
        ? rng.pick([
            '{I keep running out of data|My data always runs out before the end of the month}, {can I get a bigger plan?|what can I change to?}',
            "{Can I get|I'd like} {an unlimited plan|more data}{ please|}.",
          ])
        : rng.pick([
            "{I'm paying too much|My bill is too high}, {is there a cheaper plan?|can I go down a plan?}",
            'Can I move to a cheaper plan and keep my number?',
          ]),
  );
  const lead = verify(
    c,
    "{I can help you change your plan.|Sure, let's look at your options.|Happy to help with that.}",
  );
  if (!lead) return;
  if (!named) {
    // the three plans nearest the current one, in the direction asked
    const near = up ? options.slice(0, 3) : options.slice(-3).reverse();
    target = rng.pick(near);
    const list = near.map((p) => `- ${planLine(p)}`).join('\n');
    const dir = up ? 'bigger' : 'cheaper';
    c.assistant(
      `${lead} You're currently on ${planLine(cur)}. ` +
        (near.length > 1
          ? `{Here are the|The} ${dir} options:\n${list}\n{Which one would you like?|Which would suit you?}`
          : `The ${dir} plan is:\n${list}\n{Would you like to switch to it?|Shall we go with that one?}`),
    );
    if (c.room < 1) return;
    c.user(
      near.length > 1
        ? `{${target.name} please.|Let's do ${target.name}.|I'll take ${target.name}.|${target.name}, please. What happens to my bill?}`
        : "{Yes, let's do that.|OK, switch me.|Yes please. What happens to my bill?}",
    );
  }
  const when = up
    ? `Upgrades apply straight away, so you get the ${target.cap ? `${target.cap} GB` : 'unlimited'} allowance today; this month's bill will include a prorated difference for the remaining days.`
    : `Downgrades take effect at the start of your next billing cycle (day ${ctx.cycleDay}), so you keep ${cur.name} until then and there's nothing extra to pay.`;
  c.assistant(
    `${named ? `${lead} ` : ''}${up ? 'Confirming' : 'Just to confirm'}: switching from ${cur.name} to ${target.name} at ${money(target.price)} a month, keeping your number and SIM. ` +
      `${when} {Shall I go ahead?|Should I make the change?}`,
  );
  if (c.room < 1) return;
  c.user('{Yes|Yes please|Go ahead|Do it}{.|!|}');
  c.assistant(
    `{Done|All done}: your plan ${up ? 'is now' : 'will change to'} ${target.name}${up ? '' : ` on day ${ctx.cycleDay}`}. ` +
      `You'll get a confirmation text{ and email|}. {There's no fee for changing plans.|Changing plans is free, and you can change again at any time.} ${ANYTHING_ELSE}`,
  );
  maybeClose(c, 0.3);
}

export const INTENTS = [
  {
    id: 'refund',
    label: 'Refunds',
    weight: 8,
    build: (c) => c.rng.pick([refundDevice, refundAfterCancel, refundTopUp])(c),
  },
  {
    id: 'account_details',
    label: 'Account details after identity verification',
    weight: 7,
    build: accountDetails,
  },
  { id: 'plan_change', label: 'Plan changes', weight: 10, build: planChange },
];

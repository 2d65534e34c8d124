// Roaming: prices and the Travel Pass before a trip, bill shock after one.

import { money } from '../prng.mjs';
import {
  PAYG,
  PLANS,
  URL,
  ZONES,
  caseId,
  cash,
  date,
  includedZones,
  maybeClose,
  sorry,
  verify,
} from '../common.mjs';

function roamingBefore(c) {
  const { rng, ctx } = c;
  const z = rng.pick(ZONES);
  const country = rng.pick(z.countries);
  const days = rng.int(3, 21);
  c.open(
    rng.pick([
      `I'm going to ${country} {next week|next month|on ${date(rng)}} for ${days} days. {Will my phone work there?|How much will it cost to use my phone?}`,
      `{What are the roaming charges|How much is roaming} in ${country}?`,
      `{I'm traveling to|Heading to} ${country} soon. How do I avoid a huge bill?`,
    ]),
  );
  c.assistant(
    `${country} is in our roaming Zone ${z.zone}. ` +
      (z.zone === 1
        ? 'Zone 1 is included at no extra cost on Unlimited Plus and Unlimited Max; on other plans, '
        : z.zone === 2
          ? 'Zone 2 is included on Unlimited Max; on other plans, '
          : '') +
      `${z.zone === 3 ? 'The' : 'the'} Travel Pass costs ${money(z.pass)} a day and lets you use your plan's calls, texts and data as at home; you're only charged on days you use the phone there. ` +
      `Without a pass, you pay as you go: ${money(PAYG.mb)} per MB of data, ${money(PAYG.minute)} a minute for calls and ${money(PAYG.text)} per text, which adds up fast. ` +
      `{More details at ${URL.travel}.|} {Would you like me to add the Travel Pass to your line?|I can add it to your line if you like.}`,
  );
  if (c.room < 1 || rng.chance(0.2)) return;
  c.user(
    '{Yes please.|Yes, add it.|OK, please add it.|Yes, and do I need to do anything on the phone?}',
  );
  const lead = verify(c, '{Sure.|Happy to.}', 0.08);
  if (!lead) return;
  const included = includedZones(ctx.plan).includes(z.zone);
  c.assistant(
    `${lead} ` +
      (included
        ? `Good news: your ${ctx.plan.name} plan already includes Zone ${z.zone}, so you don't need a Travel Pass; your allowance works in ${country} as at home.`
        : `Travel Pass for Zone ${z.zone} is now on your line. It's only charged (${money(z.pass)} a day) on days you use your phone in ${country}.`) +
      ' Before you go, make sure data roaming is switched on in the phone settings; when you land, restart the phone and it will join a partner network automatically.',
  );
  maybeClose(c);
}

function roamingAfter(c) {
  const { rng, ctx } = c;
  if (includedZones(ctx.plan).length) ctx.plan = rng.pick(PLANS.slice(0, 3));
  const z = rng.pick(ZONES);
  const country = rng.pick(z.countries);
  const days = rng.int(3, 12);
  const mb = rng.int(Math.ceil((z.pass * days) / PAYG.mb) + 25, 950);
  const bill = Math.round(mb * PAYG.mb * 100) / 100;
  c.open(
    rng.pick([
      `I {got charged|was charged} ${cash(bill)} for roaming in ${country}! {That can't be right.|How?|I want it removed.}`,
      `My bill has ${cash(bill)} in roaming charges from my trip to ${country}. {I only used my phone for maps.|I barely used it.|}`,
      `{Why is my bill so high?|What are these charges?} I was in ${country} for ${days} days and now I owe ${cash(bill + ctx.plan.price)}.`,
    ]),
  );
  const lead = verify(
    c,
    `${sorry(ctx, 'about the shock')} {Let me look at what happened.|Let me check the roaming charges.}`,
  );
  if (!lead) return;
  const credit = Math.round((bill - z.pass * days) * 100) / 100;
  c.assistant(
    `${lead} There was no Travel Pass on your line during the trip, so the data you used in ${country} (${mb} MB over ${days} days) was charged at the ` +
      `pay-as-you-go rate of ${money(PAYG.mb)} per MB, which makes ${money(bill)}. ` +
      `As a one-time courtesy, I can recharge it as if you'd had a Travel Pass: ${days} days at ${money(z.pass)}, which is ${money(z.pass * days)}. ` +
      `That means a credit of ${money(credit)}. {Would you like me to apply that?|Shall I apply it?}`,
  );
  if (c.room < 1) return;
  c.user("{Yes please!|Yes, that's much better.|OK, do that. How do I avoid this next time?}");
  c.assistant(
    `Done: a credit of ${money(credit)} will show on your next bill (reference ${caseId(rng)}). ` +
      'Next time, add a Travel Pass before you leave (in the app under Travel), or turn off data roaming in the phone settings. ' +
      '{We also send a welcome text with prices when you arrive in a new country.|}',
  );
  maybeClose(c);
}

export const INTENTS = [
  {
    id: 'roaming_charges',
    label: 'Roaming charges and travel',
    weight: 10,
    build: (c) => c.rng.pick([roamingBefore, roamingAfter])(c),
  },
];

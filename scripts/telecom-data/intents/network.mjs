// Outages and coverage, data caps and usage.

import { money } from '../prng.mjs';
import {
  ANYTHING_ELSE,
  APP,
  BOOSTS,
  HUMAN_OFFER,
  PLACES,
  URL,
  caseId,
  maybeClose,
  sorry,
  verify,
  zip,
} from '../common.mjs';

const CAUSES = [
  'a power outage at one of our cell sites',
  'damage to a fiber cable that feeds local cell towers',
  'an equipment fault at a nearby cell tower',
  'planned maintenance that overran',
];
const WIFI_CALLING =
  "In the meantime, Wi-Fi calling lets you call and text over any Wi-Fi: on iPhone it's Settings > Phone > Wi-Fi Calling, " +
  'on Android Settings > Network & internet > Calls & SMS > Wi-Fi calling.';

function noSignal(c) {
  const { rng, ctx } = c;
  const place = rng.pick(PLACES);
  const code = zip(rng);
  const gavePlace = rng.chance(0.5);
  c.open(
    rng.pick([
      `{I've had no signal|There's no signal|My phone shows no service} since {this morning|last night|yesterday}${gavePlace ? ` in ${place}` : ''}.`,
      `{Mobile data isn't working|My data stopped working|Calls keep dropping}${gavePlace ? ` here in ${place}` : ''}. {Is there an outage?|Is the network down?|What's going on?}`,
      `{Is there an outage|Is the network down}${gavePlace ? ` in ${place}` : ''}? {Nothing works.|I can't call anyone.|}`,
    ]),
  );
  c.assistant(
    `${sorry(ctx, 'about the trouble')} ` +
      (gavePlace
        ? `Could you give me the ZIP code in ${place} where it's happening, so I can check the network status there?`
        : '{Which area are you in?|Where are you?} A ZIP code is enough for me to check the network status.'),
  );
  if (c.room < 1) return;
  c.user(
    gavePlace
      ? `{It's|} ${code}{.|}`
      : `{${place}, ${code}.|I'm in ${place}, ZIP ${code}.|${code}}`,
  );
  const outage = rng.chance(0.55);
  if (outage) {
    const h = rng.int(1, 11);
    c.assistant(
      `Thanks. There's a known outage around ${code} since ${rng.pick(['early this morning', 'about 6 am', 'late last night', 'yesterday evening'])}, ` +
        `caused by ${rng.pick(CAUSES)}. Our engineers are on it and expect service back by ${h} ${rng.pick(['am', 'pm'])}{ today| tomorrow}. ` +
        `You can follow updates at ${URL.status}. ${WIFI_CALLING}`,
    );
    if (c.room < 1) return;
    if (rng.chance(0.55)) {
      c.user(
        "{Will I get any money back for this?|Do I get compensation?|I'm paying for a service I don't have, will you credit me?}",
      );
      const lead = verify(
        c,
        'If an outage affects you for more than 24 hours, we credit one day of your plan price for each full day without service. ' +
          "I can put a note on your account so the credit is applied automatically once it's resolved.",
        0.1,
      );
      if (!lead) return;
      c.assistant(
        `${lead} Done: your line is flagged for the outage credit (reference ${caseId(rng)}). If service is out for more than 24 hours, ` +
          `the credit of ${money(ctx.plan.price / 30)} per day appears on your next bill automatically.`,
      );
    } else {
      c.user(
        "{OK, thanks for letting me know.|Fine, I'll use Wi-Fi for now.|How will I know when it's fixed?}",
      );
      c.assistant(
        /How will I know/.test(c.last().content)
          ? `The status page at ${URL.status} updates as soon as it's fixed. Once it is, restart your phone if the signal doesn't come back by itself.`
          : `{You're welcome.|No problem.} Once service is back, restart your phone if the signal doesn't return by itself. ${ANYTHING_ELSE}`,
      );
    }
    maybeClose(c, 0.25);
    return;
  }
  c.assistant(
    "Thanks. There's no known outage around there, so let's check the phone:\n" +
      '1. Turn airplane mode on for 30 seconds, then off.\n2. Restart the phone.\n' +
      '3. Check that mobile data is on and the network mode is set to automatic (5G/4G).\n' +
      "4. If that doesn't help, reset network settings (this forgets saved Wi-Fi passwords).\n{Let me know how it goes.|Does that fix it?}",
  );
  if (c.room < 1) return;
  if (rng.chance(0.45)) {
    c.user('{That fixed it, thanks!|Restarting worked.|OK, airplane mode did the trick.}');
    c.assistant(
      `{Great, glad it's working again.|Good to hear!} If it happens again, ${URL.status} shows any outages near you. ${ANYTHING_ELSE}`,
    );
    maybeClose(c, 0.25);
    return;
  }
  c.user('{Tried all of that, still nothing.|Still no signal.|None of that worked.}');
  const lead = verify(
    c,
    `${sorry(ctx, "it's still not working")} I'll open a network ticket so our engineers check the area.`,
    0.1,
  );
  if (!lead) return;
  c.assistant(
    `${lead} I've opened ticket ${caseId(rng)} for the area around ${code}. Engineers check it within 48 hours, and you'll get a text with the result. ` +
      `${WIFI_CALLING} ${HUMAN_OFFER}`,
  );
  maybeClose(c, 0.3);
}

function coverage(c) {
  const { rng } = c;
  const place = rng.pick(PLACES);
  c.open(
    rng.pick([
      `I'm moving to ${place}. {Is your coverage good there?|How's the signal there?|Do you have 5G there?}`,
      `{Do you have coverage in|What's the coverage like in} ${place}{?| before I sign up?}`,
      `{My signal at home is terrible|I barely get signal inside my house} in ${place}. {Can you do anything?|Any ideas?}`,
    ]),
  );
  const weakIndoors = /home|house/.test(c.messages[1].content);
  const good = rng.chance(0.6);
  c.assistant(
    (good
      ? `${place} has 5G outdoors and 4G indoors across most of the area.`
      : `${place} has 4G outdoors; indoor signal can be weaker, especially in basements or buildings with thick walls.`) +
      ` You can check an exact address on our coverage map at ${URL.coverage}. ` +
      (weakIndoors
        ? `For weak indoor signal, Wi-Fi calling usually solves it: calls and texts go over your home Wi-Fi at no extra cost. ${WIFI_CALLING.replace('In the meantime, ', '')}`
        : ''),
  );
  if (c.room >= 1 && rng.chance(0.5)) {
    c.user(
      '{Is Wi-Fi calling free?|Does Wi-Fi calling work with my plan?|Do you have signal boosters?}',
    );
    c.assistant(
      /booster/.test(c.last().content)
        ? "We don't sell signal boosters at the moment. Wi-Fi calling is the best fix for indoor signal, and if it doesn't help, I can open a ticket for engineers to look at the area."
        : "Yes, it's included on all Northwind plans at no extra cost, and calls to home numbers are treated the same as normal calls.",
    );
  }
  maybeClose(c, 0.3);
}

function slowData(c) {
  const { rng, ctx } = c;
  const p = ctx.plan;
  const ask = rng.weighted([
    [5, 'slow'],
    [3, 'left'],
    [2, 'alerts'],
  ]);
  if (ask === 'alerts') {
    c.open(
      "{Can I get a warning before I run out of data?|How do I set up data alerts?|Can you text me when I'm near my data limit?}",
    );
    c.assistant(
      `{Yes.|Sure.} Usage alerts are on by default: we text you at 80% and 100% of your data. You can change them in ${APP} under ` +
        'Usage > Alerts, add your own limit (for example at 50%), or turn them off. {No account change is needed, so you can do it right away.|}',
    );
    maybeClose(c, 0.4);
    return;
  }
  c.open(
    ask === 'slow'
      ? "{My internet is super slow|My data is crawling|Mobile data has been really slow} {since yesterday|for a few days|this week}. {Why?|What's wrong?|Can you fix it?}"
      : '{How much data do I have left?|How much data have I used this month?|When does my data reset?}',
  );
  const lead = verify(
    c,
    ask === 'slow'
      ? '{Let me check your usage.|I can look into that.}'
      : '{Sure, I can check that.|Happy to check.}',
  );
  if (!lead) return;
  const resetDay = ctx.cycleDay;
  if (p.cap) {
    const used = ask === 'slow' ? p.cap : Math.round(p.cap * rng.int(20, 95)) / 100;
    if (ask === 'left') {
      c.assistant(
        `${lead} You've used ${used.toFixed(1)} GB of the ${p.cap} GB on your ${p.name} plan. Your allowance resets on day ${resetDay} of the month. ` +
          "{You'll get a text at 80% and 100%.|}",
      );
      maybeClose(c, 0.4);
      return;
    }
    c.assistant(
      `${lead} You've used all ${p.cap} GB on your ${p.name} plan this cycle, so your speed is reduced to 512 kbps until it resets on day ${resetDay}. ` +
        `Nothing extra is charged. To get full speed back now you can add ${BOOSTS.map((b) => `${b.name} (${money(b.price)})`).join(' or ')}, ` +
        'valid until the end of this cycle, or move to a bigger plan. {Would you like either?|Want me to add one?}',
    );
    if (c.room < 1) return;
    const b = rng.pick(BOOSTS);
    if (rng.chance(0.7)) {
      c.user(`{Add the ${b.gb} GB one.|${b.name} please.|I'll take the ${b.gb} GB boost.}`);
      c.assistant(
        `Done: ${b.name} is active now and ${money(b.price)} will be added to your next bill. Full speed should return within a few minutes; ` +
          "restart the phone if it doesn't.",
      );
    } else {
      c.user("{No thanks, I'll wait for the reset.|I'll manage until it resets.}");
      c.assistant(
        `{No problem.|Understood.} Full speed returns automatically on day ${resetDay}. {If this happens often, a bigger plan may work out cheaper than boosts.|}`,
      );
    }
  } else {
    const over = rng.chance(0.5);
    c.assistant(
      over
        ? `${lead} You're on ${p.name}, which has no hard cap, but you've used more than the ${p.priority} GB of priority data this cycle. ` +
            `Until it resets on day ${resetDay}, your data may be slower when the network is busy, for example in the evening. {It's usually fine at quieter times.|}`
        : `${lead} You're on ${p.name} and have used ${rng.int(3, p.priority - 5)} GB of your ${p.priority} GB priority data, so your plan isn't slowing you down. ` +
            `Your hotspot allowance is ${p.hotspot} GB. If data is slow, it's more likely the signal where you are: ${URL.status} shows any network issues.`,
    );
  }
  maybeClose(c);
}

export const INTENTS = [
  {
    id: 'outage_coverage',
    label: 'Outages and coverage',
    weight: 10,
    build: (c) => c.rng.pick([noSignal, noSignal, coverage])(c),
  },
  { id: 'data_cap', label: 'Data caps and usage', weight: 8, build: slowData },
];

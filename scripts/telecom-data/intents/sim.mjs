// SIM replacement (lost, stolen or damaged) and eSIM (switching, new phone).

import {
  URL,
  VERIFIED,
  VERIFY_ASK_EMAIL,
  an,
  caseId,
  maybeClose,
  sorry,
  userVerify,
  verify,
} from '../common.mjs';

const esimSteps = (dev) =>
  /iPhone/.test(dev)
    ? 'On the iPhone, go to Settings > Mobile Service (or Cellular) > Add eSIM > Use QR code, and scan it.'
    : 'On the phone, go to Settings > Network & internet > SIMs > Add eSIM (the wording varies by model), and scan it.';

function lostPhone(c) {
  const { rng, ctx } = c;
  c.open(
    rng.pick([
      '{I lost my phone|My phone was stolen|Someone stole my phone} {yesterday|this morning|last night}. I need a new SIM with my number.',
      'My phone {is gone|got stolen} and I need to {stop anyone using my line|block my SIM}{ right now|}!',
      'I {dropped my phone in the sea|lost my phone on the train}, how do I get my number back on a new phone?',
    ]),
  );
  c.assistant(`${sorry(ctx, 'to hear that')} Let's secure your line first. ${VERIFY_ASK_EMAIL}`);
  if (c.room < 1) return;
  c.user(userVerify(ctx));
  const stolen = /stole/.test(c.messages[1].content);
  c.assistant(
    `${VERIFIED} I've suspended your line, so nobody can make calls or use data on it. ` +
      (stolen
        ? "Because the phone was stolen, I can also block the device itself so it can't be used on any network. "
        : '') +
      'To get your number back you have two options:\n' +
      `1. Pick up a new SIM at any Northwind store (bring photo ID); it's free and works straight away. Store list: ${URL.stores}\n` +
      '2. If your new phone supports eSIM, I can send an eSIM QR code to your email now and the line is reactivated as soon as you scan it.\n' +
      '{Which would you prefer?|What works best for you?}',
  );
  if (c.room < 1) return;
  const esim = rng.chance(0.5);
  c.user(
    esim
      ? `{The eSIM please|Send the eSIM}, I'm getting ${an(rng.pick(['iPhone 15', 'Pixel 8', 'Galaxy S24']))} today.` +
          (stolen ? ' {And yes, block the stolen phone.|Block the old phone too.|}' : '')
      : `{I'll go to a store.|I'll pick up a SIM in a store.}${stolen ? ' {And please block the stolen phone.|Please block the old phone too.|}' : ''}`,
  );
  const blocked = /block/.test(c.last().content)
    ? ` The stolen phone is now blocked (reference ${caseId(rng)}); if you get it back, we can remove the block after verifying you.`
    : '';
  c.assistant(
    esim
      ? "I've sent the eSIM QR code to your email; it's valid for 30 days. Connect the new phone to Wi-Fi, then scan the code from the phone's eSIM settings. " +
          `Your line comes back on the new phone within a few minutes.${blocked} {For a police report, I can also email you the stolen phone's IMEI.|}`
      : `Great. Any store can hand you a new SIM after checking your photo ID, and your line will be reactivated on it there.${blocked} ` +
          'Until then your line stays suspended, so no charges can build up.',
  );
  maybeClose(c);
}

function switchToEsim(c) {
  const { rng, ctx } = c;
  const dev = ctx.device;
  c.open(
    rng.pick([
      `How do I switch {my SIM card|from a physical SIM} to eSIM on my ${dev.model}?`,
      `Can I get an eSIM instead of my SIM card? I have ${an(dev.model)}.`,
      `I {just got|bought} ${an(dev.model)} and want to use eSIM. {What do I do?|How does it work?}`,
    ]),
  );
  if (!dev.esim) {
    c.assistant(
      `{Unfortunately,|I'm sorry, but} the ${dev.model} doesn't support eSIM, so it needs a physical nano SIM. ` +
        `You can check any phone on our compatibility list at ${URL.esim}. If you're planning to change phones, I can help you switch to eSIM once you have a compatible one.`,
    );
    if (c.room >= 1 && rng.chance(0.5)) {
      c.user('{Which phones do support it?|OK, which phones work with eSIM?}');
      c.assistant(
        `Most recent models do: for example iPhone XS and newer, Pixel 3 and newer, and Galaxy S20 and newer. The full list is at ${URL.esim}.`,
      );
    }
    maybeClose(c, 0.3);
    return;
  }
  const lead = verify(
    c,
    '{Good news: the ' +
      dev.model +
      ' supports eSIM.|Sure, the ' +
      dev.model +
      ' works with eSIM.}',
  );
  if (!lead) return;
  c.assistant(
    `${lead} I've sent an eSIM QR code to the email address on your account. To switch:\n` +
      '1. Connect the phone to Wi-Fi.\n' +
      `2. ${esimSteps(dev.model)}\n` +
      '3. Restart the phone once the eSIM shows as active.\n' +
      'Your physical SIM stops working as soon as the eSIM is active, so keep it until you have signal on the eSIM. The switch is free.',
  );
  if (c.room >= 1 && rng.chance(0.5)) {
    c.user(
      "{What if the QR code doesn't work?|Can I keep both SIMs active?|Will I lose my contacts or texts?}",
    );
    const q = c.last().content;
    c.assistant(
      /QR/.test(q)
        ? `Each code can be scanned once and is valid for 30 days. If it fails, don't scan it again: come back to us and I can issue a fresh code after a quick verification.`
        : /both/.test(q)
          ? 'Not for the same number: one number can only be active on one SIM or eSIM at a time. You can, however, add a second line as an eSIM on the same phone.'
          : 'No. Contacts, photos and messages are stored on the phone or your cloud account, not on the SIM, so nothing is lost.',
    );
  }
  maybeClose(c);
}

function newPhoneEsim(c) {
  const { rng, ctx } = c;
  c.open(
    rng.pick([
      `I got a new ${ctx.device.esim ? ctx.device.model : 'Pixel 8'}{ today|}. How do I move my eSIM {to it|over}?`,
      '{My SIM says "No SIM"|My phone says no SIM card|The SIM stopped working} {since this morning|after I dropped the phone}. {Can you help?|What should I do?}',
    ]),
  );
  const noSim = /No SIM|no SIM|stopped working/.test(c.messages[1].content);
  if (noSim) {
    c.assistant(
      `${sorry(ctx, 'about that')} A few quick checks first:\n1. Restart the phone.\n` +
        '2. Take the SIM out, check it for scratches or dirt, and put it back firmly.\n' +
        '3. If you can, try the SIM in another phone.\n{Did any of that help?|Let me know what happens.}',
    );
    if (c.room < 1) return;
    c.user(
      "{Still says No SIM.|No luck, still nothing.|It doesn't work in the other phone either.}",
    );
    const lead = verify(
      c,
      'Then the SIM is most likely damaged, and I can send you a free replacement.',
      0.1,
    );
    if (!lead) return;
    c.assistant(
      `${lead} I've ordered a replacement SIM to the address on your account; it arrives in 2 to 3 business days (reference ${caseId(rng)}). ` +
        '{If you need it sooner, any Northwind store can swap it today with photo ID.|Any Northwind store can also swap it today if you bring photo ID.}',
    );
    maybeClose(c);
    return;
  }
  const lead = verify(c, "{Congratulations on the new phone!|Nice, let's get your line on it.}");
  if (!lead) return;
  c.assistant(
    `${lead} I've sent a new eSIM QR code to your email; it's valid for 30 days. With both phones nearby and the new one on Wi-Fi, ` +
      "scan the code from the new phone's eSIM settings. Your line moves across within a few minutes, and the eSIM on the old phone stops working at that point. " +
      "{Don't erase the old phone until calls work on the new one.|Keep the old phone until the new one shows signal.}",
  );
  maybeClose(c, 0.4);
}

export const INTENTS = [
  {
    id: 'sim_esim',
    label: 'SIM replacement and eSIM',
    weight: 9,
    build: (c) => c.rng.pick([lostPhone, switchToEsim, switchToEsim, newPhoneEsim])(c),
  },
];

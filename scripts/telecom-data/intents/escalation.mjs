// Escalation to a human agent: transfer with a summary, callbacks outside
// agent hours, formal complaints.

import {
  HUMAN_HOURS,
  VERIFIED,
  caseId,
  maybeClose,
  sorry,
  transfer,
  userVerify,
  verify,
} from '../common.mjs';

const TOPICS = [
  [
    'My bill has been wrong three months in a row.',
    'the billing errors over the last three months',
  ],
  ['My home internet has been down for a week.', 'the week-long service outage'],
  ['I want to cancel my contract.', 'your request to cancel'],
  [
    'I was promised a discount in store and never got it.',
    'the discount you were promised in store',
  ],
  ["I've been trying to get a refund for a month.", 'the refund that has been pending for a month'],
  ['Nobody can tell me why my number transfer failed.', 'the failed number transfer'],
  ["My phone was repaired and still doesn't work.", "the repair that didn't fix your phone"],
];

function escalation(c) {
  const { rng, ctx } = c;
  const [say, topic] = rng.pick(TOPICS);
  const kind = rng.weighted([
    [6, 'direct'],
    [2, 'after_hours'],
    [2, 'complaint'],
  ]);
  if (kind === 'complaint') {
    c.open(
      `{I want to make a formal complaint.|How do I file a complaint?|I'd like to complain about your service.} ${say}`,
    );
    c.assistant(
      `${sorry(ctx, 'that it came to this')} I can log a formal complaint now; our customer relations team reviews every complaint and replies ` +
        "within 5 business days. To attach it to your account, I'll need to verify you. {Or, if you'd rather, I can transfer you to a human agent.|}",
    );
    if (c.room < 1) return;
    c.user("{OK, let's log it.|Log it please.|Yes, go ahead.}");
    const lead = verify(c, 'Thanks.', 0.05);
    if (!lead) return;
    c.assistant(
      `${lead} I've logged your complaint about ${topic} as ${caseId(rng)}. You'll get a confirmation email now and a reply within 5 business days. ` +
        "If you're not happy with the answer, the reply explains how to take it further.",
    );
    maybeClose(c, 0.3);
    return;
  }
  c.open(
    kind === 'after_hours'
      ? '{Can I talk to someone right now?|Is anyone there I can call tonight?|I need a real person now, is that possible?}'
      : rng.pick([
          '{I want to talk to a human.|Agent please.|Get me a real person.|Can I speak to a person?}',
          '{Is this a bot?|Am I talking to a robot?} {I want a real person.|I need a human.}',
          `${say} I want to speak to a manager.`,
        ]),
  );
  if (kind === 'after_hours') {
    c.assistant(
      `${HUMAN_HOURS} They're offline right now, but I can book a callback for tomorrow morning, or try to help you myself now. {What would you prefer?|Which would you like?}`,
    );
    if (c.room < 1) return;
    c.user("{Book the callback.|A callback please.|I'll take the callback.}");
    const lead = verify(c, 'Sure. The callback goes to the number on your account.', 0.05);
    if (!lead) return;
    c.assistant(`${lead} Which slot suits you tomorrow: 8 to 10 am, 10 am to noon, or 1 to 3 pm?`);
    if (c.room < 1) return;
    const slot = rng.pick(['8 to 10 am', '10 am to noon', '1 to 3 pm']);
    c.user(`{Between ${slot} works.|${slot} please.}`);
    c.assistant(
      `Your callback is booked for tomorrow, ${slot} (reference ${caseId(rng)}). {An agent will call the number on your account.|You'll get a text reminder an hour before.}`,
    );
    maybeClose(c, 0.3);
    return;
  }
  const hasTopic = c.messages[1].content.includes(say.slice(0, 12));
  c.assistant(
    `{Of course.|Sure, I can arrange that.|No problem.} ${hasTopic ? sorry(ctx, 'about this') + ' ' : ''}` +
      (hasTopic
        ? ''
        : "So the agent has the details, could you tell me briefly what it's about? ") +
      "If you verify now, the agent won't have to ask again: you'd need your account number and the code I've just texted to the number on the account. " +
      "{You can also skip that and I'll transfer you straight away.|Or I can just put you through.}",
  );
  if (c.room < 1) return;
  const topicLine = hasTopic ? '' : `${say} `;
  if (rng.chance(0.5)) {
    c.user(`${topicLine}${userVerify(ctx)}`);
    c.assistant(
      `${VERIFIED} ${hasTopic ? '' : sorry(ctx, 'about this')} I'm transferring you now with your account attached and a note about ${topic}. ` +
        `{The current wait is about ${rng.int(2, 20)} minutes.|An agent should pick up in about ${rng.int(2, 20)} minutes.}`,
    );
  } else {
    c.user(
      `${topicLine}{Just transfer me.|Skip it, just put me through.|No, I'll do that with the agent.}`,
    );
    transfer(c, topic);
  }
  maybeClose(c, 0.15);
}

export const INTENTS = [
  { id: 'escalation_human', label: 'Escalation to a human agent', weight: 7, build: escalation },
];

// Fixed text for the general-assistant conversations: rewrites, grammar
// fixes, synonyms, tips and emails (definitions are in glossary.mjs).
// Hand-written, generic, no personal data.

export const REWRITES = [
  [
    'hey, can u send me the report asap?',
    'Hello, could you please send me the report at your earliest convenience?',
  ],
  [
    'sorry i missed the meeting, got stuck in traffic',
    'I apologize for missing the meeting; I was delayed by heavy traffic.',
  ],
  [
    'the food was kinda bad and the waiter was rude',
    'Unfortunately, the food did not meet our expectations, and the service was discourteous.',
  ],
  ['can we move our call to tomorrow?', 'Would it be possible to reschedule our call to tomorrow?'],
  ['thanks a ton for helping out last week', 'Thank you very much for your help last week.'],
  [
    'i need the day off friday, family stuff',
    'I would like to request Friday off for a family matter.',
  ],
  [
    "your package is late again, what's going on?",
    'My package has been delayed again. Could you tell me the reason for the delay?',
  ],
  [
    "we gotta cut costs or we're in trouble",
    'We need to reduce costs to keep the business on a sound footing.',
  ],
  [
    'the printer is broken, someone fix it pls',
    'The printer is out of order. Could someone arrange a repair, please?',
  ],
  [
    'great job on the presentation, loved it',
    'Congratulations on an excellent presentation; I enjoyed it very much.',
  ],
  ["i'm not gonna make the deadline", 'I will not be able to meet the deadline.'],
  ['let me know if u have questions', 'Please let me know if you have any questions.'],
];

export const GRAMMAR = [
  [
    'Their going to the park tomorrow.',
    "They're going to the park tomorrow.",
    '"They\'re" is short for "they are"; "their" shows possession.',
  ],
  [
    'Me and him went to the store.',
    'He and I went to the store.',
    'Use subject pronouns ("he", "I") for the people doing the action.',
  ],
  [
    'The list of items are on the table.',
    'The list of items is on the table.',
    'The subject is "list", which is singular.',
  ],
  [
    'Its been a long day.',
    "It's been a long day.",
    '"It\'s" means "it has" here; "its" is possessive.',
  ],
  [
    'I could of finished earlier.',
    'I could have finished earlier.',
    '"Could of" is a mishearing of "could\'ve", short for "could have".',
  ],
  [
    'Everyone should bring their own lunch, they will be hungry.',
    'Everyone should bring their own lunch; they will be hungry.',
    'Two independent clauses need a semicolon or a period, not a comma.',
  ],
  ["She don't like coffee.", "She doesn't like coffee.", 'With "she", the verb takes "doesn\'t".'],
  [
    'Between you and I, the plan is risky.',
    'Between you and me, the plan is risky.',
    'After a preposition such as "between", use the object pronoun "me".',
  ],
  [
    'I seen that film last year.',
    'I saw that film last year.',
    'The simple past of "see" is "saw"; "seen" needs "have".',
  ],
  [
    'Less people came than expected.',
    'Fewer people came than expected.',
    'Use "fewer" for things you can count.',
  ],
  ['Your welcome!', "You're welcome!", '"You\'re" means "you are".'],
  [
    'We was late for the train.',
    'We were late for the train.',
    'With "we", the past tense of "be" is "were".',
  ],
];

export const SYNONYMS = [
  ['happy', 'cheerful, glad, content, delighted, joyful'],
  ['big', 'large, huge, vast, sizeable, enormous'],
  ['fast', 'quick, rapid, swift, speedy, brisk'],
  ['important', 'significant, essential, crucial, key, vital'],
  ['difficult', 'hard, challenging, tough, demanding, tricky'],
  ['smart', 'clever, intelligent, bright, sharp, astute'],
  ['tired', 'exhausted, weary, worn out, drained, sleepy'],
  ['begin', 'start, commence, launch, initiate, set off'],
  ['help', 'assist, support, aid, back, lend a hand'],
  ['beautiful', 'lovely, attractive, gorgeous, stunning, elegant'],
  ['angry', 'annoyed, furious, irritated, cross, indignant'],
  ['improve', 'enhance, better, refine, upgrade, boost'],
  ['show', 'display, reveal, demonstrate, present, exhibit'],
  ['old', 'aged, ancient, elderly, vintage, long-standing'],
];

export const TIPS = [
  [
    'sleeping better',
    [
      'Go to bed and get up at the same time every day.',
      'Keep the bedroom dark, quiet and cool.',
      'Avoid caffeine in the afternoon and evening.',
      'Put screens away 30 to 60 minutes before bed.',
    ],
  ],
  [
    'saving money on groceries',
    [
      'Plan meals for the week and shop with a list.',
      'Compare unit prices rather than package prices.',
      'Buy seasonal produce and store brands.',
      'Use leftovers for lunches.',
    ],
  ],
  [
    'staying focused while studying',
    [
      'Work in 25-minute blocks with short breaks.',
      'Put your phone in another room.',
      "Start with the hardest task while you're fresh.",
      'Write down what you want to finish before you start.',
    ],
  ],
  [
    'writing a good email',
    [
      'Use a clear subject line.',
      'Put the main point or request in the first two sentences.',
      'Keep paragraphs short.',
      'End with the next step you expect.',
    ],
  ],
  [
    'preparing for a job interview',
    [
      'Research the company and the role.',
      'Prepare short stories that show your skills.',
      'Practice answers out loud.',
      'Have two or three questions ready for the interviewer.',
    ],
  ],
  [
    'keeping a houseplant alive',
    [
      'Check how much light the plant needs and place it accordingly.',
      'Water when the top few centimetres of soil are dry.',
      'Make sure the pot drains.',
      'Wipe dust off the leaves now and then.',
    ],
  ],
  [
    'giving a presentation',
    [
      'Know your opening lines by heart.',
      'Use one idea per slide.',
      'Speak slower than feels natural.',
      'Rehearse with a timer.',
    ],
  ],
  [
    'learning a new language',
    [
      'Practice a little every day rather than a lot once a week.',
      'Learn the most common words first.',
      'Listen to podcasts or shows in the language.',
      'Speak early, even with mistakes.',
    ],
  ],
  [
    'reducing screen time',
    [
      'Turn off non-essential notifications.',
      'Set app time limits.',
      'Keep your phone out of the bedroom.',
      'Replace one scrolling habit with a walk or a book.',
    ],
  ],
  [
    'making a password stronger',
    [
      'Use a long passphrase of several random words.',
      'Never reuse passwords across sites.',
      'Use a password manager.',
      'Turn on two-factor authentication where possible.',
    ],
  ],
];

export const EMAIL_TO = [
  [
    'my landlord',
    'Dear [Name]',
    'the heating in my apartment has stopped working',
    'Could you arrange for someone to look at it this week?',
    'Heating not working',
  ],
  [
    'my manager',
    'Hi [Name]',
    'I need to leave early on Thursday for a medical appointment',
    'I will make sure my tasks are covered before I go.',
    'Leaving early on Thursday',
  ],
  [
    'a teacher',
    'Dear [Name]',
    'my child will miss school on Monday because of a family event',
    'Please let me know if there is any work they should catch up on.',
    'Absence on Monday',
  ],
  [
    'a colleague',
    'Hi [Name]',
    'I would like to move our project meeting to next week',
    'Would Tuesday or Wednesday afternoon work for you?',
    'Moving our project meeting',
  ],
  [
    'a customer service team',
    'Hello',
    'the order I received was missing one item',
    'Could you send the missing item or issue a refund for it?',
    'Missing item in my order',
  ],
  [
    'my neighbor',
    'Hi [Name]',
    'we are having a small birthday party on Saturday evening',
    'We will keep the noise down after 10 pm, and please let us know if it causes any trouble.',
    'Party on Saturday evening',
  ],
];

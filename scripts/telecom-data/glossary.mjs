// Terms and definitions for the general-assistant conversations (hand-written,
// generic).

export const GLOSSARY = [
  [
    'photosynthesis',
    'the process plants, algae and some bacteria use to turn light, water and carbon dioxide into sugar and oxygen',
    'A leaf in sunlight makes glucose and releases oxygen.',
  ],
  [
    'inflation',
    'a general rise in prices over time, which means the same amount of money buys less',
    'If inflation is 3% a year, something that costs $100 today costs about $103 next year.',
  ],
  [
    'an algorithm',
    'a finite list of precise steps for solving a problem or doing a task',
    'A recipe is an everyday algorithm: follow the steps in order and you get the dish.',
  ],
  [
    'a metaphor',
    'a figure of speech that describes something by saying it is something else, without "like" or "as"',
    '"Time is a thief" suggests that time takes things from us.',
  ],
  [
    'compound interest',
    'interest calculated on the original amount plus the interest already added, so growth speeds up over time',
    '$1,000 at 5% a year becomes $1,050 after one year and $1,102.50 after two.',
  ],
  [
    'an ecosystem',
    'a community of living things interacting with each other and with their physical environment',
    'A pond, with its plants, insects, fish, water and mud, is a small ecosystem.',
  ],
  [
    'a budget',
    'a plan for how much money you expect to earn and spend over a period',
    'A monthly budget might set aside amounts for rent, food, transport and savings.',
  ],
  [
    'gravity',
    'the force by which masses attract each other; on Earth it pulls objects towards the ground',
    "A dropped ball falls because Earth's gravity pulls it down.",
  ],
  [
    'a hypothesis',
    'a testable explanation or prediction that an experiment or observation can support or contradict',
    '"Plants grow faster with more light" is a hypothesis you can test with two groups of plants.',
  ],
  [
    'opportunity cost',
    'the value of the best alternative you give up when you make a choice',
    'If you spend an evening studying instead of working a paid shift, the lost pay is the opportunity cost.',
  ],
  [
    'a noun',
    'a word that names a person, place, thing or idea',
    'In "The dog chased the ball", "dog" and "ball" are nouns.',
  ],
  [
    'an adjective',
    'a word that describes or modifies a noun',
    'In "a bright red car", "bright" and "red" are adjectives.',
  ],
  [
    'a prime number',
    'a whole number greater than 1 whose only divisors are 1 and itself',
    '2, 3, 5, 7, 11 and 13 are prime; 9 is not, because 3 × 3 = 9.',
  ],
  [
    'a percentage',
    'a way of expressing a number as a fraction of 100',
    '25% means 25 out of 100, which is the same as one quarter.',
  ],
  [
    'evaporation',
    'the change of a liquid into a gas at its surface, usually helped by heat',
    'A puddle disappears on a sunny day because the water evaporates.',
  ],
  [
    'a renewable resource',
    'a resource that is naturally replaced on a human timescale',
    'Sunlight, wind and sustainably managed forests are renewable resources.',
  ],
  [
    'a mortgage',
    'a loan used to buy property, where the property serves as security for the loan',
    'If the borrower stops paying, the lender can take the house.',
  ],
  [
    'a spreadsheet',
    'a program that organizes data in rows and columns and can calculate with it',
    'You can list monthly expenses in a spreadsheet and have it add them up.',
  ],
  [
    'a password manager',
    'an app that stores your passwords securely and can generate strong, unique ones',
    'Instead of reusing one password, you remember a single master password and the app fills in the rest.',
  ],
  [
    'two-factor authentication',
    'a login method that needs two different proofs of identity, such as a password and a code',
    'After entering your password, you type a code from an app or a text message.',
  ],
  [
    'a synonym',
    'a word with the same or nearly the same meaning as another word',
    '"Big" and "large" are synonyms.',
  ],
  [
    'an antonym',
    'a word with the opposite meaning of another word',
    '"Hot" and "cold" are antonyms.',
  ],
  [
    'the water cycle',
    'the continuous movement of water through evaporation, condensation, precipitation and collection',
    'Sea water evaporates, forms clouds, falls as rain and flows back to the sea.',
  ],
  [
    'a democracy',
    'a system of government in which people choose their leaders and laws, usually through elections',
    'Citizens voting for a parliament is an example of democracy.',
  ],
  [
    'an atom',
    'the smallest unit of a chemical element that keeps the properties of that element',
    'A water molecule is made of two hydrogen atoms and one oxygen atom.',
  ],
  [
    'procrastination',
    'putting off tasks you intend to do, often in favor of easier or more pleasant ones',
    'Tidying your desk instead of starting an essay is a classic form of procrastination.',
  ],
  [
    'a haiku',
    'a short Japanese poem form of three lines, traditionally with 5, 7 and 5 syllables',
    'Many haiku describe a moment in nature.',
  ],
  [
    'the median',
    'the middle value of a sorted list of numbers (or the average of the two middle values)',
    'The median of 3, 7 and 20 is 7.',
  ],
  [
    'a thesis statement',
    'one or two sentences that state the main argument of an essay',
    '"Cities should invest in bike lanes because they cut traffic and pollution" is a thesis statement.',
  ],
  [
    'supply and demand',
    'the economic idea that prices settle where the amount offered matches the amount people want to buy',
    'When a concert sells out quickly, resale prices rise because demand exceeds supply.',
  ],
  [
    'a URL',
    'the address of a resource on the web, such as a page or an image',
    'https://example.com/about is a URL.',
  ],
  [
    'cloud storage',
    'keeping files on servers run by a provider and reaching them over the internet',
    'Photos saved to cloud storage survive even if your phone is lost.',
  ],
  [
    'an index fund',
    'an investment fund that tracks a market index instead of picking individual stocks',
    'A fund that holds all the companies in a broad stock index is an index fund.',
  ],
  [
    'empathy',
    'the ability to understand and share the feelings of another person',
    "Listening carefully to a friend's worries and imagining how they feel shows empathy.",
  ],
  [
    'a paradox',
    'a statement or situation that seems contradictory but may still be true',
    '"Less is more" is a well-known paradox.',
  ],
];

export const DEF_ASKS = [
  'What is {X}?',
  'What does {T} mean?',
  'Can you explain {X} in simple terms?',
  'Define {T}, please.',
  'I keep hearing about {T}. What is it?',
  'Explain {X} in one or two sentences.',
];

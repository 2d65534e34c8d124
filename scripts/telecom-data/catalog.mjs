// The fictional operator's catalogue and slot values: system prompt, plans,
// roaming zones and prices, devices, places, carriers, and small helpers that
// draw slot values. Everything about "Northwind Mobile" is invented; the web
// addresses use the reserved .example domain.

import { money } from './prng.mjs';

export const BRAND = 'Northwind Mobile';
export const SITE = 'northwind-mobile.example';
export const URL = {
  status: `https://${SITE}/status`,
  coverage: `https://${SITE}/coverage`,
  unlock: `https://${SITE}/unlock`,
  esim: `https://${SITE}/esim`,
  plans: `https://${SITE}/plans`,
  travel: `https://${SITE}/travel`,
  stores: `https://${SITE}/stores`,
  legal: `https://${SITE}/legal-requests`,
};
export const APP = 'the Northwind app';

export const SYSTEM_PROMPT =
  'You are the customer support assistant of Northwind Mobile, a mobile network operator. ' +
  'You help customers with bills, plans, roaming, SIM cards and eSIM, number transfers, ' +
  'network coverage and outages, device unlocking, data usage and refunds. Before you share ' +
  'or change anything on an account, verify the customer with the account number and the ' +
  "one-time code sent to the contact details on file. Never share another person's records, " +
  'never skip or weaken verification, and never unlock a device reported lost or stolen. ' +
  'Be concise and friendly, apologize briefly when something went wrong, give concrete steps, ' +
  'and offer a transfer to a human agent when you cannot resolve the issue.';

// Plans: capped plans slow to 512 kbps at the cap (no overage charges);
// unlimited plans have a priority-data threshold and a hotspot allowance.
export const PLANS = [
  { name: 'Go 10', price: 25, cap: 10 },
  { name: 'Flex 20', price: 35, cap: 20 },
  { name: 'Flex 40', price: 45, cap: 40 },
  { name: 'Unlimited Plus', price: 60, cap: null, priority: 50, hotspot: 15 },
  { name: 'Unlimited Max', price: 75, cap: null, priority: 100, hotspot: 40 },
];
export const planByName = (n) => PLANS.find((p) => p.name === n);
export const planLine = (p) =>
  p.cap
    ? `${p.name}: ${money(p.price)} a month, ${p.cap} GB of data`
    : `${p.name}: ${money(p.price)} a month, unlimited data (${p.priority} GB priority, ${p.hotspot} GB hotspot)`;

export const BOOSTS = [
  { name: 'Data Boost 5 GB', gb: 5, price: 10 },
  { name: 'Data Boost 15 GB', gb: 15, price: 20 },
];

// Roaming: a daily Travel Pass, charged only on days the phone is used abroad.
export const ZONES = [
  { zone: 1, pass: 5, countries: ['Canada', 'Mexico'] },
  {
    zone: 2,
    pass: 10,
    countries: [
      'France',
      'Spain',
      'Italy',
      'Germany',
      'Portugal',
      'the Netherlands',
      'Greece',
      'Ireland',
      'the United Kingdom',
      'Croatia',
      'Austria',
      'Sweden',
    ],
  },
  {
    zone: 3,
    pass: 15,
    countries: [
      'Japan',
      'Thailand',
      'Brazil',
      'Australia',
      'South Africa',
      'Turkey',
      'Morocco',
      'Vietnam',
      'Peru',
      'Egypt',
      'Indonesia',
      'South Korea',
      'Colombia',
      'Kenya',
    ],
  },
];
export const PAYG = { mb: 2.0, minute: 1.5, text: 0.5 };
/** Zones a plan includes at no extra cost. */
export const includedZones = (p) =>
  p.name === 'Unlimited Max' ? [1, 2] : p.name === 'Unlimited Plus' ? [1] : [];

export const DEVICES = [
  { model: 'iPhone 15', esim: true, price: 799 },
  { model: 'iPhone 14 Pro', esim: true, price: 899 },
  { model: 'iPhone 13', esim: true, price: 599 },
  { model: 'iPhone SE', esim: true, price: 429 },
  { model: 'Galaxy S24', esim: true, price: 799 },
  { model: 'Galaxy S23 FE', esim: true, price: 599 },
  { model: 'Galaxy A15', esim: false, price: 199 },
  { model: 'Galaxy Z Flip5', esim: true, price: 999 },
  { model: 'Pixel 8', esim: true, price: 699 },
  { model: 'Pixel 7a', esim: true, price: 499 },
  { model: 'Moto G Play', esim: false, price: 169 },
  { model: 'OnePlus 12', esim: true, price: 799 },
  { model: 'Nokia G42', esim: false, price: 199 },
];

export const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
export const WEEKDAYS = [
  'Monday',
  'Tuesday',
  'Wednesday',
  'Thursday',
  'Friday',
  'Saturday',
  'Sunday',
];
export const PLACES = [
  'Maple Heights',
  'Eastbrook',
  'Harbor Point',
  'Willow Creek',
  'Stonebridge',
  'Lakeside',
  'Pine Hollow',
  'Riverbend',
  'Oakridge',
  'Fairview',
  'Brookfield',
  'Cedar Grove',
  'Millbrook',
  'Ashford',
  'Greenvale',
  'Northgate',
];
export const OTHER_CARRIERS = [
  'Bluepeak Wireless',
  'Orbitel',
  'Summit Mobile',
  'Clearline',
  'Vectra Telecom',
];
export const RELATIONS = [
  'husband',
  'wife',
  'partner',
  'ex',
  'son',
  'daughter',
  'brother',
  'sister',
  'mother',
  'father',
  'roommate',
  'employee',
  'boyfriend',
  'girlfriend',
  'neighbor',
];

/** "a Pixel 8", "an iPhone 15". */
export const an = (x) => `${/^(iP|[AEIaei])/.test(x) ? 'an' : 'a'} ${x}`;
/** Money as customers type it: "$40" for whole amounts, "$12.50" otherwise. */
export const cash = (x) => (Number.isInteger(x) ? `$${x}` : money(x));
export const date = (rng) => `${rng.pick(MONTHS)} ${rng.int(1, 28)}`;
export const caseId = (rng) => `NWC-${rng.int(1, 9)}${rng.digits(6)}`;
export const zip = (rng) => `${rng.int(1, 9)}${rng.digits(4)}`;
export const zoneOf = (country) => ZONES.find((z) => z.countries.includes(country));

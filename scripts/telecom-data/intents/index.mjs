// All support intents, in a fixed order (the order matters for determinism:
// it fixes the quotas and the shuffle).
import { INTENTS as BILLING } from './billing.mjs';
import { INTENTS as ACCOUNT } from './account.mjs';
import { INTENTS as SIM } from './sim.mjs';
import { INTENTS as PORTING } from './porting.mjs';
import { INTENTS as NETWORK } from './network.mjs';
import { INTENTS as ROAMING } from './roaming.mjs';
import { INTENTS as ESCALATION } from './escalation.mjs';
import { INTENTS as REFUSALS } from './refusals.mjs';

export const INTENTS = [
  ...BILLING,
  ...ACCOUNT,
  ...SIM,
  ...PORTING,
  ...NETWORK,
  ...ROAMING,
  ...ESCALATION,
  ...REFUSALS,
];

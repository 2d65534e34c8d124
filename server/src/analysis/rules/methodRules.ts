// Rules about the method, the adapter, quantization and the trainer settings.

import { loraAlphaRatio } from './lora/loraAlphaRatio';
import { qloraPrepareKbit } from './qlora/qloraPrepareKbit';
import type { Rule } from './rule';

export const METHOD_RULES: readonly Rule[] = [qloraPrepareKbit, loraAlphaRatio];

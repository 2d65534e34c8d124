// Rules about the method, the adapter, quantization and the trainer settings,
// in the order of the rule catalog (rules.md).

import { loraAlphaRatio } from './lora/loraAlphaRatio';
import { deepspeedPeft } from './method/deepspeedPeft';
import { fullFtForgetting } from './method/fullFtForgetting';
import { fullFtGradientCheckpointing } from './method/fullFtGradientCheckpointing';
import { methodSections } from './method/methodSections';
import { qloraPrepareKbit } from './qlora/qloraPrepareKbit';
import type { Rule } from './rule';

export const METHOD_RULES: readonly Rule[] = [
  methodSections,
  qloraPrepareKbit,
  loraAlphaRatio,
  fullFtGradientCheckpointing,
  fullFtForgetting,
  deepspeedPeft,
];

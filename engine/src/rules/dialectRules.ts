// Rules for traps of one tool: Axolotl, LLaMA-Factory or TRL's CLI. Each
// declares the dialects it applies to; they read the tool's own keys.

import { axolotlChatTemplateMissing } from './dialect/axolotlChatTemplateMissing';
import { axolotlEvalSamplePacking } from './dialect/axolotlEvalSamplePacking';
import { llamafactoryLoraAlphaDefault } from './dialect/llamafactoryLoraAlphaDefault';
import { llamafactoryMaxLength } from './dialect/llamafactoryMaxLength';
import { trlLoraFloat32Base } from './dialect/trlLoraFloat32Base';
import { trlMaxLengthDefault } from './dialect/trlMaxLengthDefault';
import { trlPeftLearningRate } from './dialect/trlPeftLearningRate';
import { trlQuantizedWithoutPeft } from './dialect/trlQuantizedWithoutPeft';
import type { Rule } from './rule';

export const DIALECT_RULES: readonly Rule[] = [
  axolotlChatTemplateMissing,
  axolotlEvalSamplePacking,
  llamafactoryLoraAlphaDefault,
  llamafactoryMaxLength,
  trlMaxLengthDefault,
  trlQuantizedWithoutPeft,
  trlPeftLearningRate,
  trlLoraFloat32Base,
];

// The shape of a semantic rule. One rule per file, each with its doc text;
// rules read the shared context and never re-parse.

import type { Dialect, QuickFix, Range, Severity } from '../types';
import type { RuleContext } from './context';

export interface RuleDoc {
  /** One line: what the rule catches. */
  title: string;
  /** Why it matters: what goes wrong in a real run. */
  why: string;
  /** What to do about it. */
  fix: string;
  /** The thresholds and their source, where the rule has any. */
  thresholds?: string;
}

export interface RuleHit {
  message: string;
  range: Range;
  fixes?: QuickFix[];
}

export interface Rule {
  code: string;
  severity: Severity;
  doc: RuleDoc;
  /**
   * The dialects the rule applies to; every dialect when absent (the rule then
   * reads the config through native paths, which other dialects translate).
   */
  dialects?: readonly Dialect[];
  check(ctx: RuleContext): RuleHit[];
}

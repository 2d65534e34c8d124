// Rule severity settings for the CLI: `.tunelab.json` found upward from the
// working directory (or --config FILE), then --rule CODE=LEVEL flags on top.
// A code that is not in the rule catalog is an error, not a silent no-op: a
// misspelt `off` would otherwise leave the rule on while the user thinks it
// is off.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { ruleCatalog } from '../../engine/src/rules/catalog';
import { closest } from '../../engine/src/schema/didYouMean';
import type { Severity } from '../../engine/src/types';
import { describeFsError } from './readConfig';

export type RuleLevel = Severity | 'off';
export type RuleLevels = Record<string, RuleLevel>;
const LEVELS: readonly string[] = ['off', 'error', 'warning', 'info', 'hint'];

/** A problem in a settings file: not a misuse of the command line, so no usage text. */
export class SettingsError extends Error {}

export function isRuleLevel(value: unknown): value is RuleLevel {
  return typeof value === 'string' && LEVELS.includes(value);
}

/** Undefined for a catalog code; else why it is refused, with the nearest code when one is close. */
export function unknownRuleCode(code: string): string | undefined {
  const codes = ruleCatalog().map((entry) => entry.code);
  if (codes.includes(code)) return undefined;
  const suggestion = closest(code, codes);
  return `unknown rule code ${code}; ${suggestion ? `did you mean ${suggestion}?` : '`tunelab rules` lists the codes'}`;
}

export function findSettingsFile(from: string): string | undefined {
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, '.tunelab.json');
    if (fs.existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) return undefined;
  }
}

export function loadRuleLevels(file: string): RuleLevels {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new SettingsError(`cannot read ${file}: ${describeFsError(err)}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new SettingsError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  const rules = (parsed as { rules?: unknown })?.rules ?? {};
  if (typeof rules !== 'object' || rules === null || Array.isArray(rules)) {
    throw new SettingsError(`${file}: "rules" must be an object of CODE: level`);
  }
  const levels: RuleLevels = {};
  for (const [code, level] of Object.entries(rules)) {
    const unknown = unknownRuleCode(code);
    if (unknown) throw new SettingsError(`${file}: ${unknown}`);
    if (!isRuleLevel(level)) {
      throw new SettingsError(
        `${file}: rule ${code} has level ${JSON.stringify(level)}; use ${LEVELS.join('|')}`,
      );
    }
    levels[code] = level;
  }
  return levels;
}

/** The settings file's levels (found upward from `cwd` unless given), then the flags' on top. */
export function resolveRuleLevels(
  flags: readonly (readonly [string, RuleLevel])[],
  configFile: string | undefined,
  cwd: string,
): RuleLevels {
  const file = configFile ?? findSettingsFile(cwd);
  const levels: RuleLevels = file ? loadRuleLevels(file) : {};
  for (const [code, level] of flags) levels[code] = level;
  return levels;
}

// Rule severity settings for the CLI: `.tunelab.json` found upward from the
// working directory (or --config FILE), then --rule CODE=LEVEL flags on top.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Severity } from '../../engine/src/types';

export type RuleLevels = Record<string, Severity | 'off'>;
const LEVELS = new Set(['off', 'error', 'warning', 'info', 'hint']);

export class SettingsError extends Error {}

export function parseRuleFlag(flag: string): [string, Severity | 'off'] {
  const match = /^([a-z0-9-]+)=(\w+)$/.exec(flag);
  if (!match || !LEVELS.has(match[2])) {
    throw new SettingsError(`--rule expects CODE=off|error|warning|info|hint, got ${flag}`);
  }
  return [match[1], match[2] as Severity | 'off'];
}

export function findSettingsFile(from: string): string | undefined {
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, '.tunelab.json');
    if (fs.existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) return undefined;
  }
}

export function loadRuleLevels(file: string): RuleLevels {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new SettingsError(`cannot read ${file}: ${(err as Error).message}`);
  }
  const rules = (parsed as { rules?: unknown })?.rules ?? {};
  if (typeof rules !== 'object' || rules === null || Array.isArray(rules)) {
    throw new SettingsError(`${file}: "rules" must be an object of CODE: level`);
  }
  const levels: RuleLevels = {};
  for (const [code, level] of Object.entries(rules)) {
    if (typeof level !== 'string' || !LEVELS.has(level)) {
      throw new SettingsError(
        `${file}: rule ${code} has level ${JSON.stringify(level)}; use off|error|warning|info|hint`,
      );
    }
    levels[code] = level as Severity | 'off';
  }
  return levels;
}

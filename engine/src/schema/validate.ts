// Validates a config value against the JSON Schema with ajv and turns each
// error into a finding on the exact key or value, with the codes of rules.md.

import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import renamedKeys from '../../../schemas/renamed-keys.json';
import { removeKey } from '../edits';
import { exactSourceAt, sourceAt, type ParsedYaml } from '../parse';
import {
  MAX_FINDINGS_PER_CODE,
  type Finding,
  type Path,
  type QuickFix,
  type Range,
} from '../types';
import { DIALECT_RENAMED_KEYS } from '../dialects/renamed';
import {
  DIALECT_KEY_ALIASES,
  DIALECT_LABEL,
  schemaFor,
  UNKNOWN_KEY_BEHAVIOUR,
} from '../dialects/schemas';
import type { Dialect } from '../types';
import { closest, suggestKey } from './didYouMean';
import { shortText, yamlText } from './messageText';
import { keysAt, schemaAt, sectionsDeclaring, typeLabel, type JsonSchema } from './schemaTree';

export interface RenamedKey {
  section: string;
  old: string;
  new: string;
  /** For renames that change shape, e.g. group_by_length: true → train_sampling_strategy: group_by_length. */
  newValue?: unknown;
  renamedIn: string;
  removedIn: string | null;
  note?: string;
}

export const RENAMED_KEYS = renamedKeys as RenamedKey[];

/** The dialect being validated: its schema and renamed keys. */
interface Target {
  dialect: Dialect;
  root: JsonSchema;
  renamed: readonly RenamedKey[];
}

const compiled = new Map<Dialect, ValidateFunction>();
function validator(dialect: Dialect): ValidateFunction {
  // Compiled once per process and dialect: ajv generates code, which costs a few ms.
  let validate = compiled.get(dialect);
  if (!validate) {
    validate = new Ajv({ allErrors: true, strict: false }).compile(schemaFor(dialect));
    compiled.set(dialect, validate);
  }
  return validate;
}

const EMPTY_NEEDS: Record<Dialect, string> = {
  native: '`method` and `model.name_or_path`',
  axolotl: '`base_model`, `datasets` and `learning_rate`',
  llamafactory: '`model_name_or_path`, `stage`, `finetuning_type` and `dataset`',
  trl: '`model_name_or_path` and `dataset_name`',
};

export function validateSchema(parsed: ParsedYaml, dialect: Dialect = 'native'): Finding[] {
  if (parsed.value === undefined) {
    return [
      {
        code: 'schema-required',
        severity: 'error',
        message: `The config is empty: it needs at least ${EMPTY_NEEDS[dialect]}.`,
        range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
      },
    ];
  }
  const validate = validator(dialect);
  if (validate(parsed.value)) return [];
  const target: Target = {
    dialect,
    root: schemaFor(dialect),
    renamed: dialect === 'native' ? RENAMED_KEYS : DIALECT_RENAMED_KEYS[dialect],
  };
  return errorsToFindings(validate.errors ?? [], parsed, target);
}

function errorsToFindings(errors: ErrorObject[], parsed: ParsedYaml, target: Target): Finding[] {
  // A failed anyOf/oneOf also reports each branch's own failure; keep one
  // finding for the whole alternative instead of one per branch.
  const alternatives = new Set(
    errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf').map((e) => e.schemaPath),
  );
  const insideAlternative = (schemaPath: string): boolean => {
    for (let cut = schemaPath.lastIndexOf('/'); cut > 0; cut = schemaPath.lastIndexOf('/', cut - 1))
      if (alternatives.has(schemaPath.slice(0, cut))) return true;
    return false;
  };
  const findings: Finding[] = [];
  const seen = new Set<string>();
  const converted = new Map<string, number>();
  const presentKeys = new Map<string, Set<string>>();
  for (const error of errors) {
    if (alternatives.size > 0 && insideAlternative(error.schemaPath)) continue;
    // Past the engine's per-code cap a finding is only counted: make it cheaply.
    const full = (converted.get(error.keyword) ?? 0) < MAX_FINDINGS_PER_CODE;
    const finding = full
      ? errorToFinding(error, parsed, target, presentKeys)
      : countedOnly(error, parsed);
    if (!finding) continue;
    const key = `${finding.code}:${finding.range.start.line}:${finding.range.start.character}:${finding.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    converted.set(error.keyword, (converted.get(error.keyword) ?? 0) + 1);
    findings.push(finding);
  }
  return findings;
}

/** A finding past the cap: it is never shown, only counted in a summary placed at its range. */
function countedOnly(error: ErrorObject, parsed: ParsedYaml): Finding {
  const path = pathOf(error.instancePath);
  if (error.keyword === 'additionalProperties') {
    const key = String((error.params as { additionalProperty: string }).additionalProperty);
    const node = exactSourceAt(parsed.root, [...path, key]);
    return {
      code: 'schema-unknown-key',
      severity: 'warning',
      message: `Unknown key \`${shortText(key)}\`.`,
      range: node?.keyRange ?? keyRange(parsed, path),
    };
  }
  const code = error.keyword === 'required' ? 'schema-required' : 'schema-type';
  return {
    code,
    severity: 'error',
    message: `${whereOf(path)} ${error.message ?? 'is not valid'}.`,
    range: valueRange(parsed, path),
  };
}

function pathOf(instancePath: string): Path {
  if (!instancePath) return [];
  return instancePath
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/** A path as the user reads it, `lora.target_modules.2`, with long keys shortened. */
function dotted(path: Path): string {
  return shortText(path.map((segment) => shortText(String(segment), 40)).join('.'), 120);
}

function whereOf(path: Path): string {
  return path.length ? `\`${dotted(path)}\`` : 'The config';
}

function valueRange(parsed: ParsedYaml, path: Path): Range {
  return sourceAt(parsed.root, path)?.valueRange ?? zeroRange();
}

function keyRange(parsed: ParsedYaml, path: Path): Range {
  const node = sourceAt(parsed.root, path);
  return node?.keyRange ?? node?.valueRange ?? zeroRange();
}

function zeroRange(): Range {
  return { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
}

function errorToFinding(
  error: ErrorObject,
  parsed: ParsedYaml,
  target: Target,
  presentKeys: Map<string, Set<string>>,
): Finding | undefined {
  const path = pathOf(error.instancePath);
  const where = whereOf(path);
  switch (error.keyword) {
    case 'additionalProperty':
    case 'additionalProperties': {
      const key = String((error.params as { additionalProperty: string }).additionalProperty);
      return unknownKeyFinding(parsed, path, key, target, presentKeys);
    }
    case 'required': {
      const missing = (error.params as { missingProperty: string }).missingProperty;
      const schema = schemaAt([...path, missing], target.root);
      // The key when a key is missing from its section; the first line at top level.
      const range = path.length ? keyRange(parsed, path) : firstLineRange(parsed);
      const doc = schema?.description ? ` ${firstSentence(schema.description)}` : '';
      return {
        code: 'schema-required',
        severity: 'error',
        message: `${where} is missing the required key \`${missing}\`.${doc}`,
        range,
      };
    }
    case 'enum':
    case 'const': {
      const allowed = (error.params as { allowedValues?: unknown[]; allowedValue?: unknown })
        .allowedValues ?? [(error.params as { allowedValue?: unknown }).allowedValue];
      const actual = valueAtPath(parsed.value, path);
      const suggestion = typeof actual === 'string' ? closest(actual, allowed) : undefined;
      const range = valueRange(parsed, path);
      const fixes: QuickFix[] | undefined =
        suggestion !== undefined
          ? [
              {
                title: `Change to \`${suggestion}\``,
                edits: [{ range, newText: suggestion }],
                preferred: true,
              },
            ]
          : undefined;
      return {
        code: 'schema-enum',
        severity: 'error',
        message: `${where} must be one of ${allowed.map((v) => `\`${String(v)}\``).join(', ')}; got \`${yamlText(actual)}\`.${suggestion !== undefined ? ` Did you mean \`${suggestion}\`?` : ''}`,
        range,
        fixes,
      };
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
    case 'minItems':
    case 'maxItems':
    case 'minLength':
    case 'multipleOf': {
      const actual = valueAtPath(parsed.value, path);
      return {
        code: 'schema-range',
        severity: 'error',
        message: `${where} ${error.message ?? 'is out of range'}; got \`${yamlText(actual)}\`.`,
        range: valueRange(parsed, path),
      };
    }
    case 'type':
    case 'anyOf':
    case 'oneOf': {
      const schema = schemaAt(path, target.root);
      const actual = valueAtPath(parsed.value, path);
      const expected = schema
        ? typeLabel(schema, target.root)
        : String((error.params as { type?: string }).type);
      return {
        code: 'schema-type',
        severity: 'error',
        message: `${where} must be ${expected === 'object' ? 'a mapping (`key: value` lines)' : expected}; got ${describeValue(actual)}.`,
        range: valueRange(parsed, path),
      };
    }
    case 'pattern':
    case 'format':
    case 'uniqueItems':
    default:
      return {
        code: 'schema-type',
        severity: 'error',
        message: `${where} ${error.message ?? 'is not valid'}.`,
        range: valueRange(parsed, path),
      };
  }
}

function unknownKeyFinding(
  parsed: ParsedYaml,
  parent: Path,
  key: string,
  target: Target,
  presentKeys: Map<string, Set<string>>,
): Finding {
  const path = [...parent, key];
  const node = exactSourceAt(parsed.root, path);
  const range = node?.keyRange ?? keyRange(parsed, parent);
  const section = parent.map(String).join('.');
  const renamed = target.renamed.find((r) => r.section === section && r.old === key);
  if (renamed) return renamedKeyFinding(parsed, path, renamed, range);

  const candidates = keysAt(parent, target.root);
  const aliases =
    target.dialect === 'native' || section !== '' ? undefined : DIALECT_KEY_ALIASES[target.dialect];
  const suggestion = suggestKey(section, key, candidates, aliases);
  const fixes: QuickFix[] = [];
  let hint = '';
  if (suggestion) {
    hint = ` Did you mean \`${suggestion}\`?`;
    if (!candidatesPresent(parsed, parent, presentKeys).has(suggestion)) {
      fixes.push({
        title: `Rename to \`${suggestion}\``,
        edits: [{ range, newText: suggestion }],
        preferred: true,
      });
    }
  } else {
    const homes = sectionsDeclaring(key, target.root).filter((s) => s !== section);
    if (homes.length) hint = ` \`${shortText(key)}\` belongs in \`${homes[0]}\`.`;
  }
  const trainingNote =
    target.dialect !== 'native'
      ? ` ${UNKNOWN_KEY_BEHAVIOUR[target.dialect]}`
      : section === 'training' && !suggestion
        ? ' It may be a TrainingArguments field Tunelab does not know yet; check the spelling against the transformers docs.'
        : '';
  const where =
    target.dialect !== 'native' && !section
      ? `in this ${DIALECT_LABEL[target.dialect]} config`
      : section
        ? `in \`${dotted(parent)}\``
        : 'at the top level';
  return {
    code: 'schema-unknown-key',
    severity: 'warning',
    message: `Unknown key \`${shortText(key)}\` ${where}.${hint}${trainingNote}`,
    range,
    fixes: fixes.length ? fixes : undefined,
  };
}

function renamedKeyFinding(
  parsed: ParsedYaml,
  path: Path,
  renamed: RenamedKey,
  range: Range,
): Finding {
  const node = exactSourceAt(parsed.root, path);
  const oldValue = valueAtPath(parsed.value, path);
  // `group_by_length: false` meant the default: the fix deletes it rather than renaming.
  const dropInstead = renamed.newValue !== undefined && oldValue === false;
  const edits = dropInstead
    ? removeKey(parsed, path)
    : renamed.newValue !== undefined && node
      ? [
          { range, newText: renamed.new },
          { range: node.valueRange, newText: String(renamed.newValue) },
        ]
      : [{ range, newText: renamed.new }];
  const replacement =
    renamed.newValue !== undefined
      ? `\`${renamed.new}: ${String(renamed.newValue)}\``
      : `\`${renamed.new}\``;
  const fixes: QuickFix[] = [
    {
      title: dropInstead ? `Remove \`${renamed.old}\`` : `Replace with ${replacement}`,
      edits,
      preferred: true,
    },
  ];
  if (renamed.removedIn) {
    return {
      code: 'removed-key',
      severity: 'warning',
      message: `\`${renamed.old}\` was removed in ${renamed.removedIn} (renamed to ${replacement} in ${renamed.renamedIn}); current releases reject or ignore it. Use ${replacement}.`,
      range,
      fixes,
    };
  }
  return {
    code: 'deprecated-key',
    severity: 'info',
    message: `\`${renamed.old}\` was renamed to ${replacement} in ${renamed.renamedIn}; the old name still works but is deprecated.`,
    range,
    fixes,
  };
}

/** Keys present in the section at `parent`, built once per section and validation. */
function candidatesPresent(
  parsed: ParsedYaml,
  parent: Path,
  memo: Map<string, Set<string>>,
): Set<string> {
  const id = parent.join('\u0000');
  let keys = memo.get(id);
  if (!keys) {
    const node = exactSourceAt(parsed.root, parent);
    keys = new Set([...(node?.children?.keys() ?? [])].map(String));
    memo.set(id, keys);
  }
  return keys;
}

function valueAtPath(value: unknown, path: Path): unknown {
  let current = value;
  for (const segment of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string | number, unknown>)[segment];
  }
  return current;
}

function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'nothing (null)';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} \`${yamlText(value)}\``;
}

function firstLineRange(parsed: ParsedYaml): Range {
  const firstLine = parsed.text.split('\n', 1)[0] ?? '';
  return { start: { line: 0, character: 0 }, end: { line: 0, character: firstLine.length } };
}

function firstSentence(markdown: string): string {
  const match = /^[\s\S]*?[.!?](\s|$)/.exec(markdown);
  return (match ? match[0] : markdown).trim();
}

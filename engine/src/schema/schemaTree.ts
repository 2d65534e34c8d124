// Navigation in the JSON Schema of the native format: which keys exist at a
// path, and what a key's documentation says. Used by validation ("did you
// mean"), completion and hover.

import nativeSchema from '../../../schemas/finetune.schema.json';
import type { Path } from '../types';

export interface JsonSchema {
  type?: string | string[];
  description?: string;
  properties?: Record<string, JsonSchema>;
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  $ref?: string;
  required?: string[];
  title?: string;
  examples?: unknown[];
  pattern?: string;
  [key: string]: unknown;
}

export const NATIVE_SCHEMA = nativeSchema as unknown as JsonSchema;

function resolveRef(root: JsonSchema, schema: JsonSchema): JsonSchema {
  let current = schema;
  for (let hops = 0; current.$ref && hops < 10; hops++) {
    const pointer = current.$ref.replace(/^#\//, '').split('/');
    let target: unknown = root;
    for (const part of pointer) target = (target as Record<string, unknown> | undefined)?.[part];
    if (!target || typeof target !== 'object') break;
    current = target as JsonSchema;
  }
  return current;
}

/** The alternatives of a schema (anyOf / oneOf branches, or itself), refs resolved. */
export function branches(schema: JsonSchema, root: JsonSchema = NATIVE_SCHEMA): JsonSchema[] {
  const resolved = resolveRef(root, schema);
  const alternatives = resolved.anyOf ?? resolved.oneOf;
  if (!alternatives) return [resolved];
  return alternatives.flatMap((b) => branches(b, root));
}

/** The schema that describes the value at `path`, or undefined when none does. */
export function schemaAt(path: Path, root: JsonSchema = NATIVE_SCHEMA): JsonSchema | undefined {
  let current: JsonSchema | undefined = resolveRef(root, root);
  for (const segment of path) {
    if (!current) return undefined;
    let next: JsonSchema | undefined;
    for (const branch of branches(current, root)) {
      if (typeof segment === 'number') {
        if (branch.items) next = resolveRef(root, branch.items);
      } else if (branch.properties?.[segment]) {
        next = resolveRef(root, branch.properties[segment]);
      } else if (branch.additionalProperties && typeof branch.additionalProperties === 'object') {
        next = resolveRef(root, branch.additionalProperties);
      }
      if (next) break;
    }
    current = next;
  }
  return current;
}

/** Keys a mapping at `path` may hold (union over its object alternatives). */
export function keysAt(path: Path, root: JsonSchema = NATIVE_SCHEMA): string[] {
  const schema = schemaAt(path, root);
  if (!schema) return [];
  const keys = new Set<string>();
  for (const branch of branches(schema, root)) {
    for (const key of Object.keys(branch.properties ?? {})) keys.add(key);
  }
  return [...keys];
}

/** The enum values allowed at `path` (union over alternatives). */
export function enumAt(path: Path, root: JsonSchema = NATIVE_SCHEMA): unknown[] {
  const schema = schemaAt(path, root);
  if (!schema) return [];
  const values: unknown[] = [];
  for (const branch of branches(schema, root)) {
    if (branch.enum) values.push(...branch.enum);
    if (branch.const !== undefined) values.push(branch.const);
    if (branch.type === 'boolean') values.push(true, false);
  }
  return [...new Set(values)];
}

/** The top-level sections that declare `key`, for "belongs in `training`" hints. */
export function sectionsDeclaring(key: string, root: JsonSchema = NATIVE_SCHEMA): string[] {
  const sections: string[] = [];
  for (const [section, sub] of Object.entries(root.properties ?? {})) {
    if (keysAt([section], root).includes(key) && sub) sections.push(section);
  }
  return sections;
}

/** A short type label for messages and hovers: "integer ≥ 1", "nf4 | fp4". */
export function typeLabel(schema: JsonSchema, root: JsonSchema = NATIVE_SCHEMA): string {
  return branches(schema, root)
    .map((b) => {
      if (b.enum) return b.enum.map((v) => JSON.stringify(v)).join(' | ');
      if (b.const !== undefined) return JSON.stringify(b.const);
      const type = Array.isArray(b.type) ? b.type.join(' | ') : (b.type ?? 'any');
      const bounds: string[] = [];
      if (b.minimum !== undefined) bounds.push(`≥ ${b.minimum}`);
      if (b.exclusiveMinimum !== undefined) bounds.push(`> ${b.exclusiveMinimum}`);
      if (b.maximum !== undefined) bounds.push(`≤ ${b.maximum}`);
      if (b.exclusiveMaximum !== undefined) bounds.push(`< ${b.exclusiveMaximum}`);
      if (type === 'array' && b.items) return `list of ${typeLabel(b.items, root)}`;
      return bounds.length ? `${type} ${bounds.join(', ')}` : type;
    })
    .join(' or ');
}

import type { Hover, MarkupContent } from 'vscode-languageserver/node';
import { pathAtPosition } from '../../../engine/src/cursor';
import { schemaFor } from '../../../engine/src/dialects/schemas';
import { locate } from '../../../engine/src/dialects/view';
import type { Analysis } from '../../../engine/src/engine';
import {
  NATIVE_SCHEMA,
  schemaAt,
  typeLabel,
  type JsonSchema,
} from '../../../engine/src/schema/schemaTree';
import type { Path, Position } from '../../../engine/src/types';
import { estimateHoverMarkdown, isEstimateKey } from './estimate';

/** Native keys whose dialect source shows the estimate on hover (ESTIMATE_KEYS in native). */
const ESTIMATE_SOURCES: Path[] = [
  ['method'],
  ['model', 'name_or_path'],
  ['training', 'per_device_train_batch_size'],
  ['data', 'max_length'],
  ['lora', 'r'],
  ['training', 'gradient_checkpointing'],
];

export function keyDocumentation(path: Path, root: JsonSchema = NATIVE_SCHEMA): string | undefined {
  const schema = schemaAt(path, root);
  if (!schema) return undefined;
  const name = path.filter((s) => typeof s === 'string').join('.');
  const facts = [typeLabel(schema, root)];
  if (schema.default !== undefined) facts.push(`default \`${JSON.stringify(schema.default)}\``);
  return `**\`${name}\`** · ${facts.join(' · ')}\n\n${schema.description ?? ''}`.trim();
}

export function hover(analysis: Analysis, position: Position): Hover | null {
  const root = analysis.parsed?.root;
  const at = pathAtPosition(root, position);
  if (!at) return null;
  // On a list item or a value, document the key that holds it.
  const keyPath = [...at.path];
  while (keyPath.length && typeof keyPath[keyPath.length - 1] === 'number') keyPath.pop();
  const dialect = analysis.dialect ?? 'native';
  const doc = keyDocumentation(keyPath, schemaFor(dialect));
  if (!doc) return null;
  const estimateKey =
    dialect === 'native'
      ? isEstimateKey(keyPath)
      : !!analysis.view &&
        ESTIMATE_SOURCES.some((p) => samePath(locate(analysis.view!, p)?.path, keyPath));
  const estimate = estimateKey ? estimateHoverMarkdown(analysis) : undefined;
  const contents: MarkupContent = {
    kind: 'markdown',
    value: estimate ? `${doc}\n\n---\n\n${estimate}` : doc,
  };
  return { contents };
}

function samePath(a: Path | undefined, b: Path): boolean {
  return !!a && a.length === b.length && a.every((s, i) => s === b[i]);
}

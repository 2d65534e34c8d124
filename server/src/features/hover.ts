import type { Hover, MarkupContent } from 'vscode-languageserver/node';
import { pathAtPosition } from '../analysis/cursor';
import type { Analysis } from '../analysis/engine';
import { schemaAt, typeLabel } from '../analysis/schema/schemaTree';
import type { Path, Position } from '../analysis/types';
import { estimateHoverMarkdown, isEstimateKey } from './estimate';

export function keyDocumentation(path: Path): string | undefined {
  const schema = schemaAt(path);
  if (!schema) return undefined;
  const name = path.filter((s) => typeof s === 'string').join('.');
  const facts = [typeLabel(schema)];
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
  const doc = keyDocumentation(keyPath);
  if (!doc) return null;
  const estimate = isEstimateKey(keyPath) ? estimateHoverMarkdown(analysis) : undefined;
  const contents: MarkupContent = {
    kind: 'markdown',
    value: estimate ? `${doc}\n\n---\n\n${estimate}` : doc,
  };
  return { contents };
}

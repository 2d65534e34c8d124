import { SymbolKind, type DocumentSymbol } from 'vscode-languageserver/node';
import type { SourceNode } from '../../../engine/src/parse';

/** The outline: sections and keys, nested as in the file (list items are not listed). */
export function documentSymbols(root: SourceNode | undefined, value: unknown): DocumentSymbol[] {
  return symbolsOf(root, value, 0);
}

function symbolsOf(node: SourceNode | undefined, value: unknown, depth: number): DocumentSymbol[] {
  if (!node?.children || depth > 8) return [];
  const symbols: DocumentSymbol[] = [];
  for (const [segment, child] of node.children) {
    if (typeof segment === 'number' || !child.keyRange) continue;
    const childValue = (value as Record<string, unknown> | undefined)?.[segment];
    const isMap =
      childValue !== null && typeof childValue === 'object' && !Array.isArray(childValue);
    const range = {
      start: child.keyRange.start,
      end: after(child.valueRange.end, child.keyRange.end)
        ? child.valueRange.end
        : child.keyRange.end,
    };
    symbols.push({
      name: segment,
      detail: isMap ? undefined : summarize(childValue),
      kind: isMap
        ? SymbolKind.Module
        : Array.isArray(childValue)
          ? SymbolKind.Array
          : SymbolKind.Property,
      range,
      selectionRange: child.keyRange,
      children: isMap ? symbolsOf(child, childValue, depth + 1) : undefined,
    });
  }
  return symbols;
}

function after(
  a: { line: number; character: number },
  b: { line: number; character: number },
): boolean {
  return a.line > b.line || (a.line === b.line && a.character > b.character);
}

function summarize(value: unknown): string {
  if (Array.isArray(value)) return `[${value.length}]`;
  const text = String(value);
  return text.length > 40 ? text.slice(0, 39) + '…' : text;
}

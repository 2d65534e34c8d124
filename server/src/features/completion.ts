import {
  CompletionItemKind,
  InsertTextFormat,
  type CompletionItem,
} from 'vscode-languageserver/node';
import { cursorContext } from '../analysis/cursor';
import { enumAt, keysAt, schemaAt, typeLabel, branches } from '../analysis/schema/schemaTree';
import type { Position, Range } from '../analysis/types';
import { keyDocumentation } from './hover';

export function complete(text: string, position: Position): CompletionItem[] {
  const context = cursorContext(text, position);
  if (!context) return [];
  if (context.mode === 'key') {
    // The schema lists keys in the order people reach for them: keep that order.
    return keysAt(context.path)
      .map((key, index) => ({ key, index }))
      .filter(({ key }) => !context.siblings.has(key))
      .map(({ key, index }) => ({
        ...keyItem([...context.path, key], key, context.replaceRange),
        sortText: String(index).padStart(4, '0'),
      }));
  }
  return enumAt(context.path).map((value, index) => {
    const label = String(value);
    return {
      label,
      kind: CompletionItemKind.EnumMember,
      sortText: String(index).padStart(4, '0'),
      textEdit: { range: context.replaceRange, newText: label },
    } satisfies CompletionItem;
  });
}

function keyItem(path: string[], key: string, range: Range): CompletionItem {
  const schema = schemaAt(path);
  const isObject = schema ? branches(schema).every((b) => b.type === 'object') : false;
  const values = enumAt(path).filter((v) => typeof v !== 'boolean');
  let snippet: string;
  if (isObject) snippet = `${key}:\n\t$0`;
  else if (values.length)
    snippet = `${key}: \${1|${values.map((v) => String(v).replace(/[,|]/g, '\\$&')).join(',')}|}`;
  else snippet = `${key}: $0`;
  return {
    label: key,
    kind: isObject ? CompletionItemKind.Module : CompletionItemKind.Property,
    detail: schema ? typeLabel(schema) : undefined,
    documentation: { kind: 'markdown', value: keyDocumentation(path) ?? '' },
    insertTextFormat: InsertTextFormat.Snippet,
    textEdit: { range, newText: snippet },
  };
}

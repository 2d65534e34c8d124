import {
  CompletionItemKind,
  InsertTextFormat,
  type CompletionItem,
} from 'vscode-languageserver/node';
import { cursorContext } from '../../../engine/src/cursor';
import { detectFromContent, readModeline } from '../../../engine/src/dialects/detect';
import { schemaFor } from '../../../engine/src/dialects/schemas';
import { isRecord, parseYaml } from '../../../engine/src/parse';
import {
  enumAt,
  keysAt,
  schemaAt,
  typeLabel,
  branches,
  type JsonSchema,
} from '../../../engine/src/schema/schemaTree';
import type { Dialect, Position, Range } from '../../../engine/src/types';
import { keyDocumentation } from './hover';

/**
 * The dialect of a document being typed: its modeline, else its content (an
 * Axolotl, LLaMA-Factory or TRL config), else native.
 */
export function dialectOfText(text: string): Dialect {
  const modeline = readModeline(text).dialect;
  if (modeline) return modeline;
  const value = parseYaml(text).value;
  if (isRecord(value) && typeof value.method === 'string' && isRecord(value.model)) return 'native';
  return detectFromContent(value) ?? 'native';
}

/** Completion items at `position`, from the schema of `dialect` (detected from the text when absent). */
export function complete(text: string, position: Position, dialect?: Dialect): CompletionItem[] {
  const context = cursorContext(text, position);
  if (!context) return [];
  const root = schemaFor(dialect ?? dialectOfText(text));
  if (context.mode === 'key') {
    // The schema lists keys in the order people reach for them: keep that order.
    return keysAt(context.path, root)
      .map((key, index) => ({ key, index }))
      .filter(({ key }) => !context.siblings.has(key))
      .map(({ key, index }) => ({
        ...keyItem([...context.path, key], key, context.replaceRange, root),
        sortText: String(index).padStart(4, '0'),
      }));
  }
  return enumAt(context.path, root).map((value, index) => {
    const label = String(value);
    return {
      label,
      kind: CompletionItemKind.EnumMember,
      sortText: String(index).padStart(4, '0'),
      textEdit: { range: context.replaceRange, newText: label },
    } satisfies CompletionItem;
  });
}

function keyItem(path: string[], key: string, range: Range, root: JsonSchema): CompletionItem {
  const schema = schemaAt(path, root);
  // Other dialects' mappings are nullable (`type: [object, null]`): still a section.
  const types = schema
    ? branches(schema, root).flatMap((b) => (Array.isArray(b.type) ? b.type : [b.type]))
    : [];
  const isObject = types.includes('object') && types.every((t) => t === 'object' || t === 'null');
  const values = enumAt(path, root).filter((v) => typeof v !== 'boolean' && v !== null);
  let snippet: string;
  if (isObject) snippet = `${key}:\n\t$0`;
  else if (values.length)
    snippet = `${key}: \${1|${values.map((v) => String(v).replace(/[,|]/g, '\\$&')).join(',')}|}`;
  else snippet = `${key}: $0`;
  return {
    label: key,
    kind: isObject ? CompletionItemKind.Module : CompletionItemKind.Property,
    detail: schema ? typeLabel(schema, root) : undefined,
    documentation: { kind: 'markdown', value: keyDocumentation(path, root) ?? '' },
    insertTextFormat: InsertTextFormat.Snippet,
    textEdit: { range, newText: snippet },
  };
}

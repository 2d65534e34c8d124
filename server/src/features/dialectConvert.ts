// "Convert to native config" for Axolotl, LLaMA-Factory and TRL configs: a
// refactoring that writes the equivalent native config next to the file,
// offered only when the conversion is lossless.

import {
  CodeActionKind,
  CreateFile,
  TextDocumentEdit,
  TextEdit,
  type CodeAction,
} from 'vscode-languageserver/node';
import {
  dialectFileName,
  nativeFileName,
  toNativeConfig,
} from '../../../engine/src/dialects/convert';
import { fromNativeConfig } from '../../../engine/src/dialects/fromNative';
import { DIALECT_LABEL } from '../../../engine/src/dialects/schemas';
import type { Analysis } from '../../../engine/src/engine';

/**
 * Conversion refactorings: a dialect config to native, or a native config to
 * each tool it converts to without loss. The new file is created next to the
 * config (the client refuses to overwrite an existing one).
 */
export function dialectConversionActions(uri: string, analysis: Analysis): CodeAction[] {
  if (!analysis.dialect) return [];
  if (analysis.dialect !== 'native') {
    const conversion = toNativeConfig(analysis);
    if (!conversion?.lossless) return [];
    const target = nativeFileName(uri);
    return [
      action(
        `Convert this ${DIALECT_LABEL[analysis.dialect]} config to a native Tunelab config (${baseName(target)})`,
        target,
        conversion.text,
      ),
    ];
  }
  const actions: CodeAction[] = [];
  for (const dialect of ['axolotl', 'llamafactory', 'trl'] as const) {
    const conversion = fromNativeConfig(analysis, dialect);
    if (!conversion?.lossless) continue;
    const target = dialectFileName(uri, dialect);
    actions.push(
      action(
        `Convert to ${dialect === 'axolotl' ? 'an' : 'a'} ${DIALECT_LABEL[dialect]} config (${baseName(target)})`,
        target,
        conversion.text,
      ),
    );
  }
  return actions;
}

function action(title: string, target: string, text: string): CodeAction {
  return {
    title,
    kind: CodeActionKind.RefactorRewrite,
    edit: {
      documentChanges: [
        CreateFile.create(target),
        TextDocumentEdit.create({ uri: target, version: null }, [
          TextEdit.insert({ line: 0, character: 0 }, text),
        ]),
      ],
    },
  };
}

function baseName(uri: string): string {
  return uri.slice(uri.lastIndexOf('/') + 1);
}

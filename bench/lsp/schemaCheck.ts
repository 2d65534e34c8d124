// Before measuring: does each server really validate against the schema? A
// valid config should get no schema diagnostics, an unknown key one on its line.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { PublishDiagnosticsParams } from 'vscode-languageserver-protocol/node';
import { lineIndex, type Input } from './inputs';
import type { ServerName } from './options';
import {
  CLIENT_CAPABILITIES,
  pulledBeforeOpen,
  pullError,
  Session,
  type ServerSpec,
} from './session';
import type { Servers } from './servers';

const shorten = (text: string, max: number): string =>
  text.length > max ? `${text.slice(0, max - 1)}…` : text;

export interface CheckResult {
  server: ServerName;
  validDiagnostics: string[];
  unknownKeyLine: number;
  unknownKeyDiagnostics: string[];
  errors: string[];
}

/** Opens a valid config and one with an unknown key, and reports what each server says. */
export async function schemaCheck(
  spec: ServerSpec,
  dir: string,
  typical: Input,
): Promise<CheckResult> {
  const lines = typical.text.split('\n');
  const training = lineIndex(lines, /^training:/, 'training:');
  lines.splice(training + 1, 0, '  not_a_training_key: 1');
  const badFile = path.join(dir, 'check-unknown-key.finetune.yaml');
  fs.writeFileSync(badFile, lines.join('\n'));
  const result: CheckResult = {
    server: spec.server,
    validDiagnostics: [],
    unknownKeyLine: training + 1,
    unknownKeyDiagnostics: [],
    errors: [],
  };
  const session = Session.start(spec);
  const describe = (d: PublishDiagnosticsParams['diagnostics'][number]): string =>
    `line ${d.range.start.line + 1}: ${shorten((typeof d.message === 'string' ? d.message : d.message.value).split('\n')[0], 90)}`;
  try {
    await session.request('initialize', {
      processId: process.pid,
      rootUri: pathToFileURL(dir).href,
      workspaceFolders: null,
      capabilities: CLIENT_CAPABILITIES,
    });
    session.notify('initialized', {});
    session.notify('workspace/didChangeConfiguration', { settings: spec.didChangeSettings });
    if (!(await pulledBeforeOpen(session, spec))) result.errors.push(pullError(session, spec));
    for (const [uri, text, into] of [
      [typical.uri, typical.text, result.validDiagnostics],
      [pathToFileURL(badFile).href, lines.join('\n'), result.unknownKeyDiagnostics],
    ] as const) {
      session.notify('textDocument/didOpen', {
        textDocument: { uri, languageId: 'yaml', version: 1, text },
      });
      const published = await session.nextPublish(uri, undefined);
      into.push(...published.diagnostics.map(describe));
    }
  } catch (err) {
    result.errors.push(String(err instanceof Error ? err.message : err));
  } finally {
    await session.stop();
  }
  return result;
}

/** Prints each server's schema check, so figures of a server that does not validate are known to mean nothing. */
export async function printSchemaChecks(
  servers: Servers,
  which: ServerName[],
  dir: string,
  typical: Input,
): Promise<void> {
  console.log('## Schema check (before measuring)');
  console.log('');
  for (const server of which) {
    const check = await schemaCheck(servers[server]('e2e'), dir, typical);
    const name = server === 'ours' ? 'ours' : 'yaml-language-server';
    const hit = check.unknownKeyDiagnostics.filter((d) =>
      d.startsWith(`line ${check.unknownKeyLine + 1}:`),
    );
    console.log(
      `- ${name}: valid typical config → ${check.validDiagnostics.length} diagnostics${check.validDiagnostics.length ? ` (${check.validDiagnostics.join('; ')})` : ''}; ` +
        `unknown key \`training.not_a_training_key\` → ${hit.length ? `"${hit[0]}"` : 'NO diagnostic on its line'}` +
        `${hit.length ? '' : ' — NOT validating against the schema, its figures mean nothing'}` +
        `${check.errors.length ? ` [${check.errors.join('; ')}]` : ''}`,
    );
  }
  console.log('');
}

// The allowed imports between the top-level folders (ARCHITECTURE.md):
//   engine/    the pure engine: imports none of the others; no vscode, LSP,
//              child processes or network
//   launch/    launching and runs (plain Node): the engine only; no vscode
//   cli/       the engine and launching
//   server/    LSP wiring: the engine and the protocol, plus launching's Hub
//              download and URL redaction (the one network call it makes)
//   protocol/  messages and settings shared by client and server: nothing
//   client/    the extension: the engine, launching and the protocol, never the server
// Tests next to the code follow their folder's rule on folders (not on
// packages), and may also use the shared test inputs under test/. Run it alone with
// `node --import tsx scripts/check-imports.ts`.

import * as fs from 'node:fs';
import * as path from 'node:path';

export type Box = 'engine' | 'launch' | 'cli' | 'server' | 'protocol' | 'client';

const ALLOWED: Record<Box, readonly Box[]> = {
  engine: [],
  launch: ['engine'],
  cli: ['engine', 'launch'],
  server: ['engine', 'protocol'],
  protocol: [],
  client: ['engine', 'launch', 'protocol'],
};

/** Single files a box may import beyond its allowed boxes, with the reason. */
const EXCEPTIONS: Partial<Record<Box, readonly string[]>> = {
  // The server fetches a model's config.json in the background, redacts URLs in its log and
  // reads the host paces the workspace's completed runs taught (a stat per analysis).
  server: ['launch/src/hub.ts', 'launch/src/redact.ts', 'launch/src/hostPaces.ts'],
};

/** Packages (and Node modules) a box must not use, whatever the path. */
const FORBIDDEN_PACKAGES: Record<Box, RegExp> = {
  engine:
    /^(vscode|vscode-languageserver.*|vscode-languageclient.*|vscode-jsonrpc.*|(node:)?(child_process|http|https|http2|net|dgram|tls|worker_threads|cluster))(\/.*)?$/,
  launch: /^(vscode|vscode-languageserver.*|vscode-languageclient.*)(\/.*)?$/,
  cli: /^(vscode|vscode-languageserver.*|vscode-languageclient.*)(\/.*)?$/,
  server: /^(vscode|vscode-languageclient.*)(\/.*)?$/,
  protocol: /^(vscode|vscode-languageserver.*|vscode-languageclient.*|node:.*)(\/.*)?$/,
  client: /^vscode-languageserver(\/.*)?$/,
};

const BOXES = Object.keys(ALLOWED) as Box[];
const IMPORT = /(?:\bfrom\s+|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)(['"])([^'"]+)\1/gm;

export interface Violation {
  file: string;
  line: number;
  specifier: string;
  why: string;
}

function boxOf(relative: string): Box | undefined {
  const [first, second] = relative.split('/');
  return second === 'src' && (BOXES as string[]).includes(first) ? (first as Box) : undefined;
}

function sourceFiles(root: string, dir: string): string[] {
  const out: string[] = [];
  const abs = path.join(root, dir);
  if (!fs.existsSync(abs)) return out;
  for (const entry of fs.readdirSync(abs, { withFileTypes: true })) {
    const rel = `${dir}/${entry.name}`;
    if (entry.isDirectory()) out.push(...sourceFiles(root, rel));
    else if (/\.tsx?$/.test(entry.name)) out.push(rel);
  }
  return out;
}

function resolveRelative(root: string, from: string, specifier: string): string {
  const base = path.posix.normalize(path.posix.join(path.posix.dirname(from), specifier));
  for (const candidate of [base, `${base}.ts`, `${base}.tsx`, `${base}/index.ts`])
    if (
      fs.existsSync(path.join(root, candidate)) &&
      fs.statSync(path.join(root, candidate)).isFile()
    )
      return candidate;
  return base;
}

/** Every import in the boxes that breaks the rules above. */
export function checkImports(root: string): Violation[] {
  const violations: Violation[] = [];
  for (const box of BOXES) {
    for (const file of sourceFiles(root, `${box}/src`)) {
      const text = fs.readFileSync(path.join(root, file), 'utf8');
      const isTest = file.endsWith('.test.ts');
      for (const match of text.matchAll(IMPORT)) {
        const specifier = match[2];
        const line = text.slice(0, match.index).split('\n').length;
        if (!specifier.startsWith('.')) {
          // Tests may use what the code may not (a FIFO made with mkfifo, say).
          if (!isTest && FORBIDDEN_PACKAGES[box].test(specifier))
            violations.push({ file, line, specifier, why: `${box}/ must not use ${specifier}` });
          continue;
        }
        const target = resolveRelative(root, file, specifier);
        const targetBox = boxOf(target);
        if (targetBox === box || EXCEPTIONS[box]?.includes(target)) continue;
        if (targetBox === undefined) {
          // Data the bundles embed (schemas, package.json) is fine; other code is
          // not, except the shared test inputs under test/ for tests.
          if (/\.json$/.test(target) && !target.startsWith('..')) continue;
          if (isTest && target.startsWith('test/')) continue;
          violations.push({
            file,
            line,
            specifier,
            why: `${box}/ imports ${target}, outside the boxes`,
          });
        } else if (!ALLOWED[box].includes(targetBox)) {
          violations.push({ file, line, specifier, why: `${box}/ must not import ${targetBox}/` });
        }
      }
      if (box === 'engine' && !isTest && /\bfetch\s*\(/.test(text))
        violations.push({
          file,
          line: 0,
          specifier: 'fetch()',
          why: 'the engine makes no network calls',
        });
    }
  }
  return violations;
}

if (require.main === module) {
  const root = path.resolve(__dirname, '..');
  const violations = checkImports(root);
  for (const v of violations) console.log(`${v.file}:${v.line}: ${v.why} ('${v.specifier}')`);
  console.log(
    violations.length ? `${violations.length} forbidden imports` : 'imports: all allowed',
  );
  process.exit(violations.length ? 1 : 0);
}

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { ruleCatalog, ruleCatalogMarkdown } from './catalog';

test('every code is unique and documented', () => {
  const codes = ruleCatalog().map((e) => e.code);
  assert.equal(new Set(codes).size, codes.length);
  for (const entry of ruleCatalog()) {
    assert.ok(entry.doc.title && entry.doc.why.length > 40 && entry.doc.fix, entry.code);
  }
});

test('docs/rules.md is up to date (run `npm run docs:rules`)', () => {
  const file = path.join(__dirname, '..', '..', '..', 'docs', 'rules.md');
  assert.equal(fs.readFileSync(file, 'utf8'), ruleCatalogMarkdown());
});

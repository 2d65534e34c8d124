// Writes docs/rules.md from the rule files (`npm run docs:rules`).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ruleCatalogMarkdown } from '../engine/src/rules/catalog';

const target = path.join(__dirname, '..', 'docs', 'rules.md');
fs.mkdirSync(path.dirname(target), { recursive: true });
fs.writeFileSync(target, ruleCatalogMarkdown());
console.log(`wrote ${path.relative(process.cwd(), target)}`);

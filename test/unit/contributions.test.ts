// package.json's contributions agree with the code: every setting is declared
// once in protocol/src/settings.ts with the same default and scope, and every
// command id has exactly one handler in the command table (client/src/commandIds.ts;
// the CommandHandlers type makes the table cover them all).

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { COMMANDS, SERVER_COMMANDS, SERVER_RUNNING_CONTEXT } from '../../client/src/commandIds';
import { DEFAULT_SERVER_SETTINGS, readServerSettings, SETTINGS } from '../../protocol/src/settings';

const ROOT = path.resolve(__dirname, '..', '..');
const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  contributes: {
    commands: { command: string; enablement?: string }[];
    configuration: { properties: Record<string, { default: unknown; scope?: string }> };
    menus: Record<string, { command: string }[]>;
    walkthroughs: { steps: { description: string }[] }[];
    viewsWelcome: { contents: string }[];
  };
};

function readSources(dir: string): string {
  let text = '';
  for (const entry of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = path.join(dir, entry.name);
    if (entry.isDirectory()) text += readSources(rel);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts'))
      text += fs.readFileSync(path.join(ROOT, rel), 'utf8');
  }
  return text;
}

test('every setting in package.json is declared once, with the same default and scope', () => {
  const properties = manifest.contributes.configuration.properties;
  assert.deepEqual(Object.keys(properties).sort(), SETTINGS.map((s) => `tunelab.${s.key}`).sort());
  for (const setting of SETTINGS) {
    const declared = properties[`tunelab.${setting.key}`];
    assert.deepEqual(declared.default, setting.default, `default of tunelab.${setting.key}`);
    assert.equal(declared.scope, setting.scope, `scope of tunelab.${setting.key}`);
  }
});

test("the server's settings default to the declared defaults", () => {
  const { settings, problems } = readServerSettings(undefined);
  assert.deepEqual(settings, DEFAULT_SERVER_SETTINGS);
  assert.deepEqual(problems, []);
  const flat: Record<string, unknown> = {
    'validate.enable': settings.validate.enable,
    'validate.delayMs': settings.validate.delayMs,
    rules: settings.rules,
    'hub.enable': settings.hub.enable,
    dialect: settings.dialect,
  };
  for (const setting of SETTINGS.filter((s) => s.readBy === 'server'))
    assert.deepEqual(flat[setting.key], setting.default, setting.key);
});

test('wrong setting values fall back to their defaults and are reported', () => {
  const { settings, problems } = readServerSettings({
    validate: { enable: 'yes', delayMs: -5 },
    rules: { 'lora-epochs': 'loud', warmup: 'off' },
    hub: { enable: 1 },
    dialect: 'unsloth',
  });
  assert.deepEqual(settings, { ...DEFAULT_SERVER_SETTINGS, rules: { warmup: 'off' } });
  assert.equal(problems.length, 5, problems.join('\n'));
});

test("the extension's settings are read through the settings module", () => {
  const client = readSources('client/src');
  for (const setting of SETTINGS.filter((s) => s.readBy === 'client'))
    assert.ok(
      client.includes(`clientSetting('${setting.key}'`),
      `client/src reads tunelab.${setting.key} with clientSetting()`,
    );
  // vscode-languageclient reads `<id>.trace.server` itself: the client id must be `tunelab`.
  assert.match(client, /new LanguageClient\(\s*'tunelab'/);
  assert.ok(!/getConfiguration\('tunelab\./.test(client), 'no setting read around the module');
});

test('the command table matches contributes.commands', () => {
  const contributed = manifest.contributes.commands.map((c) => c.command).sort();
  assert.deepEqual(Object.values(COMMANDS).sort(), contributed);
});

test('menus, the walkthrough and the welcome view name only existing commands', () => {
  const known = new Set<string>(Object.values(COMMANDS));
  for (const [menu, items] of Object.entries(manifest.contributes.menus))
    for (const item of items) assert.ok(known.has(item.command), `${menu}: ${item.command}`);
  const texts = [
    ...manifest.contributes.walkthroughs.flatMap((w) => w.steps.map((s) => s.description)),
    ...manifest.contributes.viewsWelcome.map((v) => v.contents),
  ];
  for (const text of texts)
    for (const [, id] of text.matchAll(/command:(tunelab\.[\w.]+)/g))
      assert.ok(known.has(id), `link to ${id}`);
});

test('commands that ask the language server are disabled while it is down', () => {
  for (const id of SERVER_COMMANDS) {
    const command = manifest.contributes.commands.find((c) => c.command === id);
    assert.match(command?.enablement ?? '', new RegExp(SERVER_RUNNING_CONTEXT.replace('.', '\\.')));
  }
});

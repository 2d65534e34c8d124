// Each `tunelab.*` setting the language server reads reaches the code that
// uses it: one probe per setting, over real LSP, observing what the setting
// changes. A server setting declared in protocol/src/settings.ts without a
// probe here fails the first test (the dead `tunelab.dialect` would have).

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { SETTINGS } from '../../protocol/src/settings';
import { fileUri, LspTestClient } from './client';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tunelab-settings-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A LoRA config with one warning (lora-alpha-ratio: alpha 8 for r 64). */
const LORA = `method: lora
model:
  name_or_path: meta-llama/Llama-3.2-1B
lora:
  r: 64
  lora_alpha: 8
  target_modules: all-linear
`;

function uriOf(name: string, text?: string): string {
  const file = path.join(dir, name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  if (text !== undefined) fs.writeFileSync(file, text);
  return fileUri(file);
}

async function codesWith(settings: Record<string, unknown>, name: string, text: string) {
  const client = await LspTestClient.start(settings);
  try {
    const uri = uriOf(name);
    client.open(uri, text);
    return (await client.diagnosticsFor(uri)).map((d) => String(d.code));
  } finally {
    await client.stop();
  }
}

const probes: Record<string, () => Promise<void>> = {
  'validate.enable': async () => {
    assert.ok((await codesWith({}, 'a.finetune.yaml', LORA)).includes('lora-alpha-ratio'));
    assert.deepEqual(await codesWith({ validate: { enable: false } }, 'b.finetune.yaml', LORA), []);
  },
  'validate.delayMs': async () => {
    const client = await LspTestClient.start({ validate: { delayMs: 2000 } });
    try {
      const uri = uriOf('delay.finetune.yaml');
      client.open(uri, LORA);
      await client.diagnosticsFor(uri, 1);
      const version = client.change(uri, LORA.replace('lora_alpha: 8', 'lora_alpha: 128'));
      // With a 2 s debounce nothing for the new version can come within 0.5 s
      // (a slow machine only delays it further).
      await assert.rejects(client.diagnosticsFor(uri, version, 500), /no diagnostics/);
      const later = await client.diagnosticsFor(uri, version, 10_000);
      assert.ok(!later.some((d) => d.code === 'lora-alpha-ratio'));
    } finally {
      await client.stop();
    }
  },
  rules: async () => {
    const codes = await codesWith(
      { rules: { 'lora-alpha-ratio': 'off' } },
      'rules.finetune.yaml',
      LORA,
    );
    assert.ok(!codes.includes('lora-alpha-ratio'), codes.join(', '));
  },
  'hub.enable': async () => {
    // A model the catalog lacks: with the Hub on, the server tries to fetch it
    // (the test endpoint refuses, which it logs); with the Hub off it never asks.
    const text = LORA.replace('meta-llama/Llama-3.2-1B', 'some-org/not-in-catalog');
    for (const enable of [true, false]) {
      const client = await LspTestClient.start({ hub: { enable } });
      try {
        const uri = uriOf(`hub-${enable}.finetune.yaml`);
        client.open(uri, text);
        await client.diagnosticsFor(uri);
        const deadline = Date.now() + (enable ? 10_000 : 1_000);
        while (Date.now() < deadline && !client.logMessages.some((m) => /not-in-catalog/.test(m)))
          await new Promise((r) => setTimeout(r, 50));
        const tried = client.logMessages.some((m) => /not-in-catalog/.test(m));
        assert.equal(tried, enable, `hub.enable ${enable}: ${client.logMessages.join(' | ')}`);
      } finally {
        await client.stop();
      }
    }
  },
  dialect: async () => {
    // A plain YAML file that auto-detection leaves alone is read as Axolotl when the setting says so.
    const text = 'learning_rate: 0.0002\nnot_an_axolotl_key: 1\n';
    assert.deepEqual(await codesWith({}, 'plain.yaml', text), []);
    const codes = await codesWith({ dialect: 'axolotl' }, 'plain2.yaml', text);
    assert.ok(codes.length > 0, 'the file is checked as an Axolotl config');
  },
};

test('every server setting has a probe', () => {
  const serverKeys = SETTINGS.filter((s) => s.readBy === 'server').map((s) => s.key);
  assert.deepEqual(Object.keys(probes).sort(), [...serverKeys].sort());
});

for (const [key, probe] of Object.entries(probes)) {
  test(`tunelab.${key} reaches the server`, probe);
}

test('settings are read per workspace folder (resource scope)', async () => {
  const quietFolder = path.join(dir, 'quiet');
  const client = await LspTestClient.start((scopeUri) =>
    scopeUri?.startsWith(fileUri(quietFolder)) ? { rules: { 'lora-alpha-ratio': 'off' } } : {},
  );
  try {
    const loud = uriOf('loud/run.finetune.yaml');
    const quiet = uriOf('quiet/run.finetune.yaml');
    client.open(loud, LORA);
    client.open(quiet, LORA);
    const loudCodes = (await client.diagnosticsFor(loud)).map((d) => d.code);
    const quietCodes = (await client.diagnosticsFor(quiet)).map((d) => d.code);
    assert.ok(loudCodes.includes('lora-alpha-ratio'));
    assert.ok(!quietCodes.includes('lora-alpha-ratio'));
  } finally {
    await client.stop();
  }
});

test('a settings change re-checks open files with the new settings', async () => {
  let settings: Record<string, unknown> = {};
  const client = await LspTestClient.start(() => settings);
  try {
    const uri = uriOf('change.finetune.yaml');
    client.open(uri, LORA);
    assert.ok((await client.diagnosticsFor(uri)).some((d) => d.code === 'lora-alpha-ratio'));
    settings = { rules: { 'lora-alpha-ratio': 'off' } };
    client.changeSettings();
    const deadline = Date.now() + 10_000;
    let codes: unknown[] = ['lora-alpha-ratio'];
    while (Date.now() < deadline && codes.includes('lora-alpha-ratio')) {
      await new Promise((r) => setTimeout(r, 50));
      codes = (await client.diagnosticsFor(uri)).map((d) => d.code);
    }
    assert.ok(!codes.includes('lora-alpha-ratio'));
  } finally {
    await client.stop();
  }
});

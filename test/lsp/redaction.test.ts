// The language server's log never shows credentials written into a URL
// (HF_ENDPOINT=https://user:password@host), even when it reports a failed fetch.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { fileUri, LspTestClient } from './client';

test('a failed Hub fetch is logged without the endpoint credentials', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tunelab-redact-'));
  const client = await LspTestClient.start(
    {},
    {
      ...process.env,
      // Port 9 refuses at once: the fetch fails and the server logs why.
      HF_ENDPOINT: 'http://hub-user:s3cret-pass@127.0.0.1:9',
      TUNELAB_CACHE: dir,
    },
  );
  try {
    const uri = fileUri(path.join(dir, 'run.finetune.yaml'));
    client.open(uri, 'method: lora\nmodel:\n  name_or_path: some-org/private-model\n');
    await client.diagnosticsFor(uri);
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && !client.logMessages.some((m) => m.includes('private-model')))
      await new Promise((r) => setTimeout(r, 50));
    const log = client.logMessages.join('\n');
    assert.match(log, /private-model/, 'the failed fetch is reported');
    assert.match(log, /http:\/\/(\*\*\*@)?127\.0\.0\.1:9/);
    assert.ok(!log.includes('s3cret-pass') && !log.includes('hub-user'), log);
  } finally {
    await client.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// A model outside the catalog is fetched from the Hub in the background: a real
// HTTP server on loopback stands in for the Hub (HF_ENDPOINT), and checks the token.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import type { CodeLens } from 'vscode-languageserver-protocol';
import { fileUri, LspTestClient, REPO_ROOT } from './client';

const TOKEN = 'hf_test_token_123';
const CONFIG_JSON = {
  model_type: 'llama',
  hidden_size: 2048,
  num_hidden_layers: 16,
  num_attention_heads: 32,
  num_key_value_heads: 8,
  intermediate_size: 8192,
  vocab_size: 128256,
  tie_word_embeddings: true,
};

let server: http.Server;
let endpoint: string;
const requests: { url: string; auth: string | undefined }[] = [];

before(async () => {
  server = http.createServer((req, res) => {
    requests.push({ url: req.url ?? '', auth: req.headers.authorization });
    if (req.headers.authorization !== `Bearer ${TOKEN}`) {
      res.writeHead(401).end();
      return;
    }
    if (req.url === '/acme/tiny-llama/resolve/main/config.json') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(CONFIG_JSON));
    } else if (req.url === '/acme/tiny-llama/resolve/main/tokenizer_config.json') {
      res
        .writeHead(200)
        .end(JSON.stringify({ chat_template: '<|start_header_id|>{{ x }}<|eot_id|>' }));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server.close());

const CONFIG = `method: lora
model:
  name_or_path: acme/tiny-llama
lora: { r: 16, lora_alpha: 32, target_modules: all-linear }
data: { max_length: 1024 }
training: { gradient_checkpointing: true, per_device_train_batch_size: 1 }
hardware: { gpu: H100-80GB }
`;

test('the server fetches config.json with HF_TOKEN and re-checks: model-unknown goes, the estimate comes', async () => {
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'tunelab-hub-'));
  const client = await LspTestClient.start(
    {},
    { ...process.env, HF_ENDPOINT: endpoint, HF_TOKEN: TOKEN, TUNELAB_CACHE: cache },
  );
  try {
    const uri = fileUri('/tmp/hub.finetune.yaml');
    client.open(uri, CONFIG);
    const first = await client.diagnosticsFor(uri, 1);
    assert.ok(
      first.some((d) => d.code === 'model-unknown'),
      'unknown before the fetch',
    );
    const deadline = Date.now() + 10_000;
    let lenses: CodeLens[] = [];
    while (Date.now() < deadline) {
      lenses = await client.connection.sendRequest('textDocument/codeLens', {
        textDocument: { uri },
      });
      if (lenses[0]?.command?.title.startsWith('≈')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.match(lenses[0].command!.title, /GiB\/GPU on 1× H100-80GB · fits/);
    // The re-check's diagnostics are published beside the lens, not necessarily before it answers.
    let later = await client.diagnosticsFor(uri, 1);
    while (later.some((d) => d.code === 'model-unknown') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      later = await client.diagnosticsFor(uri, 1);
    }
    assert.ok(!later.some((d) => d.code === 'model-unknown'), 'model-unknown gone after the fetch');
    assert.ok(requests.some((r) => r.url.endsWith('/config.json') && r.auth === `Bearer ${TOKEN}`));
    assert.ok(fs.existsSync(path.join(cache, 'hub', 'acme--tiny-llama', 'main', 'config.json')));
  } finally {
    await client.stop();
  }
});

test('the CLI fetches too, and --offline does not', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tunelab-hub-cli-'));
  const file = path.join(dir, 'a.finetune.yaml');
  fs.writeFileSync(file, CONFIG);
  // Asynchronous: the stand-in Hub runs in this process and must keep answering.
  const run = (args: string[], env: NodeJS.ProcessEnv) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [path.join(REPO_ROOT, 'dist', 'cli.js'), ...args],
        { encoding: 'utf8', env: { ...process.env, ...env } },
        (error, stdout, stderr) =>
          resolve({
            status: error ? (typeof error.code === 'number' ? error.code : 1) : 0,
            stdout,
            stderr,
          }),
      );
    });
  const offline = await run(['estimate', '--offline', file], {
    HF_ENDPOINT: endpoint,
    HF_TOKEN: TOKEN,
    TUNELAB_CACHE: dir,
  });
  assert.equal(offline.status, 1);
  assert.match(offline.stderr, /architecture of acme\/tiny-llama is unknown/);
  const denied = await run(['estimate', file], {
    HF_ENDPOINT: endpoint,
    HF_TOKEN: 'wrong',
    TUNELAB_CACHE: dir,
  });
  assert.match(
    denied.stderr,
    /refused acme\/tiny-llama \(HTTP 401\): a gated or private model needs HF_TOKEN/,
  );
  const fetched = await run(['estimate', '--format', 'json', file], {
    HF_ENDPOINT: endpoint,
    HF_TOKEN: TOKEN,
    TUNELAB_CACHE: dir,
  });
  assert.equal(fetched.status, 0, fetched.stderr);
  const json = JSON.parse(fetched.stdout);
  assert.equal(json.model.source, 'hub');
  assert.equal(json.model.params_total, 1235814400);
  // The token never reaches output.
  assert.ok(!fetched.stdout.includes(TOKEN) && !fetched.stderr.includes(TOKEN));
});

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { findTokenizerFile } from '../../engine/src/data/tokenizer';
import { endpointAndAuthorization, fetchHubModel } from './hub';

test('credentials in HF_ENDPOINT become a Basic header and leave the URL', () => {
  const { endpoint, authorization } = endpointAndAuthorization(
    'https://proxy-user:p%40ss@hub.example:8443/mirror/',
    undefined,
  );
  assert.equal(endpoint, 'https://hub.example:8443/mirror');
  assert.equal(authorization, `Basic ${Buffer.from('proxy-user:p@ss').toString('base64')}`);
});

test('HF_TOKEN is the bearer token; a plain endpoint is kept as it is', () => {
  assert.deepEqual(endpointAndAuthorization('https://huggingface.co/', 'hf_abc'), {
    endpoint: 'https://huggingface.co',
    authorization: 'Bearer hf_abc',
  });
  assert.deepEqual(endpointAndAuthorization('http://127.0.0.1:9', undefined), {
    endpoint: 'http://127.0.0.1:9',
    authorization: undefined,
  });
});

// A real HTTP server on loopback stands in for the Hub.
async function withHub(
  files: Record<string, string>,
  run: (endpoint: string, cacheDir: string) => Promise<void>,
): Promise<void> {
  const server = http.createServer((req, res) => {
    const name = (req.url ?? '').split('/').pop() ?? '';
    if (name in files) res.writeHead(200, { 'content-type': 'application/json' }).end(files[name]);
    else res.writeHead(404).end('not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tunelab-hub-'));
  try {
    const { port } = server.address() as AddressInfo;
    await run(`http://127.0.0.1:${port}`, cacheDir);
  } finally {
    server.close();
    fs.rmSync(cacheDir, { recursive: true, force: true });
  }
}

const TOKENIZER_DIR = path.resolve(
  __dirname,
  '..',
  '..',
  'runner',
  'bench',
  'results',
  'whole-runs-tokenizer',
);
const read = (name: string) => fs.readFileSync(path.join(TOKENIZER_DIR, name), 'utf8');

test('tokenizer.json is cached beside config.json, where the engine counts tokens with it', async () => {
  await withHub(
    {
      'config.json': read('config.json'),
      'tokenizer_config.json': read('tokenizer_config.json'),
      'tokenizer.json': read('tokenizer.json'),
    },
    async (endpoint, cacheDir) => {
      const result = await fetchHubModel('acme/tiny', { endpoint, cacheDir });
      assert.ok(result.ok, result.ok ? '' : result.error);
      const file = path.join(result.dir, 'tokenizer.json');
      assert.equal(fs.readFileSync(file, 'utf8'), read('tokenizer.json'));
      assert.equal(findTokenizerFile('acme/tiny', undefined, cacheDir, undefined), file);
    },
  );
});

test('a model without tokenizer.json (or a broken one) is still fetched', async () => {
  await withHub({ 'config.json': read('config.json') }, async (endpoint, cacheDir) => {
    const result = await fetchHubModel('acme/tiny', { endpoint, cacheDir });
    assert.ok(result.ok);
    assert.equal(fs.existsSync(path.join(result.dir, 'tokenizer.json')), false);
  });
  await withHub(
    { 'config.json': read('config.json'), 'tokenizer.json': '{"model": ' },
    async (endpoint, cacheDir) => {
      const result = await fetchHubModel('acme/tiny', { endpoint, cacheDir });
      assert.ok(result.ok);
      assert.equal(fs.existsSync(path.join(result.dir, 'tokenizer.json')), false);
    },
  );
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { endpointAndAuthorization } from './hub';

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

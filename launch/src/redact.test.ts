import assert from 'node:assert/strict';
import { test } from 'node:test';
import { redactUrlCredentials } from './redact';

test('user and password of a URL are replaced, the rest of the message kept', () => {
  assert.equal(
    redactUrlCredentials(
      'could not fetch org/m from https://alice:s3cret@hub.example.com: timed out',
    ),
    'could not fetch org/m from https://***@hub.example.com: timed out',
  );
});

test('a lone token as user name, and a password containing @, are redacted whole', () => {
  assert.equal(redactUrlCredentials('http://hf_abc123@host/x'), 'http://***@host/x');
  assert.equal(redactUrlCredentials('https://bob:p@ss@host:8080/a'), 'https://***@host:8080/a');
});

test('every URL of a text is redacted; inside JSON the quotes survive', () => {
  const json = JSON.stringify({ a: 'see https://u:p@one.org', b: 'and ftp://x@two.org/f' });
  const redacted = redactUrlCredentials(json);
  assert.deepEqual(JSON.parse(redacted), {
    a: 'see https://***@one.org',
    b: 'and ftp://***@two.org/f',
  });
});

test('text without URL credentials is unchanged', () => {
  for (const text of [
    'https://huggingface.co/org/model',
    'run 1 started on ssh on alice@gpu-box (pid 12)',
    'git@github.com:org/repo.git',
    'https://host/path?email=a@b.c',
    'mail me: a@b.c',
    '',
  ])
    assert.equal(redactUrlCredentials(text), text);
});

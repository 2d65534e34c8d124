// Quoting and host checks, proven against a real POSIX shell: whatever a
// config holds comes back out of `sh` byte for byte and runs nothing.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { test } from 'node:test';
import {
  checkEnvName,
  exportLines,
  parseSshDestination,
  shPath,
  shQuote,
  UnsafeValueError,
} from '../../launch/src/shell';
import { CANARY, NASTY_VALUES } from './infra';

const canary = CANARY;

function sh(script: string): string {
  const result = spawnSync('sh', ['-c', script], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout;
}

test('shQuote: every value comes back out of sh unchanged and runs nothing', () => {
  for (const value of NASTY_VALUES) {
    assert.equal(sh(`printf '%s' ${shQuote(value)}`), value, JSON.stringify(value));
  }
  assert.equal(fs.existsSync(canary), false, 'a quoted value was executed');
});

test('shQuote refuses NUL, which no command line can carry', () => {
  assert.throws(() => shQuote('a\0b'), UnsafeValueError);
});

test('exportLines: environment values survive sh exactly', () => {
  const env = Object.fromEntries(NASTY_VALUES.map((value, i) => [`V${i}`, value]));
  const script =
    exportLines(env, 'launch.env') +
    NASTY_VALUES.map((_, i) => `printf '%s\\0' "$V${i}"`).join('\n');
  assert.deepEqual(sh(script).split('\0').slice(0, -1), NASTY_VALUES);
  assert.equal(fs.existsSync(canary), false);
});

test('environment names: only shell identifiers', () => {
  assert.equal(checkEnvName('HF_TOKEN', 'x'), 'HF_TOKEN');
  for (const bad of ['A-B', '1A', 'A;B', 'A B', '$(id)', 'A=B', ''])
    assert.throws(() => checkEnvName(bad, 'launch.env'), UnsafeValueError, bad);
});

test('shPath keeps ~ for the remote shell and quotes the rest', () => {
  assert.equal(shPath('~'), '"$HOME"');
  assert.equal(shPath("~/it's here"), `"$HOME"/'it'\\''s here'`);
  assert.equal(shPath('/abs/$(x)'), `'/abs/$(x)'`);
  assert.throws(() => shPath('~root/x'), UnsafeValueError);
  const home = os.homedir();
  assert.equal(sh(`printf '%s' ${shPath('~/a b')}`), `${home}/a b`);
});

test('hosts: aliases, user@host[:port], [v6]:port pass', () => {
  assert.deepEqual(parseSshDestination('gpu-box', 'h'), {
    destination: 'gpu-box',
    port: undefined,
  });
  assert.deepEqual(parseSshDestination('me@10.0.0.5:2222', 'h'), {
    destination: 'me@10.0.0.5',
    port: 2222,
  });
  assert.deepEqual(parseSshDestination('me@host.example.org', 'h', 22), {
    destination: 'me@host.example.org',
    port: 22,
  });
  assert.deepEqual(parseSshDestination('[::1]:2200', 'h'), { destination: '::1', port: 2200 });
});

test('hosts: options, shell characters, spaces and bad ports are refused', () => {
  for (const bad of [
    '-oProxyCommand=touch /tmp/x',
    '-p',
    'host;id',
    'host id',
    '$(id)',
    '`id`',
    'host\nother',
    "ho'st",
    'a@b@c',
    'host:99999',
    'user@',
    '',
  ])
    assert.throws(() => parseSshDestination(bad, 'launch.ssh.host'), UnsafeValueError, bad);
});

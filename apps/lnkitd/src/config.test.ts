import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parsePeerAddress } from './api.ts';
import { ConfigError, loadConfig } from './config.ts';

const dir = mkdtempSync(join(tmpdir(), 'lnkitd-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    // A bad setting is a ConfigError (main.ts prints its message and exits 2), not a crash.
    assert.ok(e instanceof ConfigError, `a ConfigError, got ${String(e)}`);
    return e.message;
  }
  assert.fail('expected an error');
}

test('defaults: regtest on the embedded chain, loopback API, listening on 9735', () => {
  const c = loadConfig(['--datadir', dir], {});
  assert.equal(c.network, 'regtest');
  assert.equal(c.chain, 'embedded');
  assert.deepEqual(c.api, { host: '127.0.0.1', port: 9736 });
  assert.deepEqual(c.listen, { host: '127.0.0.1', port: 9735 });
  assert.equal(c.logLevel, 'info');
  assert.equal(c.placement, 'worker');
});

test('lnkit.conf, then the environment, then flags: later wins', () => {
  const d = join(dir, 'layered');
  mkdirSync(d);
  writeFileSync(
    join(d, 'lnkit.conf'),
    '# comment\nalias=from-file\nlog-level=debug\nlisten=127.0.0.1:1000\n',
  );
  const fileOnly = loadConfig(['--datadir', d], {});
  assert.equal(fileOnly.alias, 'from-file');
  assert.equal(fileOnly.logLevel, 'debug');
  const withEnv = loadConfig(['--datadir', d], { LNKIT_ALIAS: 'from-env', LNKIT_LISTEN: 'off' });
  assert.equal(withEnv.alias, 'from-env');
  assert.equal(withEnv.listen, null);
  assert.equal(withEnv.logLevel, 'debug');
  const withFlag = loadConfig(['--datadir', d, '--alias=from-flag'], { LNKIT_ALIAS: 'from-env' });
  assert.equal(withFlag.alias, 'from-flag');
});

test('--bitcoind-rpc selects bitcoind and needs credentials', () => {
  const c = loadConfig(
    ['--datadir', dir, '--bitcoind-rpc', 'http://127.0.0.1:18443', '--bitcoind-rpccookie', '/x/.cookie'],
    {},
  );
  assert.equal(c.chain, 'bitcoind');
  assert.equal(c.bitcoindRpcCookie, '/x/.cookie');
  assert.match(
    errorOf(() => loadConfig(['--datadir', dir, '--bitcoind-rpc', 'http://127.0.0.1:18443'], {})),
    /credentials/,
  );
  assert.match(
    errorOf(() => loadConfig(['--datadir', dir, '--chain', 'bitcoind'], {})),
    /--bitcoind-rpc URL/,
  );
});

test('bad values name the option and the value', () => {
  const cases: [string[], RegExp][] = [
    [['--network', 'moon'], /--network must be one of .*"moon"/],
    [['--listen', 'nowhere'], /--listen must be HOST:PORT.*"nowhere"/],
    [['--api', '0.0.0.0:80'], /--api must be on loopback/],
    [['--log-level', 'loud'], /--log-level must be one of/],
    [['--alias', 'x'.repeat(33)], /--alias must be at most 32 bytes/],
    [['--network', 'bitcoin'], /--chain embedded runs a regtest chain only/],
    [['--bitcoind-rpc', 'ftp://x', '--bitcoind-rpccookie', 'c'], /must be an http\(s\) URL/],
    [['--frobnicate', '1'], /unknown option --frobnicate/],
    [['--alias'], /--alias needs a value/],
    [['stray'], /unexpected argument "stray"/],
  ];
  for (const [args, re] of cases)
    assert.match(
      errorOf(() => loadConfig(['--datadir', dir, ...args], {})),
      re,
      args.join(' '),
    );
  const badFile = join(dir, 'badfile');
  mkdirSync(badFile);
  writeFileSync(join(badFile, 'lnkit.conf'), 'colour=blue\n');
  assert.match(
    errorOf(() => loadConfig(['--datadir', badFile], {})),
    /lnkit.conf:1: unknown setting "colour=blue"/,
  );
});

test('a password in --bitcoind-rpc never appears in an error', () => {
  const msg = errorOf(() =>
    loadConfig(['--datadir', dir, '--bitcoind-rpc', 'gopher://user:hunter2@host'], {}),
  );
  assert.doesNotMatch(msg, /hunter2/);
});

test('peer addresses: NODEID@HOST:PORT', () => {
  const id = `03${'ab'.repeat(32)}`;
  assert.deepEqual(parsePeerAddress(`${id}@127.0.0.1:9735`), { nodeId: id, host: '127.0.0.1', port: 9735 });
  assert.deepEqual(parsePeerAddress(`${id.toUpperCase()}@[::1]:9735`), {
    nodeId: id,
    host: '::1',
    port: 9735,
  });
  for (const bad of ['', `${id}@host`, `04${'ab'.repeat(32)}@h:1`, `${id}@h:0`, `${id}@h:70000`, 42]) {
    assert.throws(() => parsePeerAddress(bad), /parameter "peer"/, String(bad));
  }
  // 02 || 0x11..11 has the right shape, but no y satisfies the curve equation for that x.
  assert.throws(
    () => parsePeerAddress(`02${'11'.repeat(32)}@127.0.0.1:9735`),
    /parameter "peer" has a node id that is not a point on secp256k1/,
  );
});

import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { DEFAULT_API_LIMITS, parsePeerAddress } from './api.ts';
import { ConfigError, loadConfig, OPTIONS, usage } from './config.ts';

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

test('names are looked up in an explicit list: Object.prototype members are not options', () => {
  for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf']) {
    assert.match(
      errorOf(() => loadConfig(['--datadir', dir, `--${name}`, 'x'], {})),
      new RegExp(`unknown option --${name}`),
    );
    const d = mkdtempSync(join(dir, 'proto-'));
    writeFileSync(join(d, 'lnkit.conf'), `# line 1\n${name}=\n`);
    assert.match(
      errorOf(() => loadConfig(['--datadir', d], {})),
      new RegExp(`lnkit.conf:2: unknown setting "${name}="`),
    );
  }
  // Nor does the environment reach past the list.
  assert.equal(loadConfig(['--datadir', dir], { LNKIT_CONSTRUCTOR: 'x', LNKIT___PROTO__: 'x' }).alias, '');
});

/** True if the text holds a C0 or C1 control character or DEL (a terminal would act on it). */
const hasControl = (text: string) =>
  [...text].some((c) => c.charCodeAt(0) < 0x20 || (c >= '\x7f' && c <= '\x9f'));

test('a binary lnkit.conf is refused naming the file and line, and none of its bytes are echoed', () => {
  const d = mkdtempSync(join(dir, 'binary-'));
  const conf = join(d, 'lnkit.conf');
  writeFileSync(
    conf,
    Buffer.concat([Buffer.from('alias=ok\n'), Buffer.from([0x1b, 0x5b, 0x32, 0x4a, 0x07, 0x00])]),
  );
  const msg = errorOf(() => loadConfig(['--datadir', d], {}));
  assert.equal(
    msg,
    `${conf}:2: control character 0x1b at column 1; lnkit.conf holds name=value lines of text`,
  );
  writeFileSync(conf, Buffer.from([0x61, 0x3d, 0xff, 0xfe, 0x0a]));
  assert.equal(
    errorOf(() => loadConfig(['--datadir', d], {})),
    `${conf}:1: not UTF-8 text; lnkit.conf holds name=value lines`,
  );
  // A control character inside a value (C1 CSI here) is refused the same way.
  writeFileSync(conf, 'alias=a\u009b2Jb\n');
  assert.match(
    errorOf(() => loadConfig(['--datadir', d], {})),
    /lnkit\.conf:1: control character 0x9b at column 8/,
  );
  writeFileSync(conf, Buffer.alloc(100_000, 0x61));
  assert.match(
    errorOf(() => loadConfig(['--datadir', d], {})),
    /is 100000 bytes: not a config file/,
  );
  // CRLF line ends and tabs are text.
  writeFileSync(conf, 'alias=crlf\r\n\tlog-level = debug\r\n');
  assert.equal(loadConfig(['--datadir', d], {}).alias, 'crlf');
  // What the user typed comes back escaped.
  const typed = errorOf(() => loadConfig(['--datadir', d, '--network', 'x\x1b]0;owned\x07'], {}));
  assert.ok(!hasControl(typed), typed);
  assert.match(typed, /got "x\\x1b\]0;owned\\x07"/);
});

test('numbers: decimal digits within the range, naming the option', () => {
  for (const bad of ['0x10', '1e3', ' 7', '7 ', '-1', '+1', '1.5', '70000', '', '0o7', '١٢']) {
    assert.match(
      errorOf(() => loadConfig(['--datadir', dir, `--embedded-rpc-port=${bad}`], {})),
      /--embedded-rpc-port must be a whole number from 0 to 65535 in decimal digits; got "/,
      JSON.stringify(bad),
    );
  }
  assert.equal(loadConfig(['--datadir', dir, '--embedded-rpc-port', '0018443'], {}).embeddedRpcPort, 18443);
  assert.match(
    errorOf(() => loadConfig(['--datadir', dir, '--api-max-connections', '0x10'], {})),
    /--api-max-connections must be a whole number from 1 to 10000/,
  );
  assert.match(
    errorOf(() => loadConfig(['--datadir', dir], { LNKIT_API_HEADERS_TIMEOUT_MS: '1e4' })),
    /--api-headers-timeout-ms must be a whole number/,
  );
});

test('API limits: defaults, each an option, and a headers timeout within the request timeout', () => {
  assert.deepEqual(loadConfig(['--datadir', dir], {}).apiLimits, DEFAULT_API_LIMITS);
  const c = loadConfig(
    [
      '--datadir',
      dir,
      '--api-max-connections=5',
      '--api-max-header-bytes=2048',
      '--api-max-body-bytes=4096',
      '--api-headers-timeout-ms=500',
      '--api-request-timeout-ms=800',
      '--api-keepalive-timeout-ms=300',
    ],
    {},
  );
  assert.deepEqual(c.apiLimits, {
    maxConnections: 5,
    maxHeaderBytes: 2048,
    maxBodyBytes: 4096,
    headersTimeoutMs: 500,
    requestTimeoutMs: 800,
    keepAliveTimeoutMs: 300,
  });
  assert.match(
    errorOf(() =>
      loadConfig(['--datadir', dir, '--api-headers-timeout-ms=5000', '--api-request-timeout-ms=1000'], {}),
    ),
    /--api-headers-timeout-ms \(5000\) must not be over --api-request-timeout-ms \(1000\)/,
  );
  assert.match(
    errorOf(() => loadConfig(['--datadir', dir, '--api-max-header-bytes=100'], {})),
    /from 1024 to 1048576/,
  );
});

test('a data dir or lnkit.conf every local user may write is refused unless allowed by flag or env', () => {
  const d = mkdtempSync(join(dir, 'open-'));
  chmodSync(d, 0o777);
  const msg = errorOf(() => loadConfig(['--datadir', d], {}));
  assert.match(
    msg,
    new RegExp(`^${d} is writable by every local user, .*chmod o-w.*--allow-world-writable-datadir`),
  );
  assert.equal(loadConfig(['--datadir', d, '--allow-world-writable-datadir'], {}).worldWritableDataDir, true);
  assert.equal(
    loadConfig(['--datadir', d], { LNKIT_ALLOW_WORLD_WRITABLE_DATADIR: 'true' }).worldWritableDataDir,
    true,
  );
  assert.match(
    errorOf(() => loadConfig(['--datadir', d, '--allow-world-writable-datadir=yes'], {})),
    /--allow-world-writable-datadir is true or false; got "yes"/,
  );
  chmodSync(d, 0o700);
  assert.equal(loadConfig(['--datadir', d], {}).worldWritableDataDir, false);
  // The file that could turn the check off cannot be the one to do it.
  writeFileSync(join(d, 'lnkit.conf'), 'allow-world-writable-datadir=true\n');
  assert.match(
    errorOf(() => loadConfig(['--datadir', d], {})),
    /lnkit.conf:1: allow-world-writable-datadir cannot be set in lnkit.conf/,
  );
  writeFileSync(join(d, 'lnkit.conf'), 'datadir=/elsewhere\n');
  assert.match(
    errorOf(() => loadConfig(['--datadir', d], {})),
    /datadir cannot be set in lnkit.conf/,
  );
  writeFileSync(join(d, 'lnkit.conf'), 'alias=x\n');
  chmodSync(join(d, 'lnkit.conf'), 0o666);
  assert.match(
    errorOf(() => loadConfig(['--datadir', d], {})),
    /lnkit.conf is writable by every local user/,
  );
});

test('--help lists every option', () => {
  const text = usage();
  for (const name of OPTIONS.keys()) assert.match(text, new RegExp(`--${name} `));
});

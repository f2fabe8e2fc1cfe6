/**
 * lnkitd's relay policy options: LDK 0.1.0's defaults (1000 msat, 0 ppm, 72 blocks), each set by
 * flag, lnkit.conf or environment, and a value outside BOLT 7's field (or under 18 blocks)
 * refused naming the option.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ConfigError, loadConfig, usage } from './config.ts';

const dir = mkdtempSync(join(tmpdir(), 'lnkitd-forward-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('forward policy: LDK’s defaults, then lnkit.conf, the environment and flags', () => {
  const d = join(dir, 'conf');
  mkdirSync(d);
  assert.deepEqual(loadConfig(['--datadir', d], {}).forwardPolicy, {
    feeBaseMsat: 1000,
    feeProportionalMillionths: 0,
    cltvExpiryDelta: 72,
  });
  writeFileSync(join(d, 'lnkit.conf'), 'fee-base-msat=0\nfee-ppm=5\n');
  const c = loadConfig(['--datadir', d, '--cltv-delta', '144'], { LNKIT_FEE_PPM: '100' });
  assert.deepEqual(c.forwardPolicy, { feeBaseMsat: 0, feeProportionalMillionths: 100, cltvExpiryDelta: 144 });
  for (const name of ['fee-base-msat', 'fee-ppm', 'cltv-delta'])
    assert.match(usage(), new RegExp(`--${name} `));
});

test('a policy outside BOLT 7’s fields is refused naming the option', () => {
  for (const [flag, value] of [
    ['--fee-base-msat', '4294967296'],
    ['--fee-ppm', '-1'],
    ['--cltv-delta', '17'],
    ['--cltv-delta', '65536'],
    ['--fee-base-msat', '1e3'],
  ] as const)
    assert.throws(
      () => loadConfig(['--datadir', join(dir, 'none'), flag, value], {}),
      (e: unknown) => e instanceof ConfigError && e.message.includes(flag),
      `${flag} ${value}`,
    );
});

test('per-peer forward limits: 483 in flight and no rate limit by default, each set by flag; a bad one named', () => {
  const d = join(dir, 'limits');
  mkdirSync(d);
  assert.deepEqual(loadConfig(['--datadir', d], {}).forwardPeerLimits, { maxInFlight: 483, perSecond: 0 });
  const c = loadConfig(
    ['--datadir', d, '--max-forwards-in-flight-per-peer', '50', '--max-forwards-per-second-per-peer', '20'],
    {},
  );
  assert.deepEqual(c.forwardPeerLimits, { maxInFlight: 50, perSecond: 20 });
  for (const name of ['max-forwards-in-flight-per-peer', 'max-forwards-per-second-per-peer'])
    assert.match(usage(), new RegExp(`--${name} `));
  assert.throws(
    () => loadConfig(['--datadir', d, '--max-forwards-in-flight-per-peer', '0'], {}),
    (e: unknown) => e instanceof ConfigError && e.message.includes('--max-forwards-in-flight-per-peer'),
  );
});

test('the MPP timeout: 60 s by default, set by flag or lnkit.conf; a bad one named', () => {
  const d = join(dir, 'mpp');
  mkdirSync(d);
  assert.equal(loadConfig(['--datadir', d], {}).mppTimeoutMs, 60_000);
  assert.equal(loadConfig(['--datadir', d, '--mpp-timeout-ms', '5000'], {}).mppTimeoutMs, 5000);
  writeFileSync(join(d, 'lnkit.conf'), 'mpp-timeout-ms=12000\n');
  assert.equal(loadConfig(['--datadir', d], {}).mppTimeoutMs, 12_000);
  assert.match(usage(), /--mpp-timeout-ms /);
  assert.throws(
    () => loadConfig(['--datadir', d, '--mpp-timeout-ms', '10'], {}),
    (e: unknown) => e instanceof ConfigError && /mpp-timeout-ms/.test(e.message),
  );
});

test('channel threads: none by default, set by flag or lnkit.conf; a bad count named', () => {
  const d = join(dir, 'channel-threads');
  mkdirSync(d);
  assert.equal(loadConfig(['--datadir', d], {}).channelThreads, 0);
  assert.equal(loadConfig(['--datadir', d, '--channel-threads', '2'], {}).channelThreads, 2);
  writeFileSync(join(d, 'lnkit.conf'), 'channel-threads=3\n');
  assert.equal(loadConfig(['--datadir', d], {}).channelThreads, 3);
  assert.match(usage(), /--channel-threads /);
  for (const bad of ['-1', '1.5', 'two', '65'])
    assert.throws(
      () => loadConfig(['--datadir', d, '--channel-threads', bad], {}),
      (e: unknown) => e instanceof ConfigError && /channel-threads/.test(e.message),
      bad,
    );
});

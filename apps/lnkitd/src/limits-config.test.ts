/**
 * lnkitd's options for the peer limits and the log's rotation: their defaults are the
 * libraries', each can be set by flag, lnkit.conf or environment, and a value outside its
 * range is refused naming the option.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { DEFAULT_PEER_LIMITS } from '@lnkit/node';
import { DEFAULT_LOG_MAX_BYTES, DEFAULT_LOG_MAX_FILES } from '@lnkit/runtime';
import { ConfigError, loadConfig, usage } from './config.ts';

const dir = mkdtempSync(join(tmpdir(), 'lnkitd-limits-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('peer limits and log rotation: the defaults, then lnkit.conf, the environment and flags', () => {
  const d = join(dir, 'conf');
  mkdirSync(d);
  const defaults = loadConfig(['--datadir', d], {});
  assert.deepEqual(defaults.peerLimits, { ...DEFAULT_PEER_LIMITS });
  assert.deepEqual(defaults.log, { maxBytes: DEFAULT_LOG_MAX_BYTES, maxFiles: DEFAULT_LOG_MAX_FILES });
  writeFileSync(join(d, 'lnkit.conf'), 'peer-max-inbound=100\npeer-max-inbound-per-ip=2\nlog-max-files=3\n');
  const c = loadConfig(['--datadir', d, '--peer-max-handshakes', '9', '--log-max-bytes', '1048576'], {
    LNKIT_PEER_MAX_QUEUE_BYTES: '524288',
  });
  assert.deepEqual(c.peerLimits, {
    maxInboundConnections: 100,
    maxInboundPerIp: 2,
    maxInboundHandshakes: 9,
    maxQueueBytes: 524_288,
  });
  assert.deepEqual(c.log, { maxBytes: 1_048_576, maxFiles: 3 });
  for (const name of [
    'peer-max-inbound',
    'peer-max-inbound-per-ip',
    'peer-max-handshakes',
    'peer-max-queue-bytes',
    'log-max-bytes',
    'log-max-files',
  ])
    assert.match(usage(), new RegExp(`--${name} `));
});

test('out of range or not decimal digits: refused naming the option', () => {
  for (const [flag, value] of [
    ['--peer-max-inbound', '0'],
    ['--peer-max-inbound-per-ip', '0x10'],
    ['--peer-max-queue-bytes', '1000'],
    ['--log-max-bytes', '100'],
    ['--log-max-files', '0'],
  ] as const) {
    assert.throws(
      () => loadConfig(['--datadir', dir, flag, value], {}),
      (e: unknown) => e instanceof ConfigError && e.message.startsWith(`${flag} must be a whole number`),
      `${flag} ${value}`,
    );
  }
});

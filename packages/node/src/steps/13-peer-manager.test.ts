/**
 * Step 13's log of peers coming and going: the node's own dials always at info; inbound ones,
 * which anyone who reaches the port can make as fast as handshakes go, at info once per kind
 * per interval with how many were held back, at debug otherwise.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LogLimiter, type PeerEvent } from '@lnkit/peer-net';
import { captureLogger } from '@lnkit/test-support';
import { INBOUND_PEER_LOG_INTERVAL_MS, logPeerEvent } from './13-peer-manager.ts';

const id = (i: number) => `02${i.toString(16).padStart(64, '0')}`;
const connected = (i: number, inbound: boolean): PeerEvent =>
  ({
    type: 'connected',
    nodeId: id(i),
    address: `10.0.0.${i}:9735`,
    inbound,
    features: {},
  }) as unknown as PeerEvent;
const disconnected = (i: number, inbound: boolean): PeerEvent => ({
  type: 'disconnected',
  nodeId: id(i),
  address: `10.0.0.${i}:9735`,
  inbound,
  reason: 'closed by the peer',
  code: undefined,
});

test("a flood of inbound peers is one info line per kind per interval; the node's own dials are all logged", () => {
  const log = captureLogger({ level: 'debug' });
  const limiter = new LogLimiter(INBOUND_PEER_LOG_INTERVAL_MS);
  const t0 = 1_000_000;
  for (let i = 0; i < 1000; i++) {
    logPeerEvent(log.logger, limiter, connected(i, true), t0 + i);
    logPeerEvent(log.logger, limiter, disconnected(i, true), t0 + i);
  }
  for (let i = 0; i < 3; i++) logPeerEvent(log.logger, limiter, connected(5000 + i, false), t0 + i);
  const info = log.lines.filter((l) => l.level === 30);
  assert.equal(info.filter((l) => l.inbound === true).length, 2, 'one connected and one disconnected line');
  assert.equal(info.filter((l) => l.inbound === false).length, 3, 'every outbound peer');
  assert.equal(log.lines.filter((l) => l.level === 20).length, 1998, 'the rest at debug');

  // The next interval: one line again, saying how many were held back.
  logPeerEvent(log.logger, limiter, connected(2000, true), t0 + INBOUND_PEER_LOG_INTERVAL_MS + 1000);
  const next = log.lines.at(-1)!;
  assert.equal(next.level, 30);
  assert.equal(next.suppressedSinceLast, 999);
  assert.match(String(next.msg), /peer connected \(999 more inbound since the last such line\)/);
});

/**
 * node.metrics(): every actor's metrics beside the peer manager's limits (as the node config
 * set them), what they hold and each hit counted, and the faults; and the same as Prometheus.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { captureLogger } from '@lnkit/test-support';
import { NodeBuilder, nodePrometheus } from './index.ts';
import { nodeConfig, useTestChain } from './test-fixtures.ts';

const { chain, dir } = useTestChain();

test('the peer limits set in the node config reach the peer actor, and metrics() and its Prometheus text show them', async () => {
  const node = await new NodeBuilder(
    nodeConfig(chain(), dir('metrics'), {
      peerLimits: {
        maxInboundConnections: 40,
        maxInboundPerIp: 3,
        maxInboundHandshakes: 7,
        maxQueueBytes: 65_536,
      },
    }),
  )
    .withLogger(captureLogger({ level: 'warn' }).logger)
    .build();
  try {
    node.reportFault('log-unwritable', 'cannot write the log file (ENOSPC) (test)');
    const m = await node.metrics();
    assert.ok(m.actors.some((a) => a.actor === 'peer-manager'));
    assert.ok(
      m.actors.some((a) => a.actor === 'channel-manager'),
      'the in-thread channel manager too',
    );
    assert.ok(m.peers, 'the peer manager answered');
    assert.equal(m.peers.limits.maxInboundConnections, 40);
    assert.equal(m.peers.limits.maxInboundPerIp, 3);
    assert.equal(m.peers.limits.maxInboundHandshakes, 7);
    assert.equal(m.peers.limits.maxQueueBytes, 65_536);
    assert.equal(m.peers.counters.inboundRefusedPerIp, 0);
    assert.deepEqual(
      m.faults.map((f) => f.kind),
      ['log-unwritable'],
    );
    const text = nodePrometheus(m);
    assert.match(text, /^lnkit_actor_messages_in_total\{actor="peer-manager"\} \d+$/m);
    assert.match(text, /^lnkit_peer_limit\{limit="maxInboundPerIp"\} 3$/m);
    assert.match(text, /^# TYPE lnkit_peer_inbound_refused_per_ip_total counter$/m);
    assert.match(text, /^lnkit_peer_inbound_refused_per_ip_total 0$/m);
    assert.match(text, /^lnkit_peer_queued_bytes 0$/m);
    assert.match(text, /^lnkit_node_fault\{kind="log-unwritable"\} 1$/m);
    assert.match(text, /^lnkit_node_fault\{kind="storage-unavailable"\} 0$/m);
    node.reportFault('log-unwritable', null);
    assert.deepEqual((await node.info()).faults, []);
  } finally {
    await node.stop();
  }
});

test('forwards in the Prometheus text: by outgoing channel, failures by reason, fees earned, in flight; channels per channel thread', () => {
  const text = nodePrometheus({
    actors: [],
    peers: null,
    faults: [],
    forwards: [
      {
        channel: 'aa'.repeat(32),
        settled: 3,
        failed: 2,
        inFlight: 1,
        feeMsat: 3000n,
        failures: { fee_insufficient: 2 },
      },
      {
        channel: '700x1x0',
        settled: 0,
        failed: 1,
        inFlight: 0,
        feeMsat: 0n,
        failures: { unknown_next_peer: 1 },
      },
    ],
    channelThreads: [
      { threadId: 7, channels: 2 },
      { threadId: 8, channels: 1 },
    ],
  });
  assert.match(text, /^lnkit_channel_thread_channels\{thread="0"\} 2$/m);
  assert.match(text, /^lnkit_channel_thread_channels\{thread="1"\} 1$/m);
  assert.equal(
    nodePrometheus({ actors: [], peers: null, faults: [], forwards: [], channelThreads: [] }).includes(
      'lnkit_channel_thread',
    ),
    false,
    'no channel threads, no such family',
  );
  const ch = 'aa'.repeat(32);
  assert.match(text, new RegExp(`^lnkit_forwards_total\\{channel="${ch}",status="settled"\\} 3$`, 'm'));
  assert.match(text, new RegExp(`^lnkit_forwards_total\\{channel="${ch}",status="failed"\\} 2$`, 'm'));
  assert.match(
    text,
    new RegExp(`^lnkit_forward_failures_total\\{channel="${ch}",reason="fee_insufficient"\\} 2$`, 'm'),
  );
  assert.match(text, /^lnkit_forward_failures_total\{channel="700x1x0",reason="unknown_next_peer"\} 1$/m);
  assert.match(text, new RegExp(`^lnkit_forward_fees_msat_total\\{channel="${ch}"\\} 3000$`, 'm'));
  assert.match(text, new RegExp(`^lnkit_forwards_in_flight\\{channel="${ch}"\\} 1$`, 'm'));
  // Each family's samples follow its own TYPE line, none interleaved with another's.
  const families = text
    .split('\n')
    .filter((l) => l.startsWith('lnkit_forward'))
    .map((l) => l.replace(/[{ ].*$/, ''));
  const runs = families.filter((f, i) => i === 0 || families[i - 1] !== f);
  assert.deepEqual(runs, [...new Set(runs)]);
});

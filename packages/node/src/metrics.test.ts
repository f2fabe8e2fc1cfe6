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

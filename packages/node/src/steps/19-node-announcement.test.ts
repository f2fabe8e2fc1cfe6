/**
 * Step 19's pieces without a node: the addresses an operator may announce (and the clear
 * refusals of what is not one), the color, and our node_announcement — signed so that lnkit's
 * gossip validator takes it once the graph knows a channel of ours, and refuses it before.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inThreadCrypto, secp } from '@lnkit/crypto';
import { GossipValidator, NetworkGraph, runBatch } from '@lnkit/gossip';
import { REGTEST_CHAIN_HASH, signChannelAnnouncement, testKey } from '@lnkit/gossip/testing';
import { aliasBytes, Features, formatAddress, nodeAnnouncement } from '@lnkit/wire';
import { NodeError } from '../errors.ts';
import { colorOf, nodeAddressOf, signedNodeAnnouncement } from './19-node-announcement.ts';

test('announced addresses: IPv4, IPv6 (with ::) and DNS names; anything else is refused by name', () => {
  assert.deepEqual(nodeAddressOf('203.0.113.7', 9735), {
    kind: 'ipv4',
    addr: Uint8Array.from([203, 0, 113, 7]),
    port: 9735,
  });
  const v6 = nodeAddressOf('2001:db8::1', 9735);
  assert.equal(v6.kind, 'ipv6');
  assert.equal(formatAddress(v6), '[2001:db8:0:0:0:0:0:1]:9735');
  assert.equal(formatAddress(nodeAddressOf('[::1]', 1)), '[0:0:0:0:0:0:0:1]:1');
  assert.equal(formatAddress(nodeAddressOf('1:2:3:4:5:6:7:8', 2)), '[1:2:3:4:5:6:7:8]:2');
  assert.deepEqual(nodeAddressOf('node.example.com', 9735), {
    kind: 'dns',
    hostname: 'node.example.com',
    port: 9735,
  });
  for (const [host, port, why] of [
    ['256.1.1.1', 9735, /not an IPv4 address/],
    ['1::2::3', 9735, /not an IPv6 address/],
    ['1:2:3', 9735, /not an IPv6 address/],
    ['bad host!', 9735, /not an IP address or a DNS name/],
    ['203.0.113.7', 0, /port from 1 to 65535/],
  ] as const)
    assert.throws(
      () => nodeAddressOf(host, port),
      (e: NodeError) => e instanceof NodeError && why.test(e.message),
      host,
    );
});

test('the color is RRGGBB, or the node id bytes after its prefix', () => {
  const nodeId = Uint8Array.from([2, 0xab, 0xcd, 0xef, 1, 2]);
  assert.deepEqual(colorOf(undefined, nodeId), Uint8Array.from([0xab, 0xcd, 0xef]));
  assert.deepEqual(colorOf('FF8800', nodeId), Uint8Array.from([0xff, 0x88, 0x00]));
  assert.throws(() => colorOf('orange', nodeId), /6 hex digits/);
});

test('our node_announcement is signed by the node key: the validator takes it once we have a channel, not before', async () => {
  const me = testKey(1);
  const fields = {
    nodeId: me.publicKey,
    features: Features.of({ optional: ['gossip_queries'] }),
    timestamp: Math.floor(Date.now() / 1000),
    rgbColor: Uint8Array.from([1, 2, 3]),
    alias: aliasBytes('lnkit-test'),
    addresses: [nodeAddressOf('203.0.113.7', 9735)],
  };
  const raw = await signedNodeAnnouncement(fields, async (d) => secp.sign(d, me.privateKey));
  const decoded = nodeAnnouncement.decode(raw);
  assert.deepEqual(decoded.nodeId, me.publicKey);
  assert.deepEqual(decoded.alias, fields.alias);

  const graph = new NetworkGraph({ chainHash: REGTEST_CHAIN_HASH });
  const validator = new GossipValidator(graph);
  const nodeHex = Buffer.from(me.publicKey).toString('hex');
  await runBatch(validator, [{ peer: 't', raw }], { crypto: inThreadCrypto });
  assert.equal(graph.node(nodeHex)?.announcement, undefined, 'a node with no channel is not announced');

  const scid = 700n << 40n;
  const ann = signChannelAnnouncement({ scid, nodeA: me, nodeB: testKey(2) });
  await runBatch(validator, [{ peer: 't', raw: ann }], { crypto: inThreadCrypto });
  assert.ok(graph.channel(scid));
  await runBatch(validator, [{ peer: 't', raw }], { crypto: inThreadCrypto });
  const node = graph.node(nodeHex);
  assert.equal(node?.announcement?.alias, 'lnkit-test');
  assert.deepEqual(node?.announcement?.rgbColor, Uint8Array.from([1, 2, 3]));
  assert.deepEqual(node?.announcement?.addresses.map(formatAddress), ['203.0.113.7:9735']);

  // Signed by another key: refused.
  const forged = await signedNodeAnnouncement({ ...fields, timestamp: fields.timestamp + 1 }, async (d) =>
    secp.sign(d, testKey(2).privateKey),
  );
  await runBatch(validator, [{ peer: 't', raw: forged }], { crypto: inThreadCrypto });
  assert.equal(graph.node(nodeHex)?.announcement?.timestamp, fields.timestamp);
});

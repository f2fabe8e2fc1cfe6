// BOLT 7's receiver rules for channel_announcement, channel_update and node_announcement, one
// test per rule, on messages signed here with test keys. Each quotes the BOLT line it checks.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { inThreadCrypto } from '@lnkit/crypto';
import { Features } from '@lnkit/wire';
import { NetworkGraph } from './graph.ts';
import {
  CHANNEL_UNKNOWN_REQUIRED_FEATURES,
  EDGE_DISABLED,
  EDGE_ROUTABLE,
  NODE_UNKNOWN_REQUIRED_FEATURES,
} from './graph-view.ts';
import { GossipRateLimiter } from './rate-limit.ts';
import {
  breakSignature,
  orderedNodes,
  REGTEST_CHAIN_HASH,
  signChannelAnnouncement,
  signChannelUpdate,
  signNodeAnnouncement,
  type TestChannel,
  testKey,
} from './testing.ts';
import { fundingScriptPubKey, type UtxoLookup, type UtxoResult } from './utxo.ts';
import { GossipValidator, runBatch, type ValidatorOptions } from './validate.ts';

const NOW_MS = 1_800_000_000_000;
const NOW = NOW_MS / 1000;
const SCID = (600_000n << 40n) | (5n << 16n) | 1n;
const A = testKey(1);
const B = testKey(2);
const C = testKey(3);
const D = testKey(4);
const [N1, N2] = orderedNodes({ nodeA: A, nodeB: B });
const MAINNET = Uint8Array.from(
  Buffer.from('6fe28c0ab6f1b372c1a6a246ae63f74f931e8365e15a089c68d6190000000000', 'hex'),
);

function setup(options: ValidatorOptions & { utxo?: UtxoLookup } = {}) {
  const graph = new NetworkGraph({ chainHash: REGTEST_CHAIN_HASH });
  const validator = new GossipValidator(graph, options);
  const run = async (...raws: Uint8Array[]) => {
    const r = await runBatch(
      validator,
      raws.map((raw) => ({ peer: 'peer', raw })),
      { crypto: inThreadCrypto, now: () => NOW_MS, ...(options.utxo ? { utxo: options.utxo } : {}) },
    );
    return { ...r, outcomes: raws.map((_, i) => r.batch.outcomeOf(i)) };
  };
  return { graph, validator, run };
}

const announce = (extra: Partial<TestChannel> = {}) =>
  signChannelAnnouncement({ scid: SCID, nodeA: A, nodeB: B, ...extra });
const update = (extra: Partial<Parameters<typeof signChannelUpdate>[0]> = {}) =>
  signChannelUpdate({ scid: SCID, signer: N1, direction: 0, timestamp: NOW, ...extra });

/** A chain that knows one output: at SCID, paying to A's and B's funding keys, 7 confirmations. */
function chainWith(result: Partial<Record<string, UtxoResult>> = {}): UtxoLookup & { asked: bigint[] } {
  const ca = announce();
  const o = 258 + 2 + 32 + 8 + 66;
  const asked: bigint[] = [];
  return {
    asked,
    async lookup(scid) {
      asked.push(scid);
      const r = result[String(scid)];
      if (r) return r;
      if (scid !== SCID) return { status: 'missing' };
      return {
        status: 'unspent',
        scriptPubKey: fundingScriptPubKey(ca, o, ca, o + 33),
        valueSat: 1_000_000n,
        txid: new Uint8Array(32).fill(9),
        confirmations: 7,
      };
    },
  };
}

describe('channel_announcement', () => {
  test('a valid one is stored with both nodes, and queued for relay ("SHOULD queue the message for rebroadcasting")', async () => {
    const { graph, run } = setup();
    const r = await run(announce());
    assert.deepEqual(r.outcomes, ['accepted']);
    const ch = graph.channel(SCID)!;
    assert.deepEqual(ch.nodeId1, N1.publicKey);
    assert.deepEqual(ch.nodeId2, N2.publicKey);
    assert.equal(graph.stats().nodes, 2);
    assert.equal(r.relay.length, 1);
    assert.equal(r.relay[0]!.type, 256);
  });

  for (const [name, at] of [
    ['node_signature_1', 2],
    ['node_signature_2', 66],
    ['bitcoin_signature_1', 130],
    ['bitcoin_signature_2', 194],
  ] as const) {
    test(`a bad ${name}: "SHOULD send a warning ... MUST ignore the message"`, async () => {
      const { graph, run } = setup();
      const raw = announce();
      raw[at + 5]! ^= 1;
      const r = await run(raw);
      assert.deepEqual(r.outcomes, ['bad-signature']);
      assert.deepEqual(r.reactions, [
        { peer: 'peer', kind: 'channel_announcement', outcome: 'bad-signature', reaction: 'warn' },
      ]);
      assert.equal(graph.channel(SCID), undefined);
      assert.equal(graph.stats().nodes, 0);
    });
  }

  test('"if the specified chain_hash is unknown to the receiver: MUST ignore the message" (no signature checked)', async () => {
    const { graph, run } = setup();
    const r = await run(announce({ chainHash: MAINNET }));
    assert.deepEqual(r.outcomes, ['unknown-chain']);
    assert.equal(r.batch.checksSignatures(0), false);
    assert.deepEqual(r.reactions, []);
    assert.equal(graph.stats().channels, 0);
  });

  test('"if there is an unknown even bit in the features field: MUST NOT attempt to route messages through the channel"', async () => {
    const { graph, run } = setup();
    await run(announce({ features: Features.fromBits([100]) }), update());
    const c = graph.channelIndex(SCID);
    const cols = graph.columns();
    assert.ok(cols.channelFlags[c]! & CHANNEL_UNKNOWN_REQUIRED_FEATURES);
    assert.equal(cols.edgeFlags[c * 2]! & EDGE_ROUTABLE, 0);
    // An unknown odd bit is fine ("it's OK to be odd").
    const other = setup();
    await other.run(announce({ features: Features.fromBits([101]) }), update());
    assert.ok(other.graph.columns().edgeFlags[0]! & EDGE_ROUTABLE);
  });

  test('a copy of a known announcement is a duplicate, with no signature check', async () => {
    const { run } = setup();
    await run(announce());
    const r = await run(announce());
    assert.deepEqual(r.outcomes, ['duplicate']);
    assert.equal(r.batch.checksSignatures(0), false);
    // Two copies in one batch: one check.
    const fresh = setup();
    const both = await fresh.run(announce(), announce());
    assert.deepEqual(both.outcomes, ['accepted', 'duplicate']);
    assert.equal(both.batch.signatures.length, 4);
  });

  test('a channel with itself (node_id_1 = node_id_2) is ignored', async () => {
    const { run } = setup();
    const r = await run(signChannelAnnouncement({ scid: SCID, nodeA: A, nodeB: A }));
    assert.deepEqual(r.outcomes, ['self-channel']);
  });

  test('fields after the known ones are signed and kept ("including any future fields appended to the end")', async () => {
    const { graph, run } = setup();
    const r = await run(announce({ extraData: Uint8Array.of(1, 2, 3) }));
    assert.deepEqual(r.outcomes, ['accepted']);
    assert.equal(graph.messages.channel(SCID)!.announcement.length, announce().length + 3);
    // "MAY choose NOT to for messages longer than the minimum expected length": over 1 KB, kept, not relayed.
    const big = setup();
    const rb = await big.run(announce({ extraData: new Uint8Array(2000) }));
    assert.deepEqual(rb.outcomes, ['accepted']);
    assert.equal(rb.relay.length, 0);
  });

  test('a message cut short is malformed, and warned about', async () => {
    const { run } = setup();
    const r = await run(announce().subarray(0, 300));
    assert.deepEqual(r.outcomes, ['malformed']);
    assert.equal(r.reactions[0]?.reaction, 'warn');
  });

  describe('the funding output, on a chain source', () => {
    test('unspent, P2WSH of the two bitcoin keys: accepted, with the output value as capacity', async () => {
      const chain = chainWith();
      const { graph, run } = setup({ utxo: chain });
      const r = await run(announce());
      assert.deepEqual(r.outcomes, ['accepted']);
      assert.equal(graph.channel(SCID)!.capacitySat, 1_000_000n);
      assert.deepEqual(chain.asked, [SCID]);
    });

    test('"if the short_channel_id\'s output ... is spent: MUST ignore the message"', async () => {
      const { graph, run } = setup({ utxo: chainWith({ [String(SCID)]: { status: 'spent' } }) });
      assert.deepEqual((await run(announce())).outcomes, ['utxo-spent']);
      assert.equal(graph.stats().channels, 0);
    });

    test('no such output: ignored', async () => {
      const { run } = setup({ utxo: chainWith({ [String(SCID)]: { status: 'missing' } }) });
      assert.deepEqual((await run(announce())).outcomes, ['utxo-missing']);
    });

    test('"does NOT correspond to a P2WSH (using bitcoin_key_1 and bitcoin_key_2)": ignored', async () => {
      // Signed by A and B, but with other funding keys than the output pays to.
      const { run } = setup({ utxo: chainWith() });
      const r = await run(announce({ bitcoinA: C, bitcoinB: D }));
      assert.deepEqual(r.outcomes, ['utxo-script-mismatch']);
    });

    test('"does NOT have at least 6 confirmations ... MAY accept the message if the output is close to 6"', async () => {
      const at = (confirmations: number): UtxoLookup => {
        const base = chainWith();
        return {
          lookup: async (s) => ({ ...((await base.lookup(s)) as object), confirmations }) as UtxoResult,
        };
      };
      assert.deepEqual((await setup({ utxo: at(3) }).run(announce())).outcomes, ['utxo-unconfirmed']);
      assert.deepEqual((await setup({ utxo: at(4) }).run(announce())).outcomes, ['accepted']);
    });

    test('a source that cannot answer decides nothing (ignored now, accepted when it comes again)', async () => {
      let down = true;
      const base = chainWith();
      const lookup: UtxoLookup = {
        lookup: async (s) => (down ? { status: 'unavailable', reason: 'down' } : base.lookup(s)),
      };
      const { run } = setup({ utxo: lookup });
      assert.deepEqual((await run(announce())).outcomes, ['utxo-unavailable']);
      down = false;
      assert.deepEqual((await run(announce())).outcomes, ['accepted']);
    });

    test('the chain is not asked about an announcement whose signatures fail', async () => {
      const chain = chainWith();
      const { run } = setup({ utxo: chain });
      assert.deepEqual((await run(breakSignature(announce()))).outcomes, ['bad-signature']);
      assert.deepEqual(chain.asked, []);
    });
  });

  test('"previously received a valid channel_announcement, for the same transaction ... but for a different node_id_1 or node_id_2: SHOULD blacklist ... AND forget any channels connected to them"', async () => {
    const { graph, validator, run } = setup();
    const other = (600_001n << 40n) | 1n;
    await run(announce(), signChannelAnnouncement({ scid: other, nodeA: A, nodeB: testKey(9) }));
    assert.equal(graph.stats().channels, 2);
    const r = await run(signChannelAnnouncement({ scid: SCID, nodeA: C, nodeB: D }));
    assert.deepEqual(r.outcomes, ['conflicting-announcement']);
    assert.equal(graph.stats().channels, 0, 'every channel of A, B, C and D is forgotten');
    assert.equal(validator.blacklist.size, 4);
    // "if node_id_1 OR node_id_2 are blacklisted: SHOULD ignore the message".
    const again = await run(
      signChannelAnnouncement({ scid: (600_002n << 40n) | 1n, nodeA: C, nodeB: testKey(10) }),
    );
    assert.deepEqual(again.outcomes, ['blacklisted']);
    assert.equal(again.batch.checksSignatures(0), false);
  });
});

describe('channel_update', () => {
  test("a valid update sets the direction's policy (direction 0 signed by node_id_1)", async () => {
    const { graph, run } = setup();
    const r = await run(
      announce(),
      update({
        feeBaseMsat: 7,
        feeProportionalMillionths: 8,
        cltvExpiryDelta: 9,
        htlcMinimumMsat: 10n,
        htlcMaximumMsat: 11n,
      }),
    );
    assert.deepEqual(r.outcomes, ['accepted', 'accepted']);
    const p = graph.channel(SCID)!.directions[0]!;
    assert.equal(p.feeBaseMsat, 7);
    assert.equal(p.feeProportionalMillionths, 8);
    assert.equal(p.cltvExpiryDelta, 9);
    assert.equal(p.htlcMinimumMsat, 10n);
    assert.equal(p.htlcMaximumMsat, 11n);
    assert.equal(p.routable, true);
    assert.equal(graph.channel(SCID)!.directions[1], undefined);
    assert.equal(r.relay.map((x) => x.type).join(), '256,258');
  });

  test('"MUST ignore channel_updates that do NOT correspond to one of its own channels" (unknown scid, no signature checked)', async () => {
    const { run } = setup();
    const r = await run(update());
    assert.deepEqual(r.outcomes, ['unknown-channel']);
    assert.equal(r.batch.checksSignatures(0), false);
  });

  test('"if signature is not a valid signature ... SHOULD send a warning and close the connection"', async () => {
    const { graph, run } = setup();
    await run(announce());
    const r = await run(breakSignature(update()));
    assert.deepEqual(r.outcomes, ['bad-signature']);
    assert.deepEqual(r.reactions, [
      { peer: 'peer', kind: 'channel_update', outcome: 'bad-signature', reaction: 'warn-and-close' },
    ]);
    assert.equal(graph.channel(SCID)!.directions[0], undefined);
  });

  test('"node_id_1 if the least-significant bit of flags is 0 or node_id_2 otherwise": signed by the other node, it fails', async () => {
    const { run } = setup();
    await run(announce());
    assert.deepEqual((await run(update({ signer: N2, direction: 0 }))).outcomes, ['bad-signature']);
    assert.deepEqual((await run(update({ signer: N2, direction: 1 }))).outcomes, ['accepted']);
  });

  test('"if the specified chain_hash value is unknown ...: MUST ignore the channel update"', async () => {
    const { run } = setup();
    await run(announce());
    assert.deepEqual((await run(update({ chainHash: MAINNET }))).outcomes, ['unknown-chain']);
  });

  test('timestamps: equal and same fields ignored; equal and different fields ignored; lower ignored; none checked', async () => {
    const { graph, run } = setup();
    await run(announce(), update({ timestamp: NOW - 10 }));
    // "if the fields below timestamp are equal: SHOULD ignore this message".
    const same = await run(update({ timestamp: NOW - 10 }));
    assert.deepEqual(same.outcomes, ['duplicate']);
    // "if the fields below timestamp differ: MAY blacklist this node_id" — we only ignore it.
    const differ = await run(update({ timestamp: NOW - 10, feeBaseMsat: 1 }));
    assert.deepEqual(differ.outcomes, ['same-timestamp-different']);
    // "if timestamp is lower than that of the last-received channel_update ...: SHOULD ignore the message".
    const older = await run(update({ timestamp: NOW - 20, feeBaseMsat: 2 }));
    assert.deepEqual(older.outcomes, ['stale']);
    for (const r of [same, differ, older]) assert.equal(r.batch.checksSignatures(0), false);
    assert.equal(graph.channel(SCID)!.directions[0]!.feeBaseMsat, 1000);
    // A newer one replaces it.
    assert.deepEqual((await run(update({ timestamp: NOW, feeBaseMsat: 3 }))).outcomes, ['accepted']);
    assert.equal(graph.channel(SCID)!.directions[0]!.feeBaseMsat, 3);
  });

  test('"if the timestamp is unreasonably far in the future: MAY discard"; older than two weeks: ignored (it would be pruned)', async () => {
    const { run } = setup();
    await run(announce());
    assert.deepEqual((await run(update({ timestamp: NOW + 2 * 86_400 }))).outcomes, ['timestamp-in-future']);
    assert.deepEqual((await run(update({ timestamp: NOW - 15 * 86_400 }))).outcomes, ['timestamp-too-old']);
    assert.deepEqual((await run(update({ timestamp: NOW + 3600 }))).outcomes, ['accepted']);
  });

  test('the disable bit: stored, and the direction is not routable', async () => {
    const { graph, run } = setup();
    await run(announce(), update({ disabled: true }));
    const flags = graph.columns().edgeFlags[0]!;
    assert.ok(flags & EDGE_DISABLED);
    assert.equal(flags & EDGE_ROUTABLE, 0);
    assert.equal(graph.channel(SCID)!.directions[0]!.disabled, true);
    await run(update({ timestamp: NOW + 1 }));
    assert.ok(graph.columns().edgeFlags[0]! & EDGE_ROUTABLE, 'a later update re-enables it');
  });

  test('"if htlc_maximum_msat < htlc_minimum_msat: SHOULD ignore this channel during route considerations"', async () => {
    const { graph, run } = setup();
    const r = await run(announce(), update({ htlcMinimumMsat: 5000n, htlcMaximumMsat: 4000n }));
    assert.deepEqual(r.outcomes, ['accepted', 'accepted']);
    assert.equal(graph.columns().edgeFlags[0]! & EDGE_ROUTABLE, 0);
  });

  test('"if htlc_maximum_msat is greater than channel capacity: ... SHOULD ignore this channel during route considerations"', async () => {
    const { graph, run } = setup({ utxo: chainWith() });
    // Capacity 1,000,000 sat = 1e9 msat.
    await run(announce(), update({ htlcMaximumMsat: 1_000_000_001n }));
    assert.equal(graph.columns().edgeFlags[0]! & EDGE_ROUTABLE, 0);
    await run(update({ timestamp: NOW + 1, htlcMaximumMsat: 1_000_000_000n }));
    assert.ok(
      graph.columns().edgeFlags[0]! & EDGE_ROUTABLE,
      '"otherwise: SHOULD consider the htlc_maximum_msat when routing"',
    );
  });

  test('"if the channel output has been spent: MUST ignore channel_updates, unless they have the disable bit set to 1"', async () => {
    const { graph, run } = setup();
    await run(announce(), update({ timestamp: NOW - 5 }));
    graph.markSpent(graph.channelIndex(SCID), 700_000);
    assert.deepEqual((await run(update({ timestamp: NOW - 4 }))).outcomes, ['channel-spent']);
    assert.deepEqual((await run(update({ timestamp: NOW - 3, disabled: true }))).outcomes, ['accepted']);
  });

  test('dont_forward ("MUST NOT forward such a channel_update to other peers") is not taken from gossip', async () => {
    const { run } = setup();
    await run(announce());
    assert.deepEqual((await run(update({ dontForward: true }))).outcomes, ['dont-forward']);
  });

  test("an update in the same batch as its announcement is checked against that announcement's key", async () => {
    const { run } = setup();
    assert.deepEqual((await run(announce(), update(), update({ signer: N2, direction: 1 }))).outcomes, [
      'accepted',
      'accepted',
      'accepted',
    ]);
    // If the announcement fails, its updates have no channel.
    const other = setup();
    assert.deepEqual((await other.run(breakSignature(announce()), update())).outcomes, [
      'bad-signature',
      'unknown-channel',
    ]);
  });

  test('fields after htlc_maximum_msat are signed ("including unknown fields following")', async () => {
    const { run } = setup();
    await run(announce());
    assert.deepEqual((await run(update({ extraData: Uint8Array.of(9, 9) }))).outcomes, ['accepted']);
  });

  test('without htlc_maximum_msat (130 bytes) it is malformed', async () => {
    const { run } = setup();
    await run(announce());
    assert.deepEqual((await run(update().subarray(0, 130))).outcomes, ['malformed']);
  });
});

describe('node_announcement', () => {
  const nodeAnn = (extra: Partial<Parameters<typeof signNodeAnnouncement>[0]> = {}) =>
    signNodeAnnouncement({ node: A, timestamp: NOW, alias: 'alice', ...extra });

  test('a valid one of a node with a channel is stored, its alias and addresses readable', async () => {
    const { graph, run } = setup();
    const r = await run(
      announce(),
      nodeAnn({ addresses: [{ kind: 'ipv4', addr: Uint8Array.of(1, 2, 3, 4), port: 9735 }] }),
    );
    assert.deepEqual(r.outcomes, ['accepted', 'accepted']);
    const info = graph.node(A.publicKey)!.announcement!;
    assert.equal(info.alias, 'alice');
    assert.deepEqual(info.addresses, [{ kind: 'ipv4', addr: Uint8Array.of(1, 2, 3, 4), port: 9735 }]);
    assert.equal(graph.stats().announcedNodes, 1);
  });

  test('"if node_id is NOT previously known from a channel_announcement message ...: SHOULD ignore the message"', async () => {
    const { run } = setup();
    const r = await run(nodeAnn());
    assert.deepEqual(r.outcomes, ['unknown-node']);
    assert.equal(r.batch.checksSignatures(0), false);
  });

  test('"if signature is NOT a valid signature ...: SHOULD send a warning ... MUST NOT process the message further"', async () => {
    const { graph, run } = setup();
    await run(announce());
    const r = await run(breakSignature(nodeAnn()));
    assert.deepEqual(r.outcomes, ['bad-signature']);
    assert.equal(r.reactions[0]?.reaction, 'warn');
    assert.equal(graph.node(A.publicKey)!.announcement, undefined);
  });

  test('"if node_id is NOT a valid compressed public key: SHOULD send a warning"', async () => {
    const { run } = setup();
    await run(announce());
    const raw = nodeAnn();
    raw[68 + 4] = 0x04; // the node_id's prefix (no features)
    const r = await run(raw);
    assert.deepEqual(r.outcomes, ['malformed']);
    assert.equal(r.reactions[0]?.reaction, 'warn');
  });

  test('"if timestamp is NOT greater than the last-received node_announcement from this node_id: SHOULD ignore the message"', async () => {
    const { graph, run } = setup();
    await run(announce(), nodeAnn({ alias: 'first' }));
    assert.deepEqual((await run(nodeAnn({ alias: 'same time' }))).outcomes, ['duplicate']);
    assert.deepEqual((await run(nodeAnn({ timestamp: NOW - 1, alias: 'older' }))).outcomes, ['stale']);
    assert.deepEqual((await run(nodeAnn({ timestamp: NOW + 1, alias: 'newer' }))).outcomes, ['accepted']);
    assert.equal(graph.node(A.publicKey)!.announcement!.alias, 'newer');
  });

  test('"if features field contains unknown even bits: ... MUST NOT route a payment through the node"', async () => {
    const { graph, run } = setup();
    await run(
      announce(),
      update({ signer: N1, direction: 0 }),
      update({ signer: N2, direction: 1 }),
      signNodeAnnouncement({ node: N1, timestamp: NOW, features: Features.fromBits([200]) }),
    );
    const n = graph.nodeIndex(N1.publicKey);
    const cols = graph.columns();
    assert.ok(cols.nodeFlags[n]! & NODE_UNKNOWN_REQUIRED_FEATURES);
    assert.equal(cols.edgeFlags[0]! & EDGE_ROUTABLE, 0, 'N1 forwards onto direction 0: not routable');
    assert.ok(cols.edgeFlags[1]! & EDGE_ROUTABLE, 'N2 → N1 ends at N1: still usable');
    // A newer announcement without the bit makes it routable again.
    await run(signNodeAnnouncement({ node: N1, timestamp: NOW + 1 }));
    assert.ok(graph.columns().edgeFlags[0]! & EDGE_ROUTABLE);
  });

  test('"if addrlen is insufficient to hold the address descriptors of the known types: SHOULD send a warning"', async () => {
    const { run } = setup();
    await run(announce());
    const raw = nodeAnn({ addresses: [{ kind: 'ipv4', addr: Uint8Array.of(1, 2, 3, 4), port: 9735 }] });
    // addrlen sits 72 bytes after the features (none here); claim 5 of the 7 bytes.
    const at = 68 + 72;
    assert.equal((raw[at]! << 8) | raw[at + 1]!, 7);
    const cut = new Uint8Array(raw.length - 2);
    cut.set(raw.subarray(0, at));
    cut[at] = 0;
    cut[at + 1] = 5;
    cut.set(raw.subarray(at + 2, at + 2 + 5), at + 2);
    const r = await run(cut);
    assert.deepEqual(r.outcomes, ['malformed']);
    assert.equal(r.reactions[0]?.reaction, 'warn');
  });

  test('address rules: port 0, Tor v2 and a second DNS name are ignored; two DNS names: "MUST not forward"', async () => {
    const { graph, run } = setup();
    const r = await run(
      announce(),
      nodeAnn({
        addresses: [
          { kind: 'ipv4', addr: Uint8Array.of(1, 1, 1, 1), port: 0 },
          { kind: 'ipv4', addr: Uint8Array.of(2, 2, 2, 2), port: 9735 },
          { kind: 'torv2', addr: new Uint8Array(10), port: 9735 },
          { kind: 'dns', hostname: 'a.example', port: 9735 },
          { kind: 'dns', hostname: 'b.example', port: 9735 },
        ],
      }),
    );
    assert.deepEqual(r.outcomes, ['accepted', 'accepted']);
    assert.deepEqual(
      graph.node(A.publicKey)!.announcement!.addresses.map((a) => (a.kind === 'dns' ? a.hostname : a.kind)),
      ['ipv4', 'a.example'],
    );
    assert.deepEqual(
      r.relay.map((x) => x.type),
      [256],
      'the node_announcement is applied, not relayed',
    );
  });

  test('a node_announcement after its channel in the same batch is accepted', async () => {
    const { run } = setup();
    assert.deepEqual((await run(announce(), nodeAnn())).outcomes, ['accepted', 'accepted']);
  });
});

test("rate limit: messages past a peer's budget are dropped unchecked and counted", async () => {
  const limiter = new GossipRateLimiter({ burst: 2, perSecond: 0.001 });
  const { validator, run } = setup({ rateLimiter: limiter });
  const r = await run(
    announce(),
    signChannelAnnouncement({ scid: SCID + 1n, nodeA: A, nodeB: C }),
    signChannelAnnouncement({ scid: SCID + 2n, nodeA: A, nodeB: D }),
  );
  assert.deepEqual(r.outcomes, ['accepted', 'accepted', 'rate-limited']);
  assert.equal(validator.counters.get('channel_announcement', 'rate-limited'), 1);
  // Copies are dropped before the limiter: they cost no budget.
  assert.deepEqual((await run(announce())).outcomes, ['duplicate']);
  // A peer we asked for gossip is exempt.
  limiter.solicited('peer', NOW_MS);
  assert.deepEqual((await run(signChannelAnnouncement({ scid: SCID + 2n, nodeA: A, nodeB: D }))).outcomes, [
    'accepted',
  ]);
});

test('bad input never throws and never changes the graph: random mutations of valid messages', async () => {
  const { graph, validator, run } = setup();
  const valid = [
    announce(),
    update(),
    update({ signer: N2, direction: 1 }),
    signNodeAnnouncement({
      node: A,
      timestamp: NOW,
      addresses: [{ kind: 'dns', hostname: 'x.example', port: 1 }],
    }),
  ];
  // Deterministic pseudo-random mutations.
  let seed = 7;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const mutants: Uint8Array[] = [];
  for (let k = 0; k < 400; k++) {
    const base = valid[rnd(valid.length)]!;
    const m = rnd(3);
    let out: Uint8Array;
    if (m === 0) {
      out = new Uint8Array(base);
      for (let j = 0; j < 1 + rnd(4); j++) out[2 + rnd(out.length - 2)] = rnd(256);
    } else if (m === 1) out = base.slice(0, 2 + rnd(base.length - 2));
    else {
      out = new Uint8Array(base.length + 1 + rnd(40));
      out.set(base);
      for (let j = base.length; j < out.length; j++) out[j] = rnd(256);
    }
    mutants.push(out);
  }
  const r = await run(...mutants);
  // Anything accepted must be byte-identical to a message that was signed: every byte after the
  // type is covered by a signature, except the signatures themselves, which libsecp256k1 checks
  // strictly (low-S). Nothing else may reach the graph.
  const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);
  let identical = 0;
  r.outcomes.forEach((o, i) => {
    const isCopy = valid.some((v) => same(v, mutants[i]!));
    if (isCopy) identical++;
    else assert.notEqual(o, 'accepted', `mutant ${i} was accepted`);
  });
  if (identical === 0) assert.equal(graph.stats().channels, 0);
  // And the valid ones still go in afterwards.
  const ok = await run(...valid);
  assert.ok(ok.outcomes.every((o) => o === 'accepted' || o === 'duplicate'));
  assert.equal(graph.stats().channels, 1);
  assert.equal(graph.stats().directions, 2);
  assert.ok(
    validator.counters.get('channel_announcement', 'bad-signature') +
      validator.counters.get('channel_announcement', 'malformed') >
      0,
  );
});

/**
 * Signed gossip from test keys, for tests and benchmarks (`@lnkit/gossip/testing`): a
 * channel_announcement, channel_update or node_announcement as the bytes a peer would send,
 * signed as BOLT 7 says. Keys are derived from small numbers so a test can name them. Not for
 * production use: the keys are predictable.
 */
import { nativeBackend, nobleBackend, type Secp256k1Backend, sha256d } from '@lnkit/crypto';
import {
  aliasBytes,
  channelAnnouncement,
  channelAnnouncementSignedBytes,
  channelUpdate,
  channelUpdateSignedBytes,
  Features,
  type NodeAddress,
  nodeAnnouncement,
  nodeAnnouncementSignedBytes,
} from '@lnkit/wire';
import { compareAt } from './layout.ts';

/** libsecp256k1 when it loads (signing a mainnet-sized graph with noble takes a minute). */
const signer: Secp256k1Backend = (() => {
  try {
    nativeBackend.publicKey(new Uint8Array(32).fill(1));
    return nativeBackend;
  } catch {
    return nobleBackend;
  }
})();

/** BOLT 0's chain hash of Bitcoin's regtest (the genesis hash, internal order). */
export const REGTEST_CHAIN_HASH = Uint8Array.from(
  Buffer.from('06226e46111a0b59caaf126043eb5bbf28c34f3a5e332a1fc7b2b73cf188910f', 'hex'),
);

export interface TestKey {
  readonly privateKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

/** A key pair from a number (1, 2, ...), the same on every run. */
export function testKey(n: number): TestKey {
  const privateKey = new Uint8Array(32);
  new DataView(privateKey.buffer).setUint32(28, n + 1);
  privateKey[0] = 0x42;
  return { privateKey, publicKey: signer.publicKey(privateKey) };
}

const NO_SIG = new Uint8Array(64);

export interface TestChannel {
  readonly scid: bigint;
  /** The two nodes, in any order (the announcement orders them). */
  readonly nodeA: TestKey;
  readonly nodeB: TestKey;
  /** Funding keys of A and B; default derived from the node keys. */
  readonly bitcoinA?: TestKey;
  readonly bitcoinB?: TestKey;
  readonly chainHash?: Uint8Array;
  readonly features?: Features;
  /** Bytes appended after the known fields (BOLT 7 future fields; signed). */
  readonly extraData?: Uint8Array;
}

/** The node keys of a channel in BOLT 7 order: [node_id_1 (lesser), node_id_2]. */
export function orderedNodes(ch: Pick<TestChannel, 'nodeA' | 'nodeB'>): [TestKey, TestKey] {
  return compareAt(ch.nodeA.publicKey, 0, ch.nodeB.publicKey, 0, 33) < 0
    ? [ch.nodeA, ch.nodeB]
    : [ch.nodeB, ch.nodeA];
}

const bitcoinKeyOf = (node: TestKey): TestKey => {
  const k = new Uint8Array(node.privateKey);
  k[1] = 0xb7;
  return { privateKey: k, publicKey: signer.publicKey(k) };
};

export function signChannelAnnouncement(ch: TestChannel): Uint8Array {
  const swap = compareAt(ch.nodeA.publicKey, 0, ch.nodeB.publicKey, 0, 33) > 0;
  const btcA = ch.bitcoinA ?? bitcoinKeyOf(ch.nodeA);
  const btcB = ch.bitcoinB ?? bitcoinKeyOf(ch.nodeB);
  const [n1, n2] = swap ? [ch.nodeB, ch.nodeA] : [ch.nodeA, ch.nodeB];
  const [b1, b2] = swap ? [btcB, btcA] : [btcA, btcB];
  const unsigned = channelAnnouncement.encode({
    type: 256,
    kind: 'channel_announcement',
    nodeSignature1: NO_SIG,
    nodeSignature2: NO_SIG,
    bitcoinSignature1: NO_SIG,
    bitcoinSignature2: NO_SIG,
    features: ch.features ?? Features.empty(),
    chainHash: ch.chainHash ?? REGTEST_CHAIN_HASH,
    shortChannelId: ch.scid,
    nodeId1: n1.publicKey,
    nodeId2: n2.publicKey,
    bitcoinKey1: b1.publicKey,
    bitcoinKey2: b2.publicKey,
    ...(ch.extraData ? { extraData: ch.extraData } : {}),
  });
  const digest = sha256d(channelAnnouncementSignedBytes(unsigned));
  const out = new Uint8Array(unsigned);
  out.set(signer.sign(digest, n1.privateKey), 2);
  out.set(signer.sign(digest, n2.privateKey), 66);
  out.set(signer.sign(digest, b1.privateKey), 130);
  out.set(signer.sign(digest, b2.privateKey), 194);
  return out;
}

export interface TestUpdate {
  readonly scid: bigint;
  /** The signing node: node_id_1 signs direction 0, node_id_2 direction 1. */
  readonly signer: TestKey;
  readonly direction: 0 | 1;
  readonly timestamp: number;
  readonly disabled?: boolean;
  readonly dontForward?: boolean;
  readonly cltvExpiryDelta?: number;
  readonly htlcMinimumMsat?: bigint;
  readonly htlcMaximumMsat?: bigint;
  readonly feeBaseMsat?: number;
  readonly feeProportionalMillionths?: number;
  readonly chainHash?: Uint8Array;
  readonly extraData?: Uint8Array;
}

export function signChannelUpdate(u: TestUpdate): Uint8Array {
  const unsigned = channelUpdate.encode({
    type: 258,
    kind: 'channel_update',
    signature: NO_SIG,
    chainHash: u.chainHash ?? REGTEST_CHAIN_HASH,
    shortChannelId: u.scid,
    timestamp: u.timestamp,
    messageFlags: 1 | (u.dontForward ? 2 : 0),
    channelFlags: u.direction | (u.disabled ? 2 : 0),
    cltvExpiryDelta: u.cltvExpiryDelta ?? 40,
    htlcMinimumMsat: u.htlcMinimumMsat ?? 1000n,
    feeBaseMsat: u.feeBaseMsat ?? 1000,
    feeProportionalMillionths: u.feeProportionalMillionths ?? 100,
    htlcMaximumMsat: u.htlcMaximumMsat ?? 990_000_000n,
    ...(u.extraData ? { extraData: u.extraData } : {}),
  });
  const out = new Uint8Array(unsigned);
  out.set(signer.sign(sha256d(channelUpdateSignedBytes(unsigned)), u.signer.privateKey), 2);
  return out;
}

export interface TestNodeAnnouncement {
  readonly node: TestKey;
  readonly timestamp: number;
  readonly alias?: string;
  readonly addresses?: NodeAddress[];
  readonly features?: Features;
  readonly rgbColor?: Uint8Array;
  readonly extraData?: Uint8Array;
}

export function signNodeAnnouncement(n: TestNodeAnnouncement): Uint8Array {
  const unsigned = nodeAnnouncement.encode({
    type: 257,
    kind: 'node_announcement',
    signature: NO_SIG,
    features: n.features ?? Features.empty(),
    timestamp: n.timestamp,
    nodeId: n.node.publicKey,
    rgbColor: n.rgbColor ?? Uint8Array.of(1, 2, 3),
    alias: aliasBytes(n.alias ?? 'test'),
    addresses: n.addresses ?? [],
    ...(n.extraData ? { extraData: n.extraData } : {}),
  });
  const out = new Uint8Array(unsigned);
  out.set(signer.sign(sha256d(nodeAnnouncementSignedBytes(unsigned)), n.node.privateKey), 2);
  return out;
}

/** Re-signs nothing: flips a bit of the first signature so it no longer verifies. */
export function breakSignature(raw: Uint8Array): Uint8Array {
  const out = new Uint8Array(raw);
  out[10]! ^= 0x01;
  return out;
}

/** The graph format of `../shared/data/graph/mainnet-*.json` (its README). */
export interface Topology {
  nodes: { idx: number; id: string; alias: string }[];
  channels: {
    node1: number;
    node2: number;
    capacitySat: number;
    dir: ({
      feeBaseMsat: number;
      feePpm: number;
      cltvDelta: number;
      htlcMinMsat: number;
      htlcMaxMsat: number;
    } | null)[];
  }[];
}

export interface SignedTopology {
  /** In the order a peer dumps its graph: each channel_announcement followed by its updates, then the node_announcements. */
  messages: Uint8Array[];
  channelAnnouncements: number;
  channelUpdates: number;
  nodeAnnouncements: number;
  /** scid of topology channel i. */
  scids: bigint[];
}

/**
 * The topology as signed gossip from test keys (node i's key is `testKey(i)`, so node ids are
 * not the real ones; short_channel_ids are made up, one per channel). Each policy is sent by the
 * node that sends it in the file: `dir[0]` is BOLT 7 direction 0 of the real graph, the policy
 * of the lesser real node id (the file's README; that is `node1` for only about half the
 * channels), `dir[1]` the other's. Signed with the test keys, whose order differs from the real
 * ids', each becomes direction 0 when its sender's test key sorts first, 1 otherwise; so a
 * node forwards at the same fees as in the real graph. Timestamps are `timestamp`.
 */
export function signTopology(
  topology: Topology,
  options: { timestamp: number; chainHash?: Uint8Array; limit?: number },
): SignedTopology {
  const keys = new Map<number, TestKey>();
  const key = (i: number) => {
    let k = keys.get(i);
    if (!k) {
      k = testKey(i);
      keys.set(i, k);
    }
    return k;
  };
  const messages: Uint8Array[] = [];
  const scids: bigint[] = [];
  const used = new Set<number>();
  let updates = 0;
  const channels = topology.channels.slice(0, options.limit ?? topology.channels.length);
  channels.forEach((ch, i) => {
    const scid = (BigInt(600_000 + Math.floor(i / 200)) << 40n) | (BigInt(i % 200) << 16n);
    scids.push(scid);
    const a = key(ch.node1);
    const b = key(ch.node2);
    used.add(ch.node1).add(ch.node2);
    const chainHash = options.chainHash ?? REGTEST_CHAIN_HASH;
    messages.push(signChannelAnnouncement({ scid, nodeA: a, nodeB: b, chainHash }));
    // The senders of dir[0] and dir[1]: the lesser and the greater real node id (hex of the same
    // length compares as the bytes do).
    const realId = (i: number) => topology.nodes[i]?.id ?? '';
    const [lesser, greater] = realId(ch.node1) < realId(ch.node2) ? [a, b] : [b, a];
    ch.dir.forEach((p, side) => {
      if (!p) return;
      const [from, to] = side === 0 ? [lesser, greater] : [greater, lesser];
      const direction = (compareAt(from.publicKey, 0, to.publicKey, 0, 33) < 0 ? 0 : 1) as 0 | 1;
      messages.push(
        signChannelUpdate({
          scid,
          signer: from,
          direction,
          timestamp: options.timestamp,
          chainHash,
          cltvExpiryDelta: p.cltvDelta,
          htlcMinimumMsat: BigInt(p.htlcMinMsat),
          htlcMaximumMsat: BigInt(p.htlcMaxMsat),
          feeBaseMsat: p.feeBaseMsat,
          feeProportionalMillionths: p.feePpm,
        }),
      );
      updates++;
    });
  });
  for (const n of [...used].sort((x, y) => x - y)) {
    const alias = topology.nodes[n]?.alias ?? '';
    messages.push(
      signNodeAnnouncement({
        node: key(n),
        timestamp: options.timestamp,
        alias: Buffer.byteLength(alias) <= 32 ? alias : '',
        addresses: [
          { kind: 'ipv4', addr: Uint8Array.of(10, (n >> 16) & 255, (n >> 8) & 255, n & 255), port: 9735 },
        ],
      }),
    );
  }
  return {
    messages,
    channelAnnouncements: channels.length,
    channelUpdates: updates,
    nodeAnnouncements: used.size,
    scids,
  };
}

/**
 * A small graph as signed gossip: `n` channels in a ring of nodes `testKey(firstKey + i)`, each
 * with both updates, then each node's announcement. Channel i's scid is block 650,000 + i, tx 0,
 * output 1 (+ `scidOffset` blocks).
 */
export function signRing(
  n: number,
  options: { timestamp: number; firstKey?: number; scidOffset?: number; chainHash?: Uint8Array },
): Uint8Array[] {
  const first = options.firstKey ?? 100;
  const chainHash = options.chainHash ?? REGTEST_CHAIN_HASH;
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const a = testKey(first + i);
    const b = testKey(first + ((i + 1) % n));
    const [n1, n2] = orderedNodes({ nodeA: a, nodeB: b });
    const scid = (BigInt(650_000 + (options.scidOffset ?? 0) + i) << 40n) | 1n;
    out.push(signChannelAnnouncement({ scid, nodeA: a, nodeB: b, chainHash }));
    out.push(signChannelUpdate({ scid, signer: n1, direction: 0, timestamp: options.timestamp, chainHash }));
    out.push(signChannelUpdate({ scid, signer: n2, direction: 1, timestamp: options.timestamp, chainHash }));
  }
  for (let i = 0; i < n; i++)
    out.push(
      signNodeAnnouncement({ node: testKey(first + i), timestamp: options.timestamp, alias: `ring ${i}` }),
    );
  return out;
}

// Seeded random generators of valid messages, for round-trip and fuzz tests.
// Deterministic: the same seed gives the same messages, so failures reproduce.
import type { NodeAddress } from '../address.ts';
import { Features } from '../features.ts';
import type { Message, MessageKind } from '../message.ts';
import type { EncodedList } from '../query.ts';
import type { TlvRecord } from '../tlv.ts';

export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 1;
  }
  /** mulberry32 */
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(maxExclusive: number): number {
    return Math.floor(this.next() * maxExclusive);
  }
  bool(): boolean {
    return this.next() < 0.5;
  }
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
  u16(): number {
    return this.int(0x10000);
  }
  u32(): number {
    return this.int(0x1_0000_0000);
  }
  u64(): bigint {
    // mix small and large values so both ends of the range are exercised
    if (this.bool()) return BigInt(this.int(1000));
    return (BigInt(this.u32()) << 32n) | BigInt(this.u32());
  }
  s64(): bigint {
    return BigInt.asIntN(64, this.u64());
  }
  point(): Uint8Array {
    const p = this.bytes(33);
    p[0] = this.bool() ? 2 : 3;
    return p;
  }
  sig(): Uint8Array {
    return this.bytes(64);
  }
  b32(): Uint8Array {
    return this.bytes(32);
  }
  varBytes(max = 64): Uint8Array {
    return this.bytes(this.int(max + 1));
  }
  features(): Features {
    const bits: number[] = [];
    const n = this.int(6);
    for (let i = 0; i < n; i++) bits.push(this.int(80));
    // sometimes keep leading zero bytes, as a peer may send them
    const f = Features.fromBits(bits);
    if (this.int(4) === 0) {
      const raw = f.toBytes();
      const padded = new Uint8Array(raw.length + 2);
      padded.set(raw, 2);
      return Features.fromBytes(padded);
    }
    return f;
  }
  maybe<T>(make: () => T): T | undefined {
    return this.bool() ? make() : undefined;
  }
  /** Odd unknown TLV records with types above every known one, sometimes none. */
  unknownTlvs(): TlvRecord[] | undefined {
    if (this.int(3) !== 0) return undefined;
    const types = new Set<bigint>();
    const n = 1 + this.int(3);
    for (let i = 0; i < n; i++) {
      const pick = this.int(3);
      const t =
        pick === 0
          ? 1001n + 2n * BigInt(this.int(100))
          : pick === 1
            ? 65537n + 2n * BigInt(this.int(1000))
            : 4294967297n;
      types.add(t);
    }
    return [...types].sort((a, b) => (a < b ? -1 : 1)).map((type) => ({ type, value: this.varBytes(40) }));
  }
  address(): NodeAddress {
    switch (this.int(5)) {
      case 0:
        return { kind: 'ipv4', addr: this.bytes(4), port: 1 + this.int(65535) };
      case 1:
        return { kind: 'ipv6', addr: this.bytes(16), port: 1 + this.int(65535) };
      case 2:
        return { kind: 'torv3', addr: this.bytes(35), port: 1 + this.int(65535) };
      case 3:
        return { kind: 'torv2', addr: this.bytes(10), port: 1 + this.int(65535) };
      default:
        return { kind: 'dns', hostname: `node${this.int(1000)}.example.com`, port: 9735 };
    }
  }
  addresses(): NodeAddress[] {
    const out: NodeAddress[] = [];
    const n = this.int(4);
    for (let i = 0; i < n; i++) out.push(this.address());
    if (this.int(5) === 0)
      out.push({ kind: 'unknown', addrType: 6 + this.int(200), data: this.varBytes(20) });
    return out;
  }
  scids(): bigint[] {
    const out: bigint[] = [];
    const n = this.int(8);
    for (let i = 0; i < n; i++) out.push(this.u64());
    return out;
  }
  encoded<T>(items: T[]): EncodedList<T> {
    if (this.int(6) === 0) return { encoding: 'unsupported', encodingType: 1, data: this.varBytes(30) };
    return { encoding: 'uncompressed', items };
  }
}

/** Drops properties whose value is undefined, so decoded messages compare equal. */
function clean<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

type Gen = (r: Rng) => Message;

export const GENERATORS: { [K in MessageKind]: Gen } = {
  warning: (r) =>
    clean({ type: 1, kind: 'warning', channelId: r.b32(), data: r.varBytes(), unknownTlvs: r.unknownTlvs() }),
  stfu: (r) =>
    clean({ type: 2, kind: 'stfu', channelId: r.b32(), initiator: r.int(2), unknownTlvs: r.unknownTlvs() }),
  peer_storage: (r) =>
    clean({ type: 7, kind: 'peer_storage', blob: r.varBytes(200), unknownTlvs: r.unknownTlvs() }),
  peer_storage_retrieval: (r) =>
    clean({ type: 9, kind: 'peer_storage_retrieval', blob: r.varBytes(200), unknownTlvs: r.unknownTlvs() }),
  init: (r) =>
    clean({
      type: 16,
      kind: 'init',
      globalFeatures: r.features(),
      features: r.features(),
      networks: r.maybe(() => [r.b32(), r.b32()].slice(0, 1 + r.int(2))),
      remoteAddr: r.maybe(() => r.address()),
      unknownTlvs: r.unknownTlvs(),
    }),
  error: (r) =>
    clean({ type: 17, kind: 'error', channelId: r.b32(), data: r.varBytes(), unknownTlvs: r.unknownTlvs() }),
  ping: (r) =>
    clean({
      type: 18,
      kind: 'ping',
      numPongBytes: r.u16(),
      ignored: new Uint8Array(r.int(50)),
      unknownTlvs: r.unknownTlvs(),
    }),
  pong: (r) =>
    clean({ type: 19, kind: 'pong', ignored: new Uint8Array(r.int(50)), unknownTlvs: r.unknownTlvs() }),
  open_channel: (r) =>
    clean({
      type: 32,
      kind: 'open_channel',
      chainHash: r.b32(),
      temporaryChannelId: r.b32(),
      fundingSatoshis: r.u64(),
      pushMsat: r.u64(),
      dustLimitSatoshis: r.u64(),
      maxHtlcValueInFlightMsat: r.u64(),
      channelReserveSatoshis: r.u64(),
      htlcMinimumMsat: r.u64(),
      feeratePerKw: r.u32(),
      toSelfDelay: r.u16(),
      maxAcceptedHtlcs: r.u16(),
      fundingPubkey: r.point(),
      revocationBasepoint: r.point(),
      paymentBasepoint: r.point(),
      delayedPaymentBasepoint: r.point(),
      htlcBasepoint: r.point(),
      firstPerCommitmentPoint: r.point(),
      channelFlags: r.int(256),
      upfrontShutdownScript: r.maybe(() => r.varBytes(34)),
      channelType: r.maybe(() => r.features()),
      unknownTlvs: r.unknownTlvs(),
    }),
  accept_channel: (r) =>
    clean({
      type: 33,
      kind: 'accept_channel',
      temporaryChannelId: r.b32(),
      dustLimitSatoshis: r.u64(),
      maxHtlcValueInFlightMsat: r.u64(),
      channelReserveSatoshis: r.u64(),
      htlcMinimumMsat: r.u64(),
      minimumDepth: r.u32(),
      toSelfDelay: r.u16(),
      maxAcceptedHtlcs: r.u16(),
      fundingPubkey: r.point(),
      revocationBasepoint: r.point(),
      paymentBasepoint: r.point(),
      delayedPaymentBasepoint: r.point(),
      htlcBasepoint: r.point(),
      firstPerCommitmentPoint: r.point(),
      upfrontShutdownScript: r.maybe(() => r.varBytes(34)),
      channelType: r.maybe(() => r.features()),
      unknownTlvs: r.unknownTlvs(),
    }),
  funding_created: (r) =>
    clean({
      type: 34,
      kind: 'funding_created',
      temporaryChannelId: r.b32(),
      fundingTxid: r.b32(),
      fundingOutputIndex: r.u16(),
      signature: r.sig(),
      unknownTlvs: r.unknownTlvs(),
    }),
  funding_signed: (r) =>
    clean({
      type: 35,
      kind: 'funding_signed',
      channelId: r.b32(),
      signature: r.sig(),
      unknownTlvs: r.unknownTlvs(),
    }),
  channel_ready: (r) =>
    clean({
      type: 36,
      kind: 'channel_ready',
      channelId: r.b32(),
      secondPerCommitmentPoint: r.point(),
      shortChannelIdAlias: r.maybe(() => r.u64()),
      unknownTlvs: r.unknownTlvs(),
    }),
  shutdown: (r) =>
    clean({
      type: 38,
      kind: 'shutdown',
      channelId: r.b32(),
      scriptpubkey: r.varBytes(42),
      unknownTlvs: r.unknownTlvs(),
    }),
  closing_signed: (r) =>
    clean({
      type: 39,
      kind: 'closing_signed',
      channelId: r.b32(),
      feeSatoshis: r.u64(),
      signature: r.sig(),
      feeRange: r.maybe(() => ({ minFeeSatoshis: r.u64(), maxFeeSatoshis: r.u64() })),
      unknownTlvs: r.unknownTlvs(),
    }),
  closing_complete: (r) =>
    clean({
      type: 40,
      kind: 'closing_complete',
      channelId: r.b32(),
      closerScriptpubkey: r.varBytes(34),
      closeeScriptpubkey: r.varBytes(34),
      feeSatoshis: r.u64(),
      locktime: r.u32(),
      closerOutputOnly: r.maybe(() => r.sig()),
      closeeOutputOnly: r.maybe(() => r.sig()),
      closerAndCloseeOutputs: r.maybe(() => r.sig()),
      unknownTlvs: r.unknownTlvs(),
    }),
  closing_sig: (r) =>
    clean({
      type: 41,
      kind: 'closing_sig',
      channelId: r.b32(),
      closerScriptpubkey: r.varBytes(34),
      closeeScriptpubkey: r.varBytes(34),
      feeSatoshis: r.u64(),
      locktime: r.u32(),
      closerAndCloseeOutputs: r.maybe(() => r.sig()),
      unknownTlvs: r.unknownTlvs(),
    }),
  tx_add_input: (r) =>
    clean({
      type: 66,
      kind: 'tx_add_input',
      channelId: r.b32(),
      serialId: r.u64(),
      prevtx: r.varBytes(300),
      prevtxVout: r.u32(),
      sequence: r.u32(),
      sharedInputTxid: r.maybe(() => r.b32()),
      unknownTlvs: r.unknownTlvs(),
    }),
  tx_add_output: (r) =>
    clean({
      type: 67,
      kind: 'tx_add_output',
      channelId: r.b32(),
      serialId: r.u64(),
      sats: r.u64(),
      script: r.varBytes(34),
      unknownTlvs: r.unknownTlvs(),
    }),
  tx_remove_input: (r) =>
    clean({
      type: 68,
      kind: 'tx_remove_input',
      channelId: r.b32(),
      serialId: r.u64(),
      unknownTlvs: r.unknownTlvs(),
    }),
  tx_remove_output: (r) =>
    clean({
      type: 69,
      kind: 'tx_remove_output',
      channelId: r.b32(),
      serialId: r.u64(),
      unknownTlvs: r.unknownTlvs(),
    }),
  tx_complete: (r) =>
    clean({ type: 70, kind: 'tx_complete', channelId: r.b32(), unknownTlvs: r.unknownTlvs() }),
  tx_signatures: (r) =>
    clean({
      type: 71,
      kind: 'tx_signatures',
      channelId: r.b32(),
      txid: r.b32(),
      witnesses: Array.from({ length: r.int(4) }, () => r.varBytes(110)),
      sharedInputSignature: r.maybe(() => r.sig()),
      unknownTlvs: r.unknownTlvs(),
    }),
  tx_init_rbf: (r) =>
    clean({
      type: 72,
      kind: 'tx_init_rbf',
      channelId: r.b32(),
      locktime: r.u32(),
      feerate: r.u32(),
      fundingOutputContribution: r.maybe(() => r.s64()),
      requireConfirmedInputs: r.maybe(() => true as const),
      unknownTlvs: r.unknownTlvs(),
    }),
  tx_ack_rbf: (r) =>
    clean({
      type: 73,
      kind: 'tx_ack_rbf',
      channelId: r.b32(),
      fundingOutputContribution: r.maybe(() => r.s64()),
      requireConfirmedInputs: r.maybe(() => true as const),
      unknownTlvs: r.unknownTlvs(),
    }),
  tx_abort: (r) =>
    clean({
      type: 74,
      kind: 'tx_abort',
      channelId: r.b32(),
      data: r.varBytes(),
      unknownTlvs: r.unknownTlvs(),
    }),
  open_channel2: (r) =>
    clean({
      type: 64,
      kind: 'open_channel2',
      chainHash: r.b32(),
      temporaryChannelId: r.b32(),
      fundingFeeratePerkw: r.u32(),
      commitmentFeeratePerkw: r.u32(),
      fundingSatoshis: r.u64(),
      dustLimitSatoshis: r.u64(),
      maxHtlcValueInFlightMsat: r.u64(),
      htlcMinimumMsat: r.u64(),
      toSelfDelay: r.u16(),
      maxAcceptedHtlcs: r.u16(),
      locktime: r.u32(),
      fundingPubkey: r.point(),
      revocationBasepoint: r.point(),
      paymentBasepoint: r.point(),
      delayedPaymentBasepoint: r.point(),
      htlcBasepoint: r.point(),
      firstPerCommitmentPoint: r.point(),
      secondPerCommitmentPoint: r.point(),
      channelFlags: r.int(256),
      upfrontShutdownScript: r.maybe(() => r.varBytes(34)),
      channelType: r.maybe(() => r.features()),
      requireConfirmedInputs: r.maybe(() => true as const),
      unknownTlvs: r.unknownTlvs(),
    }),
  accept_channel2: (r) =>
    clean({
      type: 65,
      kind: 'accept_channel2',
      temporaryChannelId: r.b32(),
      fundingSatoshis: r.u64(),
      dustLimitSatoshis: r.u64(),
      maxHtlcValueInFlightMsat: r.u64(),
      htlcMinimumMsat: r.u64(),
      minimumDepth: r.u32(),
      toSelfDelay: r.u16(),
      maxAcceptedHtlcs: r.u16(),
      fundingPubkey: r.point(),
      revocationBasepoint: r.point(),
      paymentBasepoint: r.point(),
      delayedPaymentBasepoint: r.point(),
      htlcBasepoint: r.point(),
      firstPerCommitmentPoint: r.point(),
      secondPerCommitmentPoint: r.point(),
      upfrontShutdownScript: r.maybe(() => r.varBytes(34)),
      channelType: r.maybe(() => r.features()),
      requireConfirmedInputs: r.maybe(() => true as const),
      unknownTlvs: r.unknownTlvs(),
    }),
  splice_init: (r) =>
    clean({
      type: 80,
      kind: 'splice_init',
      channelId: r.b32(),
      fundingContributionSatoshis: r.s64(),
      fundingFeeratePerkw: r.u32(),
      locktime: r.u32(),
      fundingPubkey: r.point(),
      requireConfirmedInputs: r.maybe(() => true as const),
      unknownTlvs: r.unknownTlvs(),
    }),
  splice_ack: (r) =>
    clean({
      type: 81,
      kind: 'splice_ack',
      channelId: r.b32(),
      fundingContributionSatoshis: r.s64(),
      fundingPubkey: r.point(),
      requireConfirmedInputs: r.maybe(() => true as const),
      unknownTlvs: r.unknownTlvs(),
    }),
  splice_locked: (r) =>
    clean({
      type: 77,
      kind: 'splice_locked',
      channelId: r.b32(),
      spliceTxid: r.b32(),
      unknownTlvs: r.unknownTlvs(),
    }),
  start_batch: (r) =>
    clean({
      type: 127,
      kind: 'start_batch',
      channelId: r.b32(),
      batchSize: r.u16(),
      messageType: r.maybe(() => 132),
      unknownTlvs: r.unknownTlvs(),
    }),
  update_add_htlc: (r) =>
    clean({
      type: 128,
      kind: 'update_add_htlc',
      channelId: r.b32(),
      id: r.u64(),
      amountMsat: r.u64(),
      paymentHash: r.b32(),
      cltvExpiry: r.u32(),
      onionRoutingPacket: r.bytes(1366),
      blindedPathKey: r.maybe(() => r.point()),
      unknownTlvs: r.unknownTlvs(),
    }),
  update_fulfill_htlc: (r) =>
    clean({
      type: 130,
      kind: 'update_fulfill_htlc',
      channelId: r.b32(),
      id: r.u64(),
      paymentPreimage: r.b32(),
      attributionData: r.maybe(() => ({
        htlcHoldTimes: Array.from({ length: 20 }, () => r.u32()),
        truncatedHmacs: r.bytes(840),
      })),
      unknownTlvs: r.unknownTlvs(),
    }),
  update_fail_htlc: (r) =>
    clean({
      type: 131,
      kind: 'update_fail_htlc',
      channelId: r.b32(),
      id: r.u64(),
      reason: r.varBytes(300),
      attributionData: r.maybe(() => ({
        htlcHoldTimes: Array.from({ length: 20 }, () => r.u32()),
        truncatedHmacs: r.bytes(840),
      })),
      unknownTlvs: r.unknownTlvs(),
    }),
  commitment_signed: (r) =>
    clean({
      type: 132,
      kind: 'commitment_signed',
      channelId: r.b32(),
      signature: r.sig(),
      htlcSignatures: Array.from({ length: r.int(5) }, () => r.sig()),
      fundingTxid: r.maybe(() => r.b32()),
      unknownTlvs: r.unknownTlvs(),
    }),
  revoke_and_ack: (r) =>
    clean({
      type: 133,
      kind: 'revoke_and_ack',
      channelId: r.b32(),
      perCommitmentSecret: r.b32(),
      nextPerCommitmentPoint: r.point(),
      unknownTlvs: r.unknownTlvs(),
    }),
  update_fee: (r) =>
    clean({
      type: 134,
      kind: 'update_fee',
      channelId: r.b32(),
      feeratePerKw: r.u32(),
      unknownTlvs: r.unknownTlvs(),
    }),
  update_fail_malformed_htlc: (r) =>
    clean({
      type: 135,
      kind: 'update_fail_malformed_htlc',
      channelId: r.b32(),
      id: r.u64(),
      sha256OfOnion: r.b32(),
      failureCode: r.u16(),
      unknownTlvs: r.unknownTlvs(),
    }),
  channel_reestablish: (r) =>
    clean({
      type: 136,
      kind: 'channel_reestablish',
      channelId: r.b32(),
      nextCommitmentNumber: r.u64(),
      nextRevocationNumber: r.u64(),
      yourLastPerCommitmentSecret: r.b32(),
      myCurrentPerCommitmentPoint: r.point(),
      nextFunding: r.maybe(() => ({ txid: r.b32(), retransmitFlags: r.int(256) })),
      myCurrentFundingLocked: r.maybe(() => ({ txid: r.b32(), retransmitFlags: r.int(256) })),
      unknownTlvs: r.unknownTlvs(),
    }),
  channel_announcement: (r) =>
    clean({
      type: 256,
      kind: 'channel_announcement',
      nodeSignature1: r.sig(),
      nodeSignature2: r.sig(),
      bitcoinSignature1: r.sig(),
      bitcoinSignature2: r.sig(),
      features: r.features(),
      chainHash: r.b32(),
      shortChannelId: r.u64(),
      nodeId1: r.point(),
      nodeId2: r.point(),
      bitcoinKey1: r.point(),
      bitcoinKey2: r.point(),
      extraData: r.maybe(() => r.bytes(1 + r.int(20))),
    }),
  node_announcement: (r) =>
    clean({
      type: 257,
      kind: 'node_announcement',
      signature: r.sig(),
      features: r.features(),
      timestamp: r.u32(),
      nodeId: r.point(),
      rgbColor: r.bytes(3),
      alias: r.b32(),
      addresses: r.addresses(),
      extraData: r.maybe(() => r.bytes(1 + r.int(20))),
    }),
  channel_update: (r) =>
    clean({
      type: 258,
      kind: 'channel_update',
      signature: r.sig(),
      chainHash: r.b32(),
      shortChannelId: r.u64(),
      timestamp: r.u32(),
      messageFlags: r.int(4),
      channelFlags: r.int(4),
      cltvExpiryDelta: r.u16(),
      htlcMinimumMsat: r.u64(),
      feeBaseMsat: r.u32(),
      feeProportionalMillionths: r.u32(),
      htlcMaximumMsat: r.u64(),
      extraData: r.maybe(() => r.bytes(1 + r.int(20))),
    }),
  announcement_signatures: (r) =>
    clean({
      type: 259,
      kind: 'announcement_signatures',
      channelId: r.b32(),
      shortChannelId: r.u64(),
      nodeSignature: r.sig(),
      bitcoinSignature: r.sig(),
      unknownTlvs: r.unknownTlvs(),
    }),
  query_short_channel_ids: (r) => {
    const scids = r.scids();
    return clean({
      type: 261,
      kind: 'query_short_channel_ids',
      chainHash: r.b32(),
      encodedShortIds: r.encoded(scids),
      queryFlags: r.maybe(() => r.encoded(scids.map(() => BigInt(r.int(32)) * (r.bool() ? 1n : 1000n)))),
      unknownTlvs: r.unknownTlvs(),
    });
  },
  reply_short_channel_ids_end: (r) =>
    clean({
      type: 262,
      kind: 'reply_short_channel_ids_end',
      chainHash: r.b32(),
      fullInformation: r.int(2),
      unknownTlvs: r.unknownTlvs(),
    }),
  query_channel_range: (r) =>
    clean({
      type: 263,
      kind: 'query_channel_range',
      chainHash: r.b32(),
      firstBlocknum: r.u32(),
      numberOfBlocks: r.u32(),
      queryOptionFlags: r.maybe(() => BigInt(r.int(4))),
      unknownTlvs: r.unknownTlvs(),
    }),
  reply_channel_range: (r) => {
    const scids = r.scids();
    return clean({
      type: 264,
      kind: 'reply_channel_range',
      chainHash: r.b32(),
      firstBlocknum: r.u32(),
      numberOfBlocks: r.u32(),
      syncComplete: r.int(2),
      encodedShortIds: r.encoded(scids),
      timestamps: r.maybe(() =>
        r.encoded(scids.map(() => ({ timestampNodeId1: r.u32(), timestampNodeId2: r.u32() }))),
      ),
      checksums: r.maybe(() => scids.map(() => ({ checksumNodeId1: r.u32(), checksumNodeId2: r.u32() }))),
      unknownTlvs: r.unknownTlvs(),
    });
  },
  gossip_timestamp_filter: (r) =>
    clean({
      type: 265,
      kind: 'gossip_timestamp_filter',
      chainHash: r.b32(),
      firstTimestamp: r.u32(),
      timestampRange: r.u32(),
      unknownTlvs: r.unknownTlvs(),
    }),
};

export function randomMessage<K extends MessageKind>(kind: K, r: Rng): Message {
  return GENERATORS[kind](r);
}

/**
 * BOLT 7 validation of channel_announcement, channel_update and node_announcement, in batches,
 * as a pure core: `prepare` makes the cheap checks against the graph and lists the signatures
 * to verify; the caller verifies them (signatures.ts, in the crypto pool or in-thread) and, for
 * the announcements whose signatures hold, asks its UtxoLookup; `apply` then takes each message
 * in arrival order, checks it again against the graph as it is by then (an earlier message of
 * the batch may have changed it), and changes the graph. `runBatch` does the three steps.
 *
 * Order of the checks. The cheap ones come first (chain hash, duplicates, timestamps: a map
 * lookup), so that the gossip every peer repeats during a sync costs no signature check; a
 * signature is checked before the chain source is asked about the funding output, so a bogus
 * announcement costs no chain lookup (BOLT 7 lists the output check first; an announcement both
 * mis-signed and for a spent output is therefore warned about where the BOLT would only ignore
 * it). Nothing here throws on peer input: every message gets an outcome (outcomes.ts).
 */
import type { CryptoService } from '@lnkit/crypto';
import { decodeAddresses } from '@lnkit/wire';
import { type NetworkGraph, nodeKeyAt } from './graph.ts';
import { CHANNEL_SPENT, EDGE_HAS_UPDATE, NO_INDEX, NODE_LIVE } from './graph-view.ts';
import {
  bytesEqualAt,
  CA_SIGNED_FROM,
  type ChannelAnnouncementOffsets,
  CU_CHAIN_HASH,
  CU_CHANNEL_FLAGS,
  CU_LENGTH,
  CU_MESSAGE_FLAGS,
  CU_SCID,
  CU_SIGNED_FROM,
  CU_TIMESTAMP,
  channelAnnouncementOffsets,
  isCompressedPointPrefix,
  messageType,
  NA_SIGNED_FROM,
  nodeAnnouncementOffsets,
  TYPE_CHANNEL_ANNOUNCEMENT,
  TYPE_CHANNEL_UPDATE,
  TYPE_NODE_ANNOUNCEMENT,
  u32,
  u64,
} from './layout.ts';
import {
  GOSSIP_KINDS,
  GossipCounters,
  type GossipKind,
  kindIndex,
  OUTCOME_INDEX,
  OUTCOMES,
  type Outcome,
  type Reaction,
  reactionTo,
} from './outcomes.ts';
import type { GossipRateLimiter } from './rate-limit.ts';
import { SignatureBatch, sha256dFrom } from './signatures.ts';
import { fundingScriptPubKey, type UtxoLookup, type UtxoResult } from './utxo.ts';

export interface InboundGossip {
  /** Who sent it (the peer's node id, hex); '' for a message of our own. */
  readonly peer: string;
  /** The message as received: 2-byte type + payload. */
  readonly raw: Uint8Array;
}

/** A message accepted into the graph that may be relayed (broadcast.ts decides when and to whom). */
export interface RelayItem {
  readonly type: 256 | 257 | 258;
  readonly raw: Uint8Array;
  readonly origin: string;
  /** Channel index (256, 258) or node index (257). */
  readonly index: number;
  /** 258 only: the update's direction. */
  readonly direction: 0 | 1;
  /** The update's or node_announcement's timestamp (0 for a channel_announcement). */
  readonly timestamp: number;
}

export interface PeerReaction {
  readonly peer: string;
  readonly kind: GossipKind;
  readonly outcome: Outcome;
  readonly reaction: Exclude<Reaction, 'none'>;
}

export interface BatchResult {
  readonly accepted: number;
  readonly relay: RelayItem[];
  readonly reactions: PeerReaction[];
}

export interface ValidatorOptions {
  /** Updates further ahead than this are discarded (BOLT 7: "unreasonably far in the future"). Default 1 day. */
  maxFutureSec?: number;
  /** Updates older than this are ignored: they would be pruned (BOLT 7, two weeks). Default 1,209,600. */
  staleAfterSec?: number;
  /** BOLT 7: "at least 6 confirmations". Default 6. */
  minConfirmations?: number;
  /** "MAY accept the message if the output is close to 6 confirmations": this many fewer. Default 2. */
  confirmationSlack?: number;
  /** Messages with more bytes than this after their known fields are applied but not relayed. Default 1,024. */
  maxRelayExtraBytes?: number;
  rateLimiter?: GossipRateLimiter;
  counters?: GossipCounters;
}

const PENDING = -1;
const HAS_ANN = 1;
const HAS_UPD = 2;
const HAS_NA = 3;

/** One batch between `prepare` and `apply`; parallel arrays, not an object per message. */
export class PreparedBatch {
  readonly outcome: Int8Array;
  readonly sigAt: Int32Array;
  readonly sigCount: Uint8Array;
  readonly scid: (bigint | undefined)[];
  readonly relayable: Uint8Array;
  readonly pending: Uint8Array;
  readonly signatures = new SignatureBatch();
  /** Set by `apply`. */
  applied = false;

  constructor(readonly items: readonly InboundGossip[]) {
    const n = items.length;
    this.outcome = new Int8Array(n).fill(PENDING);
    this.sigAt = new Int32Array(n).fill(-1);
    this.sigCount = new Uint8Array(n);
    this.scid = new Array(n);
    this.relayable = new Uint8Array(n).fill(1);
    this.pending = new Uint8Array(n);
  }

  /** The outcome of item i (after `apply`; before it, only those decided by `prepare`). */
  outcomeOf(i: number): Outcome | undefined {
    const o = this.outcome[i]!;
    return o === PENDING ? undefined : OUTCOMES[o];
  }

  /** Whether a signature check was asked for item i. */
  checksSignatures(i: number): boolean {
    return this.sigCount[i]! > 0;
  }
}

interface PendingAnnouncement {
  readonly raw: Uint8Array;
  readonly o: ChannelAnnouncementOffsets;
  refs: number;
}

const updateKey = (scid: bigint, dir: number): bigint => (scid << 1n) | BigInt(dir);

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && bytesEqualAt(a, 0, b, 0, a.length);
}

export class GossipValidator {
  readonly counters: GossipCounters;
  /** Node ids (as graph keys) whose announcements are ignored (BOLT 7 conflicting announcements). */
  readonly blacklist = new Set<string>();
  private readonly maxFutureSec: number;
  private readonly staleAfterSec: number;
  private readonly minConfirmations: number;
  private readonly maxRelayExtra: number;
  private readonly rateLimiter: GossipRateLimiter | undefined;
  // Messages in batches between prepare and apply, so that a later batch (or a later message
  // of the same batch) can find the channel announced before it, and skips exact copies.
  private readonly pendingAnnouncements = new Map<bigint, PendingAnnouncement>();
  private readonly pendingNodes = new Map<string, number>();
  private readonly pendingUpdates = new Map<bigint, Uint8Array[]>();
  private readonly pendingNodeAnnouncements = new Map<string, Uint8Array[]>();

  constructor(
    readonly graph: NetworkGraph,
    options: ValidatorOptions = {},
  ) {
    this.counters = options.counters ?? new GossipCounters();
    this.maxFutureSec = options.maxFutureSec ?? 86_400;
    this.staleAfterSec = options.staleAfterSec ?? 1_209_600;
    this.minConfirmations = (options.minConfirmations ?? 6) - (options.confirmationSlack ?? 2);
    this.maxRelayExtra = options.maxRelayExtraBytes ?? 1024;
    this.rateLimiter = options.rateLimiter;
  }

  // ================================================================ step 0: screening on arrival

  /**
   * What can be decided of a message on arrival, from the graph alone and without a signature:
   * another chain, cut short, a copy or an older version of what the graph has, a timestamp out
   * of bounds. A peer dumping its graph repeats mostly what we have: dropping those before they
   * queue keeps the inbox to the messages that need work. Undefined: it must go through a batch
   * (the graph may learn its channel or node from a message still queued).
   */
  screen(raw: Uint8Array, nowSec: number): Outcome | undefined {
    const type = messageType(raw);
    if (type === TYPE_CHANNEL_UPDATE) {
      if (raw.length < CU_LENGTH) return 'malformed';
      if (!bytesEqualAt(raw, CU_CHAIN_HASH, this.graph.chainHash, 0, 32)) return 'unknown-chain';
      if ((raw[CU_MESSAGE_FLAGS]! & 2) !== 0) return 'dont-forward';
      const t = u32(raw, CU_TIMESTAMP);
      if (t > nowSec + this.maxFutureSec) return 'timestamp-in-future';
      if (t < nowSec - this.staleAfterSec) return 'timestamp-too-old';
      const c = this.graph.channelIndex(u64(raw, CU_SCID));
      return c === NO_INDEX ? undefined : this.againstEdge(c, raw);
    }
    if (type === TYPE_CHANNEL_ANNOUNCEMENT) {
      const o = channelAnnouncementOffsets(raw);
      if (!o) return 'malformed';
      if (!bytesEqualAt(raw, o.chainHash, this.graph.chainHash, 0, 32)) return 'unknown-chain';
      const c = this.graph.channelIndex(u64(raw, o.scid));
      return c !== NO_INDEX && this.sameNodes(c, raw, o) ? 'duplicate' : undefined;
    }
    if (type === TYPE_NODE_ANNOUNCEMENT) {
      const o = nodeAnnouncementOffsets(raw);
      if (!o) return 'malformed';
      const n = this.graph.nodeIndexAt(raw, o.nodeId);
      if (n === NO_INDEX) return undefined;
      const t = u32(raw, o.timestamp);
      const have = this.graph.nodeTimestampAt(n);
      if (have !== 0 && t === have) return 'duplicate';
      if (have !== 0 && t < have) return 'stale';
      return undefined;
    }
    return 'malformed';
  }

  /** Whether a node_announcement (screened: well formed) is of a node the graph has. */
  knowsNodeOf(raw: Uint8Array): boolean {
    const o = nodeAnnouncementOffsets(raw);
    return o !== undefined && this.graph.nodeIndexAt(raw, o.nodeId) !== NO_INDEX;
  }

  /** Counts an outcome decided outside a batch (screening). */
  count(type: number, outcome: Outcome): void {
    if (type >= 256 && type <= 258) this.counters.count(kindIndex(type), OUTCOME_INDEX[outcome]);
    else this.counters.unreadable++;
  }

  // ================================================================ step 1: cheap checks

  prepare(items: readonly InboundGossip[], nowMs: number): PreparedBatch {
    const batch = new PreparedBatch(items);
    const nowSec = Math.floor(nowMs / 1000);
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      const raw = item.raw;
      const type = messageType(raw);
      let outcome: Outcome | undefined;
      if (type === TYPE_CHANNEL_ANNOUNCEMENT) outcome = this.prepareAnnouncement(batch, i, raw, nowMs);
      else if (type === TYPE_CHANNEL_UPDATE) outcome = this.prepareUpdate(batch, i, raw, nowSec, nowMs);
      else if (type === TYPE_NODE_ANNOUNCEMENT) outcome = this.prepareNode(batch, i, raw, nowMs);
      else {
        this.counters.unreadable++;
        batch.outcome[i] = OUTCOME_INDEX.malformed;
        continue;
      }
      if (outcome !== undefined) batch.outcome[i] = OUTCOME_INDEX[outcome];
    }
    this.counters.signaturesChecked += batch.signatures.length;
    return batch;
  }

  private takeToken(peer: string, nowMs: number): boolean {
    return this.rateLimiter === undefined || peer === '' || this.rateLimiter.take(peer, nowMs);
  }

  private prepareAnnouncement(
    b: PreparedBatch,
    i: number,
    raw: Uint8Array,
    nowMs: number,
  ): Outcome | undefined {
    const o = channelAnnouncementOffsets(raw);
    if (!o) return 'malformed';
    if (!bytesEqualAt(raw, o.chainHash, this.graph.chainHash, 0, 32)) return 'unknown-chain';
    for (const at of [o.nodeId1, o.nodeId2, o.bitcoinKey1, o.bitcoinKey2])
      if (!isCompressedPointPrefix(raw, at)) return 'malformed';
    if (bytesEqualAt(raw, o.nodeId1, raw, o.nodeId2, 33)) return 'self-channel';
    if (this.isBlacklisted(raw, o)) return 'blacklisted';
    const scid = u64(raw, o.scid);
    b.scid[i] = scid;
    const c = this.graph.channelIndex(scid);
    // The same channel between the same nodes: a copy (a valid announcement of the same output
    // by the same two nodes adds nothing). Other nodes: checked, and a conflict if it holds.
    if (c !== NO_INDEX && this.sameNodes(c, raw, o)) return 'duplicate';
    const pending = this.pendingAnnouncements.get(scid);
    if (pending && sameBytes(pending.raw, raw)) return 'duplicate';
    if (!this.takeToken(b.items[i]!.peer, nowMs)) return 'rate-limited';
    const digest = sha256dFrom(raw, CA_SIGNED_FROM);
    const s = b.signatures;
    b.sigAt[i] = s.add(raw, 2, digest, raw, o.nodeId1);
    s.add(raw, 66, digest, raw, o.nodeId2);
    s.add(raw, 130, digest, raw, o.bitcoinKey1);
    s.add(raw, 194, digest, raw, o.bitcoinKey2);
    b.sigCount[i] = 4;
    if (o.extraLength > this.maxRelayExtra) b.relayable[i] = 0;
    if (pending) pending.refs++;
    else this.pendingAnnouncements.set(scid, { raw, o, refs: 1 });
    for (const at of [o.nodeId1, o.nodeId2]) {
      const key = nodeKeyAt(raw, at);
      this.pendingNodes.set(key, (this.pendingNodes.get(key) ?? 0) + 1);
    }
    b.pending[i] = HAS_ANN;
    return undefined;
  }

  private isBlacklisted(raw: Uint8Array, o: ChannelAnnouncementOffsets): boolean {
    // Almost always empty: then no key string is made.
    if (this.blacklist.size === 0) return false;
    return this.blacklist.has(nodeKeyAt(raw, o.nodeId1)) || this.blacklist.has(nodeKeyAt(raw, o.nodeId2));
  }

  private sameNodes(c: number, raw: Uint8Array, o: ChannelAnnouncementOffsets): boolean {
    const g = this.graph;
    const n1 = g.channelNodeAt(c, 0);
    const n2 = g.channelNodeAt(c, 1);
    return (
      bytesEqualAt(raw, o.nodeId1, g.nodeIdAt(n1), 0, 33) &&
      bytesEqualAt(raw, o.nodeId2, g.nodeIdAt(n2), 0, 33)
    );
  }

  /** The update against the graph's edge: undefined if it is newer (or the edge has none). */
  private againstEdge(c: number, raw: Uint8Array): Outcome | undefined {
    const e = c * 2 + (raw[CU_CHANNEL_FLAGS]! & 1);
    if ((this.graph.edgeFlagsAt(e) & EDGE_HAS_UPDATE) === 0) return undefined;
    const t = u32(raw, CU_TIMESTAMP);
    const have = this.graph.edgeTimestampAt(e);
    if (t > have) return undefined;
    if (t < have) return 'stale';
    // BOLT 7: equal timestamps — "if the fields below `timestamp` are equal: SHOULD ignore this
    // message"; if they differ, "MAY blacklist this `node_id`" (we ignore it, and count it).
    return this.graph.sameUpdateFields(e, raw) ? 'duplicate' : 'same-timestamp-different';
  }

  private prepareUpdate(
    b: PreparedBatch,
    i: number,
    raw: Uint8Array,
    nowSec: number,
    nowMs: number,
  ): Outcome | undefined {
    // Without htlc_maximum_msat (the old 130-byte form) it is not a channel_update BOLT 7 allows.
    if (raw.length < CU_LENGTH) return 'malformed';
    if (!bytesEqualAt(raw, CU_CHAIN_HASH, this.graph.chainHash, 0, 32)) return 'unknown-chain';
    const scid = u64(raw, CU_SCID);
    b.scid[i] = scid;
    if ((raw[CU_MESSAGE_FLAGS]! & 2) !== 0) return 'dont-forward';
    const dir = raw[CU_CHANNEL_FLAGS]! & 1;
    const t = u32(raw, CU_TIMESTAMP);
    if (t > nowSec + this.maxFutureSec) return 'timestamp-in-future';
    if (t < nowSec - this.staleAfterSec) return 'timestamp-too-old';
    const c = this.graph.channelIndex(scid);
    let key: Uint8Array;
    let keyAt: number;
    if (c !== NO_INDEX) {
      const vs = this.againstEdge(c, raw);
      if (vs) return vs;
      // BOLT 7: "if the channel output has been spent: MUST ignore channel_updates, unless they
      // have the disable bit set to 1".
      if ((this.graph.channelFlagsAt(c) & CHANNEL_SPENT) !== 0 && (raw[CU_CHANNEL_FLAGS]! & 2) === 0)
        return 'channel-spent';
      key = this.graph.nodeIdAt(this.graph.channelNodeAt(c, dir as 0 | 1));
      keyAt = 0;
    } else {
      const pending = this.pendingAnnouncements.get(scid);
      if (!pending) return 'unknown-channel';
      key = pending.raw;
      keyAt = dir === 0 ? pending.o.nodeId1 : pending.o.nodeId2;
    }
    const k = updateKey(scid, dir);
    const copies = this.pendingUpdates.get(k);
    if (copies?.some((p) => sameBytes(p, raw))) return 'duplicate';
    if (!this.takeToken(b.items[i]!.peer, nowMs)) return 'rate-limited';
    // "The `node_id` for the signature verification is taken from the corresponding
    // `channel_announcement`: `node_id_1` if the least-significant bit of flags is 0 or `node_id_2` otherwise."
    b.sigAt[i] = b.signatures.add(raw, 2, sha256dFrom(raw, CU_SIGNED_FROM), key, keyAt);
    b.sigCount[i] = 1;
    if (raw.length - CU_LENGTH > this.maxRelayExtra) b.relayable[i] = 0;
    if (copies) copies.push(raw);
    else this.pendingUpdates.set(k, [raw]);
    b.pending[i] = HAS_UPD;
    return undefined;
  }

  private prepareNode(b: PreparedBatch, i: number, raw: Uint8Array, nowMs: number): Outcome | undefined {
    const o = nodeAnnouncementOffsets(raw);
    // "if `addrlen` is insufficient to hold the address descriptors of the known types: SHOULD
    // send a `warning`" — and a message cut short anywhere else is no better.
    if (!o) return 'malformed';
    // "if `node_id` is NOT a valid compressed public key: SHOULD send a `warning` ... MUST NOT
    // process the message further" (a point off the curve fails the signature check below).
    if (!isCompressedPointPrefix(raw, o.nodeId)) return 'malformed';
    const key = nodeKeyAt(raw, o.nodeId);
    const n = this.graph.nodeIndexAt(raw, o.nodeId);
    if (n === NO_INDEX && !this.pendingNodes.has(key)) return 'unknown-node';
    const t = u32(raw, o.timestamp);
    if (n !== NO_INDEX) {
      const have = this.graph.nodeTimestampAt(n);
      // "if `timestamp` is NOT greater than the last-received `node_announcement` from this
      // `node_id`: SHOULD ignore the message".
      if (have !== 0 && t === have) return 'duplicate';
      if (have !== 0 && t < have) return 'stale';
    }
    const copies = this.pendingNodeAnnouncements.get(key);
    if (copies?.some((p) => sameBytes(p, raw))) return 'duplicate';
    let dns = 0;
    try {
      for (const a of decodeAddresses(raw.subarray(o.addressesAt, o.addressesAt + o.addressesLength)))
        if (a.kind === 'dns') dns++;
    } catch {
      return 'malformed';
    }
    if (!this.takeToken(b.items[i]!.peer, nowMs)) return 'rate-limited';
    b.sigAt[i] = b.signatures.add(raw, 2, sha256dFrom(raw, NA_SIGNED_FROM), raw, o.nodeId);
    b.sigCount[i] = 1;
    // "if more than one type 5 address is announced: ... MUST not forward the node_announcement".
    if (dns > 1 || o.extraLength > this.maxRelayExtra) b.relayable[i] = 0;
    if (copies) copies.push(raw);
    else this.pendingNodeAnnouncements.set(key, [raw]);
    b.pending[i] = HAS_NA;
    return undefined;
  }

  // ================================================================ step 2: what to ask the chain

  /** The short_channel_ids whose funding output to look up: announcements whose signatures held. */
  utxoQueries(b: PreparedBatch, sigOk: Uint8Array): bigint[] {
    const out: bigint[] = [];
    for (let i = 0; i < b.items.length; i++) {
      if (b.pending[i] === HAS_ANN && this.signaturesHold(b, i, sigOk)) out.push(b.scid[i]!);
    }
    return out;
  }

  private signaturesHold(b: PreparedBatch, i: number, sigOk: Uint8Array): boolean {
    const at = b.sigAt[i]!;
    for (let k = 0; k < b.sigCount[i]!; k++) if (sigOk[at + k] !== 1) return false;
    return true;
  }

  // ================================================================ step 3: apply in order

  /**
   * Decides every message still open and changes the graph. `utxo` holds the answers for
   * `utxoQueries` (undefined: no chain source, so no output check and no capacity).
   */
  apply(
    b: PreparedBatch,
    sigOk: Uint8Array,
    utxo: ReadonlyMap<bigint, UtxoResult> | undefined,
    nowMs: number,
  ): BatchResult {
    if (b.applied) throw new Error('batch applied twice');
    b.applied = true;
    const nowSec = Math.floor(nowMs / 1000);
    const relay: RelayItem[] = [];
    const reactions: PeerReaction[] = [];
    let accepted = 0;
    for (let i = 0; i < b.items.length; i++) {
      const item = b.items[i]!;
      const type = messageType(item.raw);
      let outcome: Outcome;
      if (b.outcome[i] !== PENDING) outcome = OUTCOMES[b.outcome[i]!]!;
      else if (!this.signaturesHold(b, i, sigOk)) outcome = 'bad-signature';
      else if (type === TYPE_CHANNEL_ANNOUNCEMENT)
        outcome = this.applyAnnouncement(b, i, utxo, nowSec, relay);
      else if (type === TYPE_CHANNEL_UPDATE) outcome = this.applyUpdate(b, i, relay);
      else outcome = this.applyNode(b, i, relay);
      this.release(b, i);
      b.outcome[i] = OUTCOME_INDEX[outcome];
      const kind = type >= 256 && type <= 258 ? kindIndex(type) : -1;
      if (kind < 0) continue;
      this.counters.count(kind, OUTCOME_INDEX[outcome]);
      if (outcome === 'accepted') accepted++;
      const reaction = reactionTo(GOSSIP_KINDS[kind]!, outcome);
      if (reaction !== 'none' && item.peer !== '')
        reactions.push({ peer: item.peer, kind: GOSSIP_KINDS[kind]!, outcome, reaction });
    }
    this.counters.batches++;
    return { accepted, relay, reactions };
  }

  /** Forgets a prepared batch that will not be applied (its verification failed as a whole). */
  abandon(b: PreparedBatch): void {
    if (b.applied) return;
    b.applied = true;
    for (let i = 0; i < b.items.length; i++) this.release(b, i);
  }

  private release(b: PreparedBatch, i: number): void {
    const kind = b.pending[i];
    if (kind === 0) return;
    b.pending[i] = 0;
    const raw = b.items[i]!.raw;
    if (kind === HAS_ANN) {
      const scid = b.scid[i]!;
      const p = this.pendingAnnouncements.get(scid);
      if (p && --p.refs === 0) this.pendingAnnouncements.delete(scid);
      const o = channelAnnouncementOffsets(raw)!;
      for (const at of [o.nodeId1, o.nodeId2]) {
        const key = nodeKeyAt(raw, at);
        const n = (this.pendingNodes.get(key) ?? 1) - 1;
        if (n === 0) this.pendingNodes.delete(key);
        else this.pendingNodes.set(key, n);
      }
    } else if (kind === HAS_UPD) {
      const k = updateKey(b.scid[i]!, raw[CU_CHANNEL_FLAGS]! & 1);
      removeCopy(this.pendingUpdates, k, raw);
    } else {
      const o = nodeAnnouncementOffsets(raw)!;
      removeCopy(this.pendingNodeAnnouncements, nodeKeyAt(raw, o.nodeId), raw);
    }
  }

  private applyAnnouncement(
    b: PreparedBatch,
    i: number,
    utxo: ReadonlyMap<bigint, UtxoResult> | undefined,
    nowSec: number,
    relay: RelayItem[],
  ): Outcome {
    const raw = b.items[i]!.raw;
    const o = channelAnnouncementOffsets(raw)!;
    const scid = b.scid[i]!;
    if (this.isBlacklisted(raw, o)) return 'blacklisted';
    let capacitySat: bigint | undefined;
    let fundingTxid: Uint8Array | undefined;
    if (utxo) {
      const r = utxo.get(scid) ?? { status: 'unavailable', reason: 'not looked up' };
      if (r.status === 'missing') return 'utxo-missing';
      if (r.status === 'spent') return 'utxo-spent';
      if (r.status === 'unavailable') return 'utxo-unavailable';
      const expected = fundingScriptPubKey(raw, o.bitcoinKey1, raw, o.bitcoinKey2);
      if (!sameBytes(expected, r.scriptPubKey)) return 'utxo-script-mismatch';
      if (r.confirmations < this.minConfirmations) return 'utxo-unconfirmed';
      capacitySat = r.valueSat;
      fundingTxid = r.txid;
    }
    const c = this.graph.channelIndex(scid);
    if (c !== NO_INDEX) {
      if (this.sameNodes(c, raw, o)) return 'duplicate';
      this.conflict(c, raw, o);
      return 'conflicting-announcement';
    }
    const index = this.graph.addChannel(raw, {
      receivedAt: nowSec,
      ...(capacitySat !== undefined ? { capacitySat } : {}),
      ...(fundingTxid ? { fundingTxid } : {}),
    });
    if (b.relayable[i])
      relay.push({ type: 256, raw, origin: b.items[i]!.peer, index, direction: 0, timestamp: 0 });
    return 'accepted';
  }

  /** Two valid announcements of one output by different nodes: blacklist all four, forget their channels. */
  private conflict(c: number, raw: Uint8Array, o: ChannelAnnouncementOffsets): void {
    const g = this.graph;
    const nodes = [g.channelNodeAt(c, 0), g.channelNodeAt(c, 1)];
    for (const at of [o.nodeId1, o.nodeId2]) {
      this.blacklist.add(nodeKeyAt(raw, at));
      const n = g.nodeIndexAt(raw, at);
      if (n !== NO_INDEX) nodes.push(n);
    }
    for (const n of nodes) {
      this.blacklist.add(nodeKeyAt(g.nodeIdAt(n), 0));
      if ((g.nodeFlagsAt(n) & NODE_LIVE) === 0) continue;
      for (const ch of [...g.channelIndexesOf(n)]) g.removeChannel(ch);
    }
  }

  private applyUpdate(b: PreparedBatch, i: number, relay: RelayItem[]): Outcome {
    const raw = b.items[i]!.raw;
    const c = this.graph.channelIndex(b.scid[i]!);
    // Its announcement was in flight and did not make it into the graph.
    if (c === NO_INDEX) return 'unknown-channel';
    const dir = (raw[CU_CHANNEL_FLAGS]! & 1) as 0 | 1;
    // The key it verified against must be the accepted channel's (another announcement of the
    // same scid may have won).
    const signer = b.signatures.publicKeyOf(b.sigAt[i]!);
    if (!bytesEqualAt(signer, 0, this.graph.nodeIdAt(this.graph.channelNodeAt(c, dir)), 0, 33))
      return 'unknown-channel';
    const vs = this.againstEdge(c, raw);
    if (vs) return vs;
    if ((this.graph.channelFlagsAt(c) & CHANNEL_SPENT) !== 0 && (raw[CU_CHANNEL_FLAGS]! & 2) === 0)
      return 'channel-spent';
    this.graph.applyUpdate(c, raw);
    if (b.relayable[i])
      relay.push({
        type: 258,
        raw,
        origin: b.items[i]!.peer,
        index: c,
        direction: dir,
        timestamp: u32(raw, CU_TIMESTAMP),
      });
    return 'accepted';
  }

  private applyNode(b: PreparedBatch, i: number, relay: RelayItem[]): Outcome {
    const raw = b.items[i]!.raw;
    const o = nodeAnnouncementOffsets(raw)!;
    const n = this.graph.nodeIndexAt(raw, o.nodeId);
    if (n === NO_INDEX) return 'unknown-node';
    const t = u32(raw, o.timestamp);
    const have = this.graph.nodeTimestampAt(n);
    if (have !== 0 && t === have) return 'duplicate';
    if (have !== 0 && t < have) return 'stale';
    this.graph.applyNodeAnnouncement(n, raw, t);
    if (b.relayable[i])
      relay.push({ type: 257, raw, origin: b.items[i]!.peer, index: n, direction: 0, timestamp: t });
    return 'accepted';
  }
}

function removeCopy<K>(map: Map<K, Uint8Array[]>, key: K, raw: Uint8Array): void {
  const list = map.get(key);
  if (!list) return;
  const at = list.indexOf(raw);
  if (at >= 0) list.splice(at, 1);
  if (list.length === 0) map.delete(key);
}

export interface RunBatchOptions {
  crypto: CryptoService;
  utxo?: UtxoLookup;
  now?: () => number;
}

/** The three steps for one batch: prepare, verify (and look up funding outputs), apply. */
export async function runBatch(
  validator: GossipValidator,
  items: readonly InboundGossip[],
  options: RunBatchOptions,
): Promise<BatchResult & { batch: PreparedBatch }> {
  const now = options.now ?? Date.now;
  const batch = validator.prepare(items, now());
  let sigOk: Uint8Array;
  let utxo: Map<bigint, UtxoResult> | undefined;
  try {
    sigOk = await batch.signatures.verify(options.crypto);
    if (options.utxo) {
      const lookup = options.utxo;
      const scids = validator.utxoQueries(batch, sigOk);
      const answers = await Promise.all(scids.map((s) => lookup.lookup(s)));
      utxo = new Map(scids.map((s, k) => [s, answers[k]!]));
    }
  } catch (e) {
    validator.abandon(batch);
    throw e;
  }
  return { ...validator.apply(batch, sigOk, utxo, now()), batch };
}

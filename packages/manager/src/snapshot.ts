/**
 * The manager's snapshot (LDK guide step 17): for each channel that has a monitor, what the
 * manager knows beyond it — its phase, the funding's confirmation, channel_ready both ways, the
 * aliases, the peer's points, the close under way — plus the commitment numbers and the last
 * monitor update id it had sent, so that at start it can be checked against its monitor (the
 * source of truth: restore.ts). The commitments themselves are not here: they are the
 * monitor's, and a restart takes them from it.
 *
 * Versioned TLV records (@lnkit/store's defineRecord; DESIGN.md: even = required, odd =
 * optional), one per channel, and one for the best block the manager has handled, which is
 * where the chain sync (step 10) resumes it.
 */
import type { BestBlock, OutPointData } from '@lnkit/monitor';
import { defineRecord, fieldCodec as f, type NamedDb, type Store } from '@lnkit/store';
import type { AnnouncementSignaturePair, AnnouncementState } from './announcement.ts';
import type { ChannelPhase, ChannelState, FundingConfirmation } from './channel-state.ts';
import { encodeNormalState } from './htlc/normal-record.ts';

/** What the snapshot keeps of a cooperative close: the negotiation itself restarts at reestablish (BOLT 2). */
export interface CloseSnapshot {
  initiator: 'local' | 'remote';
  localScript: Uint8Array;
  remoteScript?: Uint8Array | undefined;
  shutdownSent: boolean;
  feeratePerKw: number;
  closingTxid?: string | undefined;
  closingTx?: Uint8Array | undefined;
}

export interface ForceCloseSnapshot {
  errorText?: string | undefined;
  commitmentTxid?: string | undefined;
  commitmentTx?: Uint8Array | undefined;
}

/**
 * Normal operation (HTLCs) beyond the monitor: the ids both sides' next HTLCs take (BOLT 2:
 * "MUST increase the value of id by 1 for each successive offer") and the peer's point for its
 * next commitment (from its last revoke_and_ack). The rest is rebuilt from the monitor and the
 * signer at start when the snapshot has no `normalState` (version 1).
 */
export interface NormalSnapshot {
  nextOfferedId: bigint;
  nextReceivedId: bigint;
  remoteNextPerCommitmentPoint?: Uint8Array | undefined;
}

export interface ChannelSnapshot {
  channelId: Uint8Array;
  temporaryChannelId: Uint8Array;
  counterpartyNodeId: string;
  phase: ChannelPhase;
  role: 'funder' | 'fundee';
  fundingOutpoint: OutPointData;
  scidAlias: boolean;
  pushMsat: bigint;
  /** The initial commitment feerate (open_channel's). */
  feeratePerKw: number;
  localCommitmentNumber: bigint;
  remoteCommitmentNumber: bigint;
  /** The last monitor update the channel had emitted (its nextMonitorUpdateId - 1). */
  lastMonitorUpdateId: bigint;
  channelReadySent: boolean;
  channelReadyReceived: boolean;
  localAlias: bigint;
  remoteFirstPerCommitmentPoint?: Uint8Array | undefined;
  remoteNextPerCommitmentPoint?: Uint8Array | undefined;
  confirmation?: FundingConfirmation | undefined;
  remoteAlias?: bigint | undefined;
  shortChannelId?: bigint | undefined;
  localShutdownScript?: Uint8Array | undefined;
  close?: CloseSnapshot | undefined;
  forceClose?: ForceCloseSnapshot | undefined;
  /**
   * Why the channel is closing or closed, as the ClosureReason's JSON (its fields are strings,
   * numbers and null). A closed channel's snapshot is a tombstone, removed at the next start.
   */
  closure?: string | undefined;
  confirmationUnknown?: boolean | undefined;
  normal?: NormalSnapshot | undefined;
  /**
   * Since version 2: the whole NormalState (htlc/normal-record.ts, a record of its own), from
   * which a restart resumes with HTLCs in flight (htlc/restart.ts). A version-1 snapshot has
   * only `normal` and resumes a channel without HTLCs, as before.
   */
  normalState?: Uint8Array | undefined;
  /**
   * A public channel's announcement_signatures (odd: a reader without it asks the signer again
   * and the peers exchange them anew at the next reconnection).
   */
  announcement?: AnnouncementSnapshot | undefined;
}

/** What outlives a restart of AnnouncementState: whether ours went out is per connection. */
export interface AnnouncementSnapshot {
  shortChannelId: bigint;
  local?: AnnouncementSignaturePair | undefined;
  remote?: AnnouncementSignaturePair | undefined;
  sent: boolean;
  announced: boolean;
}

const signaturePair = f.struct<AnnouncementSignaturePair>('announcement signatures', {
  nodeSignature: { type: 0, codec: f.fixed(64) },
  bitcoinSignature: { type: 2, codec: f.fixed(64) },
});

/** The announcement as it stands after a restart: nothing signing, nothing sent on the new link. */
export function announcementFromSnapshot(a: AnnouncementSnapshot | undefined): AnnouncementState | undefined {
  return a && { ...a, signing: false, sentOnThisLink: false };
}

/**
 * Where the manager writes its snapshot. `LmdbChannelSnapshotStore` is the default (the node
 * passes its Store); any store that keeps these four calls' data across a restart will do.
 * A write resolves once it is durable.
 */
export interface ChannelSnapshotStore {
  load(): Promise<{ channels: ChannelSnapshot[]; bestBlock?: BestBlock | undefined }>;
  /** `encoded`: the snapshot's bytes when the caller already has them (encodeChannelSnapshot). */
  saveChannel(snapshot: ChannelSnapshot, encoded?: Uint8Array): Promise<void>;
  removeChannel(channelIdHex: string): Promise<void>;
  saveBestBlock(bestBlock: BestBlock): Promise<void>;
}

/** Never reorder; append only (the index is what is stored). */
const PHASES: readonly ChannelPhase[] = [
  'awaiting-accept',
  'awaiting-funding-tx',
  'signing',
  'awaiting-funding-signed',
  'awaiting-funding-created',
  'awaiting-persist',
  'awaiting-confirmation',
  'ready',
  'shutdown',
  'negotiating',
  'closing',
  'closed',
];

const snapshotRecord = defineRecord<ChannelSnapshot>({
  kind: 'channel-snapshot',
  // 2: normalState. Odd, so a version-1 reader skips it and takes its own (safe) path.
  version: 2,
  minReadVersion: 1,
  fields: {
    channelId: { type: 0, codec: f.bytes32 },
    temporaryChannelId: { type: 2, codec: f.bytes32 },
    counterpartyNodeId: { type: 4, codec: f.hex(33) },
    phase: { type: 6, codec: f.enum('channel phase', PHASES) },
    role: { type: 8, codec: f.enum('channel role', ['funder', 'fundee'] as const) },
    fundingOutpoint: {
      type: 10,
      codec: f.struct<OutPointData>('outpoint', {
        txid: { type: 0, codec: f.bytes32 },
        vout: { type: 2, codec: f.u16 },
      }),
    },
    scidAlias: { type: 12, codec: f.bool },
    pushMsat: { type: 14, codec: f.u64 },
    feeratePerKw: { type: 16, codec: f.u32 },
    localCommitmentNumber: { type: 18, codec: f.u64 },
    remoteCommitmentNumber: { type: 20, codec: f.u64 },
    lastMonitorUpdateId: { type: 22, codec: f.u64 },
    channelReadySent: { type: 24, codec: f.bool },
    channelReadyReceived: { type: 26, codec: f.bool },
    localAlias: { type: 28, codec: f.u64 },
    remoteFirstPerCommitmentPoint: { type: 30, codec: f.point, optional: true },
    remoteNextPerCommitmentPoint: { type: 32, codec: f.point, optional: true },
    confirmation: {
      type: 34,
      codec: f.struct<FundingConfirmation>('funding confirmation', {
        height: { type: 0, codec: f.u32 },
        txIndex: { type: 2, codec: f.u32 },
      }),
      optional: true,
    },
    remoteAlias: { type: 36, codec: f.u64, optional: true },
    shortChannelId: { type: 38, codec: f.u64, optional: true },
    localShutdownScript: { type: 40, codec: f.bytes, optional: true },
    close: {
      type: 42,
      codec: f.struct<CloseSnapshot>('cooperative close', {
        initiator: { type: 0, codec: f.enum('close initiator', ['local', 'remote'] as const) },
        localScript: { type: 2, codec: f.bytes },
        remoteScript: { type: 4, codec: f.bytes, optional: true },
        shutdownSent: { type: 6, codec: f.bool },
        feeratePerKw: { type: 8, codec: f.u32 },
        closingTxid: { type: 10, codec: f.hex(32), optional: true },
        closingTx: { type: 12, codec: f.bytes, optional: true },
      }),
      optional: true,
    },
    forceClose: {
      type: 44,
      codec: f.struct<ForceCloseSnapshot>('force close', {
        errorText: { type: 1, codec: f.utf8, optional: true },
        commitmentTxid: { type: 2, codec: f.hex(32), optional: true },
        commitmentTx: { type: 4, codec: f.bytes, optional: true },
      }),
      optional: true,
    },
    closure: { type: 46, codec: f.utf8, optional: true },
    confirmationUnknown: { type: 48, codec: f.bool, optional: true },
    normal: {
      type: 50,
      codec: f.struct<NormalSnapshot>('normal operation', {
        nextOfferedId: { type: 0, codec: f.u64 },
        nextReceivedId: { type: 2, codec: f.u64 },
        remoteNextPerCommitmentPoint: { type: 4, codec: f.point, optional: true },
      }),
      optional: true,
    },
    normalState: { type: 51, codec: f.bytes, optional: true },
    announcement: {
      type: 53,
      codec: f.struct<AnnouncementSnapshot>('channel announcement', {
        shortChannelId: { type: 0, codec: f.u64 },
        local: { type: 1, codec: signaturePair, optional: true },
        remote: { type: 3, codec: signaturePair, optional: true },
        sent: { type: 4, codec: f.bool },
        announced: { type: 6, codec: f.bool },
      }),
      optional: true,
    },
  },
});

const bestBlockRecord = defineRecord<BestBlock>({
  kind: 'channel-manager-best-block',
  version: 1,
  minReadVersion: 1,
  fields: {
    hashHex: { type: 0, codec: f.hex(32) },
    height: { type: 2, codec: f.u32 },
  },
});

export const encodeChannelSnapshot = (s: ChannelSnapshot): Uint8Array => snapshotRecord.encode(s);
export const decodeChannelSnapshot = (b: Uint8Array): ChannelSnapshot => snapshotRecord.decode(b);

/**
 * The snapshot of a channel, or undefined for one that has no monitor yet (nothing before the
 * first monitor update survives a restart: BOLT 2 lets both sides forget such a channel).
 */
export function snapshotOf(s: ChannelState): ChannelSnapshot | undefined {
  if (!s.channelId || !s.funding || s.nextMonitorUpdateId <= 1n) return undefined;
  const c = s.commitments;
  return {
    channelId: s.channelId,
    temporaryChannelId: s.temporaryChannelId,
    counterpartyNodeId: s.counterpartyNodeId,
    phase: s.phase,
    role: s.role,
    fundingOutpoint: s.funding.outpoint,
    scidAlias: s.channelType.scidAlias,
    pushMsat: s.pushMsat,
    feeratePerKw: s.feeratePerKw,
    localCommitmentNumber: c?.localCommitmentNumber ?? 0n,
    remoteCommitmentNumber: c?.remoteCommitmentNumber ?? 0n,
    lastMonitorUpdateId: s.nextMonitorUpdateId - 1n,
    channelReadySent: s.channelReadySent,
    channelReadyReceived: s.channelReadyReceived,
    localAlias: s.localAlias,
    remoteFirstPerCommitmentPoint: s.remoteFirstPerCommitmentPoint,
    remoteNextPerCommitmentPoint: s.remoteNextPerCommitmentPoint,
    confirmation: s.confirmation,
    remoteAlias: s.remoteAlias,
    shortChannelId: s.shortChannelId,
    localShutdownScript: s.localShutdownScript,
    close: s.close && {
      initiator: s.close.initiator,
      localScript: s.close.localScript,
      remoteScript: s.close.remoteScript,
      shutdownSent: s.close.shutdownSent,
      feeratePerKw: s.close.feeratePerKw,
      closingTxid: s.close.closingTxid,
      closingTx: s.close.closingTx,
    },
    forceClose: s.forceClose && { ...s.forceClose },
    closure: s.closure ? JSON.stringify(s.closure) : undefined,
    confirmationUnknown: s.confirmationUnknown,
    normal: s.normal && {
      nextOfferedId: s.normal.ledger.nextOfferedId,
      nextReceivedId: s.normal.ledger.nextReceivedId,
      remoteNextPerCommitmentPoint: s.normal.commitments.counterparty.nextPerCommitmentPoint,
    },
    normalState: s.normal && encodeNormalState(s.normal),
    announcement: s.announcement && {
      shortChannelId: s.announcement.shortChannelId,
      local: s.announcement.local,
      remote: s.announcement.remote,
      sent: s.announcement.sent,
      announced: s.announcement.announced,
    },
  };
}

/** The database the default store writes: `channel/<channel id hex>` and `best-block`. */
export const CHANNEL_SNAPSHOT_DB = 'channel-manager';
const BEST_BLOCK_KEY = 'best-block';
const channelKey = (idHex: string) => `channel/${idHex}`;

/** The default ChannelSnapshotStore, in the node's lmdb Store; each write resolves once flushed. */
export class LmdbChannelSnapshotStore implements ChannelSnapshotStore {
  readonly #db: NamedDb<Uint8Array>;

  constructor(store: Store) {
    this.#db = store.db(CHANNEL_SNAPSHOT_DB);
  }

  async load(): Promise<{ channels: ChannelSnapshot[]; bestBlock?: BestBlock | undefined }> {
    const channels = this.#db
      .entries({ start: 'channel/', end: 'channel0' })
      .map(({ value }) => decodeChannelSnapshot(value));
    const best = this.#db.get(BEST_BLOCK_KEY);
    return { channels, bestBlock: best ? bestBlockRecord.decode(best) : undefined };
  }

  saveChannel(snapshot: ChannelSnapshot, encoded?: Uint8Array): Promise<void> {
    return this.#db.put(
      channelKey(Buffer.from(snapshot.channelId).toString('hex')),
      encoded ?? encodeChannelSnapshot(snapshot),
    );
  }

  removeChannel(channelIdHex: string): Promise<void> {
    return this.#db.remove(channelKey(channelIdHex));
  }

  saveBestBlock(bestBlock: BestBlock): Promise<void> {
    return this.#db.put(BEST_BLOCK_KEY, bestBlockRecord.encode(bestBlock));
  }
}

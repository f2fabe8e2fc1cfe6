/**
 * What a ChannelMonitor holds (DESIGN.md, the durability rule: "One source of truth per channel:
 * the ChannelMonitor's persisted state"), the numbered updates that change it, and the events
 * it says when the chain moves. All plain data — bytes, bigints, strings, arrays — so a monitor,
 * an update or an event crosses threads by structured clone as it is.
 *
 * Byte orders: `txid` fields are internal order (as BOLT 2 messages carry them); `...Hex`
 * fields are display order (as bitcoind prints them), as in @lnkit/chain-sync.
 */
import type { BestBlock } from '@lnkit/chain-sync';
import type { ChannelPublicKeys } from '@lnkit/keys';
import type { ChannelType, CommitmentOutputKind, OutPoint } from '@lnkit/tx';

export type { BestBlock, ChannelPublicKeys, ChannelType, CommitmentOutputKind, OutPoint };

/** `<funding txid, display order>:<vout>`: how a monitor is found, stored and logged. */
export type FundingKey = string;

/** BOLT 5 / LDK ANTI_REORG_DELAY: a funding spend this deep is taken as final. */
export const ANTI_REORG_DELAY = 6;

/** The channel as agreed at open: fixed for the channel's life. Public keys and indexes only. */
export interface ChannelParameters {
  /** BOLT 2 channel_id. */
  channelId: Uint8Array;
  counterpartyNodeId: Uint8Array;
  channelType: ChannelType;
  fundingOutpoint: OutPoint;
  fundingSat: bigint;
  /** The holder (this node) opened and funded the channel: it pays the commitment fees. */
  holderIsFunder: boolean;
  /**
   * The KeysManager channel index the holder's signer is derived from
   * (`createChannelSigner(channelKeyIndex, state)`): the monitor never holds a secret.
   */
  channelKeyIndex: bigint;
  holderPubkeys: ChannelPublicKeys;
  counterpartyPubkeys: ChannelPublicKeys;
  /** Blocks the holder's to_local waits: the to_self_delay the counterparty asked for. */
  holderToSelfDelay: number;
  /** Blocks the counterparty's to_local waits: the to_self_delay the holder asked for. */
  counterpartyToSelfDelay: number;
  holderDustLimitSat: bigint;
  counterpartyDustLimitSat: bigint;
}

/**
 * An HTLC of a commitment, from the commitment owner's view (as @lnkit/tx's CommitmentHtlc):
 * `offered` by the owner or `received` by it. The payment work fills these in; a commitment
 * without HTLCs has an empty list.
 */
export interface MonitoredHtlc {
  /** The htlc_id given by the side that offered it. */
  id: bigint;
  direction: 'offered' | 'received';
  amountMsat: bigint;
  paymentHash: Uint8Array;
  cltvExpiry: number;
  /** Its output in the commitment; absent when trimmed (BOLT 3 "Trimmed Outputs"). */
  vout?: number;
}

/** An HTLC of the holder's commitment, with what it takes to spend its output ourselves. */
export interface HolderHtlc extends MonitoredHtlc {
  /** The counterparty's signature (64 bytes, compact) of its HTLC-success/timeout transaction; untrimmed only. */
  counterpartySignature?: Uint8Array;
}

/** One output of a commitment, from the owner's view (@lnkit/tx's CommitmentOutput). */
export interface MonitoredOutput {
  kind: CommitmentOutputKind;
  valueSat: bigint;
  scriptPubKey: Uint8Array;
  /** The witness script of a P2WSH output (every output but a static_remotekey to_remote). */
  witnessScript?: Uint8Array;
}

/** A commitment transaction that could reach the chain: enough to recognise it and claim from it. */
export interface MonitoredCommitment {
  /** Internal order. Checked against the transaction `outputs` make when the update is applied. */
  txid: Uint8Array;
  commitmentNumber: bigint;
  /** The owner's per_commitment_point for this commitment. */
  perCommitmentPoint: Uint8Array;
  feeratePerKw: bigint;
  /** The owner's balances with every HTLC taken out. */
  toLocalMsat: bigint;
  toRemoteMsat: bigint;
  /** In transaction order: the index is the vout. */
  outputs: MonitoredOutput[];
  htlcs: MonitoredHtlc[];
}

/** The holder's own commitment: with the counterparty's signature, so it can be broadcast. */
export interface HolderCommitment extends MonitoredCommitment {
  htlcs: HolderHtlc[];
  /** The counterparty's signature of the funding input (64 bytes, compact). */
  counterpartySignature: Uint8Array;
}

export type CounterpartyCommitment = MonitoredCommitment;

/**
 * A revoked counterparty commitment that had HTLC outputs: its HTLCs are kept (the scripts need
 * their payment hashes and expiries) so a justice claim can take them. A revoked commitment
 * without HTLCs is not kept: its number and the revocation secret rebuild everything.
 */
export interface RevokedCommitmentHtlcs {
  txid: Uint8Array;
  commitmentNumber: bigint;
  htlcs: MonitoredHtlc[];
}

/** What spent the funding output. */
export type FundingSpendKind =
  /** A cooperative closing transaction (closing_signed / closing_complete). */
  | 'mutual-close'
  /** The holder's current commitment, or its previous one. */
  | 'holder-commitment'
  /** The counterparty's latest commitment. */
  | 'counterparty-commitment'
  /** The counterparty's previous commitment, not yet revoked (it still had two). */
  | 'counterparty-previous-commitment'
  /** A counterparty commitment whose revocation secret the holder holds: everything is the holder's. */
  | 'counterparty-revoked-commitment'
  /** Commitment-shaped, but none the monitor knows: the node must say so loudly. */
  | 'unknown-commitment';

/**
 * How an output the holder may claim is taken (the claims themselves are the on-chain
 * enforcement work, BOLT 5):
 * - `delayed`: the holder's to_local on its own commitment, after `csvDelay` blocks;
 * - `payment`: the holder's to_remote on the counterparty's commitment (after `csvDelay`: 1 with anchors);
 * - `revocation`: an output of a revoked counterparty commitment, with the revocation key;
 * - `anchor`: the holder's anchor, to bump the fee (CPFP), or swept after 16 blocks;
 * - `htlc-preimage` / `htlc-timeout`: an HTLC output, with its preimage or after its expiry —
 *   through a pre-signed second-stage transaction on the holder's commitment (`secondStage`).
 */
export type ClaimKind = 'delayed' | 'payment' | 'revocation' | 'anchor' | 'htlc-preimage' | 'htlc-timeout';

export interface ClaimableOutput {
  vout: number;
  valueSat: bigint;
  scriptPubKey: Uint8Array;
  witnessScript?: Uint8Array;
  claim: ClaimKind;
  /** Relative delay (OP_CSV) before it can be spent. */
  csvDelay?: number;
  /** The HTLC behind an HTLC output (its id, hash, expiry). */
  htlc?: MonitoredHtlc;
  /** Spent through the holder's pre-signed HTLC-success/timeout transaction. */
  secondStage?: boolean;
}

/** The funding output's spend, as a block showed it. */
export interface FundingSpend {
  kind: FundingSpendKind;
  txidHex: string;
  height: number;
  blockHashHex: string;
  /** For a commitment: its number, from the obscured number in locktime and sequence. */
  commitmentNumber?: bigint;
  /** ANTI_REORG_DELAY confirmations reached: no longer undone by a reorg. */
  irrevocable: boolean;
  /** Every output of the spend that is the holder's to claim. */
  claimableOutputs: ClaimableOutput[];
}

/** One channel's monitor. Change it only through `applyMonitorUpdate` and the chain functions. */
export interface ChannelMonitor {
  readonly fundingKey: FundingKey;
  /** The id of the last update applied (1 after the initial update). */
  readonly latestUpdateId: number;
  readonly channel: ChannelParameters;
  readonly holderCommitment: HolderCommitment;
  /** The holder's commitment before the current one, kept to recognise it on chain. */
  readonly previousHolderCommitment?: HolderCommitment;
  /** The counterparty's unrevoked commitments, oldest first: one, or two while a revocation is due. */
  readonly counterpartyCommitments: readonly CounterpartyCommitment[];
  readonly revokedCounterpartyHtlcs: readonly RevokedCommitmentHtlcs[];
  /** The counterparty's revocation secrets: `CounterpartyCommitmentSecrets.serialize()` (@lnkit/keys). */
  readonly commitmentSecrets: Uint8Array;
  /** HTLC preimages learnt (32 bytes each); `preimageFor(monitor, hash)` finds one. */
  readonly preimages: readonly Uint8Array[];
  /** The last block this monitor has seen. */
  readonly bestBlock: BestBlock;
  /** Set by a `channel-force-closed` step: no commitment update is accepted after it. */
  readonly closed?: { broadcastHolderCommitment: boolean };
  readonly fundingSpend?: FundingSpend;
}

/** One change to a monitor. See the README for when the channel sends each. */
export type MonitorUpdateStep =
  /** Update 1, alone: the channel's parameters and both first commitments (funding_created / funding_signed). */
  | {
      type: 'initial';
      channel: ChannelParameters;
      holderCommitment: HolderCommitment;
      counterpartyCommitment: CounterpartyCommitment;
      /** The chain tip when the channel was made: the monitor sees blocks after it. */
      bestBlock: BestBlock;
    }
  /** The counterparty's next commitment, before the holder's commitment_signed for it leaves. */
  | { type: 'counterparty-commitment'; commitment: CounterpartyCommitment }
  /** The holder's next commitment (commitment_signed received), before revoke_and_ack leaves. */
  | { type: 'holder-commitment'; commitment: HolderCommitment }
  /** The secret of counterparty commitment `commitmentNumber` (revoke_and_ack received). */
  | { type: 'commitment-secret'; commitmentNumber: bigint; secret: Uint8Array }
  /** An HTLC preimage learnt (update_fulfill_htlc, or claimed on chain). */
  | { type: 'payment-preimage'; preimage: Uint8Array }
  /** Force close: no further commitment; broadcast the holder's latest commitment if asked. */
  | { type: 'channel-force-closed'; broadcastHolderCommitment: boolean };

export type MonitorUpdateStepType = MonitorUpdateStep['type'];

/** A numbered update: ids 1, 2, 3, … per channel, applied and persisted in order. */
export interface ChannelMonitorUpdate {
  updateId: number;
  steps: MonitorUpdateStep[];
}

interface ChannelEvent {
  fundingKey: FundingKey;
  channelId: Uint8Array;
}

/** What the monitors say: the chain's side of a channel, and the persister's answers. */
export type MonitorEvent =
  | (ChannelEvent & { type: 'FundingSpent' } & FundingSpend)
  /** The block holding the spend was disconnected before the spend was irrevocable. */
  | (ChannelEvent & { type: 'FundingSpendReorged'; txidHex: string; height: number })
  /** The spend reached ANTI_REORG_DELAY confirmations. */
  | (ChannelEvent & { type: 'FundingSpendIrrevocable'; txidHex: string; height: number })
  /** Every update up to `updateId` is durable (an in-progress persist completed). */
  | (ChannelEvent & { type: 'MonitorUpdateCompleted'; updateId: number })
  /** A persist failed: the channel must stop, and the node says why. */
  | (ChannelEvent & { type: 'MonitorUpdateFailed'; updateId: number; reason: string });

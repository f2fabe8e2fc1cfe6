/**
 * What a ChannelMonitor holds (DESIGN.md, the durability rule: "One source of truth per channel:
 * the ChannelMonitor's persisted state"), the numbered updates that change it, and the events
 * it says when the chain moves. All plain data — bytes, bigints, strings, arrays — so a monitor,
 * an update or an event crosses threads by structured clone as it is.
 *
 * Byte orders: an outpoint's `txid` is bytes in internal order (as BOLT 2 messages carry it);
 * a commitment's `txid` and every `...Hex` field are display-order hex (as bitcoind prints
 * them), as in @lnkit/chain-sync.
 */

import type { BestBlock } from '@lnkit/chain-sync';
import type { ChannelPublicKeys } from '@lnkit/keys';
import type { ChannelType } from '@lnkit/tx';
import type { ClaimEvent, ResolutionState } from './claim-tracker.ts';

export type { BestBlock, ChannelPublicKeys, ChannelType };

/** `<funding txid, display order>:<vout>`: how a monitor is found, stored and logged. */
export type FundingKey = string;

/** BOLT 5 / LDK ANTI_REORG_DELAY: a funding spend this deep is taken as final. */
export const ANTI_REORG_DELAY = 6;

/**
 * The update shape the channel core emits, declared only here: @lnkit/manager imports it, so the
 * persisted record has one source of truth. The monitor owns what it makes of them.
 */
export interface OutPointData {
  /** Internal byte order (as BOLT 2 funding_created carries it). */
  txid: Uint8Array;
  vout: number;
}

/** One side's channel parameters, as it sent them in open_channel / accept_channel. */
export interface ChannelSideParams {
  dustLimitSat: bigint;
  maxHtlcValueInFlightMsat: bigint;
  /** The reserve this side asks the *other* side to keep. */
  channelReserveSat: bigint;
  htlcMinimumMsat: bigint;
  /** The delay this side imposes on the *other* side's to_local outputs. */
  toSelfDelay: number;
  maxAcceptedHtlcs: number;
  fundingPubkey: Uint8Array;
  revocationBasepoint: Uint8Array;
  paymentBasepoint: Uint8Array;
  delayedPaymentBasepoint: Uint8Array;
  htlcBasepoint: Uint8Array;
  /** A non-empty upfront_shutdown_script, if this side committed to one. */
  upfrontShutdownScript?: Uint8Array | undefined;
}

/**
 * An HTLC of a commitment, from the commitment owner's view (as @lnkit/tx's CommitmentHtlc):
 * `offered` by the owner or `received` by it. The payment work fills these in.
 */
export interface HtlcData {
  /** The htlc_id given by the side that offered it. */
  id: bigint;
  direction: 'offered' | 'received';
  amountMsat: bigint;
  paymentHash: Uint8Array;
  cltvExpiry: number;
}

/** A commitment transaction as the monitor keeps it: enough to recognise it and claim from it. */
export interface CommitmentData {
  commitmentNumber: bigint;
  /** The owner's per_commitment_point for this commitment. */
  perCommitmentPoint: Uint8Array;
  /** Display-order txid. */
  txid: string;
  /** The unsigned transaction (no witness on the funding input). */
  tx: Uint8Array;
  /** The owner's balance and the other side's, HTLCs taken out. */
  toLocalMsat: bigint;
  toRemoteMsat: bigint;
  feeratePerKw: number;
  /** Its HTLCs, trimmed ones included; absent or empty when it has none. */
  htlcs?: HtlcData[] | undefined;
}

/** Our commitment: with the counterparty's signature, so the monitor can complete and broadcast it. */
export interface HolderCommitmentData extends CommitmentData {
  /** 64-byte compact signature of the counterparty's funding key. */
  counterpartySignature: Uint8Array;
  /** Its HTLC signatures (64 bytes each), in commitment output order, as commitment_signed carries them. */
  htlcSignatures?: Uint8Array[] | undefined;
}

/** Everything the monitor must know from the start (the first update of every channel). */
export interface ChannelOpened {
  readonly kind: 'channel-opened';
  channelId: Uint8Array;
  counterpartyNodeId: string;
  /** We opened (and paid for) the channel. */
  isFunder: boolean;
  channelType: ChannelType;
  announce: boolean;
  fundingOutpoint: OutPointData;
  fundingSat: bigint;
  /** The 2-of-2 witness script and its P2WSH output script. */
  fundingScript: Uint8Array;
  fundingScriptPubKey: Uint8Array;
  /** The funding transaction, when we built it (funder): to rebroadcast until it confirms. */
  fundingTx?: Uint8Array | undefined;
  /**
   * The KeysManager channel index the holder's signer is derived from
   * (`createChannelSigner(channelKeyIndex, state)`): the monitor never holds a secret.
   */
  channelKeyIndex: bigint;
  local: ChannelSideParams;
  remote: ChannelSideParams;
  /** BOLT 3 obscuring factor of the commitment numbers (the lower 48 bits). */
  commitmentNumberObscure: bigint;
  /** Confirmations the channel waits for before channel_ready. */
  minimumDepth: number;
  /** The height at which the channel was created (the fundee's 2016-block timeout counts from it). */
  createdAtHeight: number;
  holderCommitment: HolderCommitmentData;
  counterpartyCommitment: CommitmentData;
  /** Where our mutual-close output goes when we did not commit to one upfront. */
  localShutdownScript?: Uint8Array | undefined;
}

/** The channel is gone from the manager: the monitor keeps watching what could still spend the funding. */
export interface ChannelClosedStep {
  readonly kind: 'channel-closed';
  /** Why, in words (ClosureReason.kind). */
  reason: string;
  /**
   * Broadcast our latest holder commitment (a force close). False when nothing was ever at
   * stake (the funding never confirmed and was never ours to broadcast) or the close is mutual.
   */
  broadcastHolderCommitment: boolean;
}

/** The counterparty's next commitment, persisted before our commitment_signed for it leaves. */
export interface CounterpartyCommitmentStep {
  readonly kind: 'counterparty-commitment';
  commitment: CommitmentData;
}

/** Our next commitment (commitment_signed received), persisted before our revoke_and_ack leaves. */
export interface HolderCommitmentStep {
  readonly kind: 'holder-commitment';
  commitment: HolderCommitmentData;
}

/** The secret of counterparty commitment `commitmentNumber` (their revoke_and_ack). */
export interface CommitmentSecretStep {
  readonly kind: 'commitment-secret';
  commitmentNumber: bigint;
  secret: Uint8Array;
}

/** An HTLC preimage learnt (update_fulfill_htlc, or seen on chain). */
export interface PaymentPreimageStep {
  readonly kind: 'payment-preimage';
  paymentPreimage: Uint8Array;
}

export type MonitorUpdateStep =
  | ChannelOpened
  | CounterpartyCommitmentStep
  | HolderCommitmentStep
  | CommitmentSecretStep
  | PaymentPreimageStep
  | ChannelClosedStep;

export type MonitorUpdateStepKind = MonitorUpdateStep['kind'];

/** A numbered update: ids 1, 2, 3, … per channel, applied and persisted in order. */
export interface ChannelMonitorUpdate {
  channelId: Uint8Array;
  /** 1 for the channel-opened update, then one more for each update. */
  updateId: bigint;
  steps: MonitorUpdateStep[];
}

/** The channel as opened, without its first commitments (the monitor keeps the latest ones apart). */
export type ChannelInfo = Omit<ChannelOpened, 'kind' | 'holderCommitment' | 'counterpartyCommitment'>;

/** What the monitor's own code reads from ChannelInfo, in holder / counterparty terms. Derived, never stored. */
export interface ChannelParameters {
  channelId: Uint8Array;
  channelType: ChannelType;
  fundingOutpoint: OutPointData;
  fundingSat: bigint;
  fundingScript: Uint8Array;
  holderIsFunder: boolean;
  holderPubkeys: ChannelPublicKeys;
  counterpartyPubkeys: ChannelPublicKeys;
  /** Blocks the holder's to_local waits: the to_self_delay the counterparty asked for. */
  holderToSelfDelay: number;
  /** Blocks the counterparty's to_local waits: the to_self_delay the holder asked for. */
  counterpartyToSelfDelay: number;
  obscuringFactor: bigint;
}

/**
 * A revoked counterparty commitment that had HTLCs: they are kept (their scripts need the
 * payment hashes and expiries) so a justice claim can take them. A revoked commitment without
 * HTLCs is not kept: its number and the revocation secret rebuild everything.
 */
export interface RevokedCommitmentHtlcs {
  /** Display order. */
  txid: string;
  commitmentNumber: bigint;
  htlcs: HtlcData[];
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
  htlc?: HtlcData;
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
  /** The id of the last update applied (1 after the channel-opened update). */
  readonly latestUpdateId: bigint;
  readonly info: ChannelInfo;
  /** Derived from `info`. */
  readonly channel: ChannelParameters;
  readonly holderCommitment: HolderCommitmentData;
  /** The holder's commitment before the current one, kept to recognise it on chain. */
  readonly previousHolderCommitment?: HolderCommitmentData | undefined;
  /** The counterparty's unrevoked commitments, oldest first: one, or two while a revocation is due. */
  readonly counterpartyCommitments: readonly CommitmentData[];
  readonly revokedCounterpartyHtlcs: readonly RevokedCommitmentHtlcs[];
  /** The counterparty's revocation secrets: `CounterpartyCommitmentSecrets.serialize()` (@lnkit/keys). */
  readonly commitmentSecrets: Uint8Array;
  /** HTLC preimages learnt (32 bytes each); `preimageFor(monitor, hash)` finds one. */
  readonly preimages: readonly Uint8Array[];
  /** The last block this monitor has seen. */
  readonly bestBlock: BestBlock;
  /** Set by a `channel-closed` step: no commitment update is accepted after it. */
  readonly closed?: { reason: string; broadcastHolderCommitment: boolean } | undefined;
  readonly fundingSpend?: FundingSpend | undefined;
  /** The on-chain resolution once the funding output is spent (BOLT 5): what is claimed, what is pending. */
  readonly resolution?: ResolutionState | undefined;
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
  | (ChannelEvent & { type: 'MonitorUpdateCompleted'; updateId: bigint })
  /** A persist failed: the channel must stop, and the node says why. */
  | (ChannelEvent & { type: 'MonitorUpdateFailed'; updateId: bigint; reason: string })
  /** A closed channel's monitor, done on chain long enough, archived: no longer watched. */
  | (ChannelEvent & { type: 'MonitorArchived'; height: number })
  /** Claims broadcast and confirmed, preimages learnt on chain, a resolution done (claim-tracker.ts). */
  | ClaimEvent;

/**
 * ChannelMonitorUpdate: what a channel tells its ChannelMonitor, the one source of truth of
 * the channel (DESIGN.md, the durability rule). Numbered from 1 per channel and applied in
 * order; the channel sends nothing that depends on an update before its persist completed.
 *
 * It is plain data (bytes, bigints, numbers, strings), so it crosses threads by structured
 * clone and can be written as a versioned record (monitor-update-record.ts). It carries
 * everything the monitor needs to recognise and later claim from any transaction that could
 * spend the funding output, and never a secret: keys are named by the channel's key index
 * (KeysManager.deriveChannelKeys / the signer pool) and by their public points.
 *
 * The monitor package owns the monitor; this file fixes the shape the channel core emits.
 * It is a type only, so a package below the manager can declare the same shape (TypeScript
 * compares structures) or import this one as a type.
 */
import type { ChannelType } from './channel-type.ts';

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

/** A commitment transaction as the monitor keeps it. */
export interface CommitmentData {
  commitmentNumber: bigint;
  /** The owner's per_commitment_point for this commitment. */
  perCommitmentPoint: Uint8Array;
  /** Display-order txid. */
  txid: string;
  /** The unsigned transaction (no witness on the funding input). */
  tx: Uint8Array;
  /** The owner's balance and the other side's, HTLCs taken out (there are none yet). */
  toLocalMsat: bigint;
  toRemoteMsat: bigint;
  feeratePerKw: number;
}

/** Our commitment: with the counterparty's signature, so the monitor can complete and broadcast it. */
export interface HolderCommitmentData extends CommitmentData {
  /** 64-byte compact signature of the counterparty's funding key. */
  counterpartySignature: Uint8Array;
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
  /** The index of this channel's keys (KeysManager.deriveChannelKeys(i)). */
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

export type MonitorUpdateStep = ChannelOpened | ChannelClosedStep;

export interface ChannelMonitorUpdate {
  channelId: Uint8Array;
  /** 1 for the channel-opened update, then one more for each update. */
  updateId: bigint;
  steps: MonitorUpdateStep[];
}

/**
 * The data of one channel's state machine: its state, the inputs it takes and the effects it
 * returns (channel.ts is the machine). All plain data — bytes, bigints, numbers, strings — so a
 * state can be copied, compared in tests, and written to a snapshot.
 *
 * Laid out for HTLCs to come: both sides' commitment numbers and per-commitment points, and
 * balances in msat, sit in `commitments`, which the payment work extends with HTLC lists and
 * the revocation steps.
 */
import type { ChannelPublicKeys } from '@lnkit/keys';
import type {
  ChannelMonitorUpdate,
  ChannelSideParams,
  CommitmentData,
  HolderCommitmentData,
  OutPointData,
} from '@lnkit/monitor';
import type { PersistStatus } from '@lnkit/store';
import type { Message } from '@lnkit/wire';
import type { AnnouncementState } from './announcement.ts';
import type { NegotiatedChannelType } from './channel-type.ts';
import type { Refusal } from './checks.ts';
import type { HtlcEvent, NormalInput, NormalState } from './htlc/index.ts';

/** Our keys for one channel: public points only (the secrets stay in the signer). */
export interface LocalChannelKeys {
  channelKeyIndex: bigint;
  pubkeys: ChannelPublicKeys;
  /** Our per_commitment_points for commitments 0 (open/accept) and 1 (channel_ready). */
  perCommitmentPoints: readonly [Uint8Array, Uint8Array];
}

export type ChannelPhase =
  /** Funder: open_channel sent. */
  | 'awaiting-accept'
  /** Funder: accept_channel checked; the wallet is building the funding transaction. */
  | 'awaiting-funding-tx'
  /** Both: the signer is signing the other side's first commitment. */
  | 'signing'
  /** Funder: funding_created sent. */
  | 'awaiting-funding-signed'
  /** Fundee: accept_channel sent. */
  | 'awaiting-funding-created'
  /** Both: the first monitor update is being persisted (the fundee then sends funding_signed, the funder broadcasts). */
  | 'awaiting-persist'
  /** Both: the funding is out; channel_ready after minimum_depth confirmations. */
  | 'awaiting-confirmation'
  /** Both sides sent channel_ready. */
  | 'ready'
  /** A shutdown was sent or received; the other is awaited (BOLT 2 "Channel Close"). */
  | 'shutdown'
  /** Both shutdowns exchanged: closing_signed fee negotiation. */
  | 'negotiating'
  /** The closing transaction is signed and broadcast; waiting for it to confirm. */
  | 'closing'
  | 'closed';

/** Where the funding transaction is confirmed now (reorgs move or remove it). */
export interface FundingConfirmation {
  height: number;
  txIndex: number;
}

export interface FundingInfo {
  outpoint: OutPointData;
  /** The 2-of-2 witness script and its P2WSH output script. */
  script: Uint8Array;
  scriptPubKey: Uint8Array;
  /** The signed funding transaction (funder only). */
  tx?: Uint8Array | undefined;
}

/** Both commitments and the numbers that move with each update (BOLT 2 normal operation). */
export interface Commitments {
  /** The number of our current commitment (0 until the first commitment_signed after ready). */
  localCommitmentNumber: bigint;
  remoteCommitmentNumber: bigint;
  /** Our balance and theirs, in msat, HTLCs taken out. */
  toLocalMsat: bigint;
  toRemoteMsat: bigint;
  feeratePerKw: number;
  holder: HolderCommitmentData;
  counterparty: CommitmentData;
}

/** BOLT 2 closing_signed `fee_range`. */
export interface FeeRangeSat {
  minFeeSatoshis: bigint;
  maxFeeSatoshis: bigint;
}

/** A closing transaction we are signing, and what to do once it is signed. */
export interface PendingClosingSignature {
  feeSat: bigint;
  /** Unsigned closing transaction. */
  tx: Uint8Array;
  /** 'proposal': send closing_signed with it; 'final': also complete and broadcast it. */
  purpose: 'proposal' | 'final';
  /** 'final' only: the counterparty's signature of `tx`, and whether to echo the fee in a closing_signed. */
  remoteSignature?: Uint8Array | undefined;
  reply?: boolean | undefined;
}

/** The cooperative close (BOLT 2 shutdown and legacy closing_signed negotiation). */
export interface CloseState {
  initiator: 'local' | 'remote';
  localScript: Uint8Array;
  remoteScript?: Uint8Array | undefined;
  shutdownSent: boolean;
  /** The feerate we aim the closing transaction at. */
  feeratePerKw: number;
  lastSentFeeSat?: bigint | undefined;
  sentRange?: FeeRangeSat | undefined;
  lastReceivedFeeSat?: bigint | undefined;
  pending?: PendingClosingSignature | undefined;
  /** Display order, once broadcast. */
  closingTxid?: string | undefined;
  closingTx?: Uint8Array | undefined;
}

export interface ChannelState {
  readonly phase: ChannelPhase;
  readonly role: 'funder' | 'fundee';
  readonly counterpartyNodeId: string;
  readonly temporaryChannelId: Uint8Array;
  /** BOLT 2 channel_id, from funding_created on. */
  readonly channelId?: Uint8Array | undefined;
  readonly chainHash: Uint8Array;
  readonly channelType: NegotiatedChannelType;
  readonly announce: boolean;
  readonly fundingSat: bigint;
  readonly pushMsat: bigint;
  /** The initial commitment feerate (open_channel feerate_per_kw). */
  readonly feeratePerKw: number;
  /** Funder: the feerate of the funding transaction the wallet builds. */
  readonly fundingFeeratePerKw?: number | undefined;
  readonly keys: LocalChannelKeys;
  /** What we sent in open_channel / accept_channel. */
  readonly local: ChannelSideParams;
  /** What they sent. */
  readonly remote?: ChannelSideParams | undefined;
  /** Their per_commitment_points: the first (open/accept) and the next (channel_ready). */
  readonly remoteFirstPerCommitmentPoint?: Uint8Array | undefined;
  readonly remoteNextPerCommitmentPoint?: Uint8Array | undefined;
  /** Where our mutual-close output goes. */
  readonly localShutdownScript?: Uint8Array | undefined;
  /** Confirmations awaited before channel_ready: ours as fundee, theirs (at least 1) as funder. */
  readonly minimumDepth: number;
  readonly funding?: FundingInfo | undefined;
  readonly confirmation?: FundingConfirmation | undefined;
  readonly bestHeight: number;
  readonly createdAtHeight: number;
  readonly commitments?: Commitments | undefined;
  /**
   * BOLT 2 normal operation (htlc/): from `ready` on, the HTLC ledger and both commitments.
   * `commitments` is kept in step with it (numbers, balances, the latest commitment data).
   */
  readonly normal?: NormalState | undefined;
  /** Fundee: our signature for funding_signed, held until the monitor is durable. */
  readonly fundingSignedSignature?: Uint8Array | undefined;
  readonly channelReadySent: boolean;
  readonly channelReadyReceived: boolean;
  /** The alias we send in channel_ready, and the one they sent (BOLT 2 short_channel_id TLV). */
  readonly localAlias: bigint;
  readonly remoteAlias?: bigint | undefined;
  /** The real short_channel_id, once the funding reached minimum_depth. */
  readonly shortChannelId?: bigint | undefined;
  readonly nextMonitorUpdateId: bigint;
  /** The monitor update the channel waits for, and whether its persist answered in-progress. */
  readonly pendingPersist?: { updateId: bigint; inProgress: boolean } | undefined;
  readonly closure?: ClosureReason | undefined;
  /**
   * The peer link as the channel sees it: after a reconnect it sends channel_reestablish and
   * sends nothing else until the peer's own arrives (BOLT 2 "Message Retransmission").
   */
  readonly link: 'connected' | 'disconnected' | 'reestablishing';
  readonly close?: CloseState | undefined;
  /** Our commitment is being (or was) broadcast: a force close, waiting for the funding spend to confirm. */
  readonly forceClose?: ForceCloseState | undefined;
  /**
   * Rebuilt from its monitor alone (no snapshot): the funding may have confirmed in a block
   * this manager never saw, so the fundee's 2016-block timeout does not apply — a channel is
   * never forgotten on a guess.
   */
  readonly confirmationUnknown?: boolean | undefined;
  /** A public channel's announcement_signatures both ways (announcement.ts). */
  readonly announcement?: AnnouncementState | undefined;
  /** A private channel: our channel_update went to the peer on this connection (not kept in the snapshot). */
  readonly privateUpdateSent?: boolean | undefined;
}

/** A force close (BOLT 5 "unilateral close"): our latest commitment, signed by both, broadcast. */
export interface ForceCloseState {
  /** The `error` for the peer, sent once our commitment is out (none when the peer failed the channel). */
  errorText?: string | undefined;
  /** Display order, once signed. */
  commitmentTxid?: string | undefined;
  /** The fully signed commitment (rebroadcast after a restart). */
  commitmentTx?: Uint8Array | undefined;
}

/** Why a channel closed (or was never opened). */
export type ClosureReason =
  /** The peer refused our open_channel / accept_channel, or sent `error`. */
  | { kind: 'counterparty-error'; message: string }
  /** We refused the peer's parameters or message: the field and why (also sent to the peer). */
  | { kind: 'protocol-violation'; field: string; message: string }
  /** A monitor update could not be made durable: the channel stops. */
  | { kind: 'persist-failed'; message: string }
  /** The wallet could not build the funding transaction. */
  | { kind: 'funding-failed'; message: string }
  /** BOLT 2: the fundee forgets a channel whose funding did not confirm within 2016 blocks. */
  | { kind: 'funding-timed-out'; blocks: number }
  /** The peer disconnected before the channel had to be remembered (BOLT 2). */
  | { kind: 'disconnected-before-funding' }
  /**
   * BOLT 2: an HTLC still in a current commitment at its deadline (htlc/deadlines.ts): one we
   * offered, `G` blocks past its expiry; one we fulfilled, 18 blocks before it. The chain settles it.
   */
  | {
      kind: 'htlc-deadline';
      direction: 'offered' | 'received';
      htlcId: string;
      cltvExpiry: number;
      height: number;
    }
  /** The signer or the shell failed (not the peer): the channel stops. */
  | { kind: 'internal-error'; message: string }
  /** Closed by mutual agreement: the closing transaction confirmed. */
  | { kind: 'cooperative'; initiator: 'local' | 'remote'; closingTxid: string }
  /**
   * The user force-closed it: our commitment was broadcast and the funding spend confirmed
   * (`commitmentTxid` null when the channel had no funding out yet, so nothing to broadcast).
   */
  | { kind: 'holder-force-closed'; commitmentTxid: string | null }
  /** The funding output was spent by a transaction this channel did not make (the peer's commitment, most likely). */
  | { kind: 'funding-spent'; spendingTxid: string }
  /**
   * At start, the channel could not be resumed safely from its monitor and snapshot: the manager
   * leaves it, nothing is broadcast, and its monitor keeps watching the chain.
   */
  | { kind: 'not-resumed'; message: string };

export type ChannelEvent =
  | {
      type: 'ChannelPending';
      channelId: Uint8Array;
      temporaryChannelId: Uint8Array;
      counterpartyNodeId: string;
      /** Display order. */
      fundingTxid: string;
      fundingOutputIndex: number;
      isFunder: boolean;
    }
  | {
      type: 'ChannelReady';
      channelId: Uint8Array;
      counterpartyNodeId: string;
      channelType: NegotiatedChannelType;
      shortChannelId: bigint;
      localAlias: bigint;
      remoteAlias?: bigint | undefined;
      localBalanceMsat: bigint;
      remoteBalanceMsat: bigint;
    }
  | {
      type: 'ChannelClosed';
      /** The channel id, or the temporary id of a channel that never got one. */
      channelId: Uint8Array;
      counterpartyNodeId: string;
      reason: ClosureReason;
    };

/**
 * Each event on its own (the node's durable event log converts them: ids to hex, amounts and
 * aliases to decimal strings or BOLTxTXxOUT; ClosureReason is already plain strings and numbers).
 */
export type ChannelPendingEvent = Extract<ChannelEvent, { type: 'ChannelPending' }>;
export type ChannelReadyEvent = Extract<ChannelEvent, { type: 'ChannelReady' }>;
export type ChannelClosedEvent = Extract<ChannelEvent, { type: 'ChannelClosed' }>;

/** Messages a channel handles (everything else from the peer is the manager's). */
export type ChannelMessage = Extract<
  Message,
  {
    kind:
      | 'accept_channel'
      | 'funding_created'
      | 'funding_signed'
      | 'channel_ready'
      | 'error'
      | 'warning'
      | 'shutdown'
      | 'closing_signed'
      | 'channel_reestablish'
      | 'update_add_htlc'
      | 'update_fulfill_htlc'
      | 'update_fail_htlc'
      | 'commitment_signed'
      | 'revoke_and_ack'
      | 'update_fee'
      | 'update_fail_malformed_htlc'
      | 'announcement_signatures';
  }
>;

/** What we learn of one block, as far as this channel is concerned. */
export interface FundingInBlock {
  txIndex: number;
  /** The output at the funding outpoint's index, as the block has it. */
  valueSat: bigint;
  scriptPubKey: Uint8Array;
}

export type ChannelInput =
  | { kind: 'message'; message: ChannelMessage }
  /** Funder: the wallet built and signed the funding transaction. */
  | { kind: 'funding-built'; tx: Uint8Array }
  | { kind: 'funding-failed'; message: string }
  /** The signer's answer to a `sign-counterparty-commitment` effect (normal operation: with its number and HTLC signatures). */
  | {
      kind: 'counterparty-commitment-signed';
      signature: Uint8Array;
      commitmentNumber?: bigint | undefined;
      htlcSignatures?: readonly Uint8Array[] | undefined;
    }
  /** The user's or the router's HTLC commands, and the signer's revocation answer (htlc/normal-state.ts). */
  | NormalCommand
  /** A persist's answer, or a later completion (status completed) of one that was in progress. */
  | { kind: 'persisted'; updateId: bigint; status: PersistStatus }
  /** A block at `height` became the tip; `funding` is set when it contains the funding transaction. */
  | { kind: 'block-connected'; height: number; funding?: FundingInBlock | undefined }
  /** The block at `height` was disconnected (a reorg): the tip is now `height - 1`. */
  | { kind: 'block-disconnected'; height: number }
  | { kind: 'peer-disconnected' }
  | { kind: 'peer-connected' }
  /** The user asks for a cooperative close; `scriptPubKey` overrides where our output goes. */
  | { kind: 'close'; feeratePerKw: number; scriptPubKey?: Uint8Array | undefined }
  /** The signer's answer to a `sign-closing` effect. */
  | { kind: 'closing-signature'; signature: Uint8Array }
  /** The user asks for a force close: our latest commitment is signed and broadcast. */
  | { kind: 'force-close' }
  /** The signer's answer to a `sign-holder-commitment` effect. */
  | { kind: 'holder-commitment-signed'; signature: Uint8Array }
  /** A block at `height` holds a transaction spending the funding output. */
  | { kind: 'funding-spent'; height: number; txid: string }
  /** The broadcast closing transaction was seen in a block. */
  | { kind: 'closing-confirmed'; height: number }
  /** The signer's answer to a `sign-announcement` effect: our two signatures of the channel_announcement. */
  | {
      kind: 'announcement-signed';
      shortChannelId: bigint;
      nodeSignature: Uint8Array;
      bitcoinSignature: Uint8Array;
    }
  /** Something outside the core failed while performing this channel's effects (the signer, say). */
  | { kind: 'internal-error'; message: string };

export type ChannelEffect =
  | { kind: 'send'; message: Message }
  /** Sign the other side's commitment (our funding signature); answer with `counterparty-commitment-signed`. */
  | {
      kind: 'sign-counterparty-commitment';
      commitmentNumber: bigint;
      sighash: Uint8Array;
      perCommitmentPoint: Uint8Array;
      /** Normal operation: the counterparty's HTLC transactions, signed in the same request. */
      htlcSighashes?: Uint8Array[] | undefined;
    }
  /** ChannelSigner.releaseCommitmentSecret and getPerCommitmentPoint; answer with `commitment-secret-released`. */
  | { kind: 'release-commitment-secret'; commitmentNumber: bigint; nextPointNumber: bigint }
  /** What the payment layer hears of this channel's HTLCs. */
  | { kind: 'htlc-event'; event: HtlcEvent }
  /** A command (add-htlc, fulfill-htlc, ...) refused: nothing happened; the caller is told why. */
  | { kind: 'command-refused'; command: string; refusal: Refusal }
  /** Tell the signer we hold a valid signed holder commitment (ChannelSigner.validateHolderCommitment). */
  | { kind: 'holder-commitment-validated'; commitmentNumber: bigint }
  /** Funder: ask the wallet for a funding transaction; answer with `funding-built` or `funding-failed`. */
  | { kind: 'request-funding'; outputScript: Uint8Array; amountSat: bigint; feerateSatPerKw: number }
  /** Funder: the funding transaction will never be broadcast: give its coins back to the wallet. */
  | { kind: 'release-funding' }
  /** Persist this update; answer with `persisted`. */
  | { kind: 'persist-monitor'; update: ChannelMonitorUpdate }
  /** Sign a closing transaction's funding input (ChannelSigner.signClosingTransaction); answer with `closing-signature`. */
  | { kind: 'sign-closing'; sighash: Uint8Array }
  /** Sign our own commitment's funding input (ChannelSigner.signHolderCommitment); answer with `holder-commitment-signed`. */
  | { kind: 'sign-holder-commitment'; commitmentNumber: bigint; sighash: Uint8Array }
  /** A closing broadcast is watched by the shell, which reports `closing-confirmed` when a block has it. */
  | { kind: 'broadcast'; tx: Uint8Array; what: 'funding' | 'closing' | 'commitment' }
  /** Watch the chain for the funding output; feed `block-connected` with it once seen. */
  | { kind: 'watch-funding'; outpoint: OutPointData; scriptPubKey: Uint8Array; minimumDepth: number }
  | { kind: 'event'; event: ChannelEvent }
  /**
   * Sign the channel_announcement (zeroed signatures) with the node key and the funding key;
   * answer with `announcement-signed`.
   */
  | { kind: 'sign-announcement'; shortChannelId: bigint; unsigned: Uint8Array }
  /** A private channel: our channel_update (dont_forward) to the peer alone. */
  | { kind: 'send-channel-update' }
  /** Both sides signed: the whole channel_announcement, for gossip. */
  | { kind: 'announce'; shortChannelId: bigint; channelAnnouncement: Uint8Array }
  /** A refusal or failure, for the log (the peer gets the `error` sent beside it). */
  | { kind: 'log'; level: 'info' | 'warn'; message: string; refusal?: Refusal | undefined };

/** The inputs normal operation takes as they are (the commands, and the signer's revocation answer). */
export type NormalCommand = Extract<
  NormalInput,
  {
    kind:
      | 'add-htlc'
      | 'fulfill-htlc'
      | 'fail-htlc'
      | 'fail-malformed-htlc'
      | 'update-fee'
      | 'commit'
      | 'commitment-secret-released';
  }
>;

export interface Step {
  state: ChannelState;
  effects: ChannelEffect[];
}

/**
 * The data of BOLT 2 normal operation for one channel: the ledger, both commitments' numbers
 * and points, what is on its way out, and the inputs and effects of normal.ts. Plain data, so
 * it sits inside ChannelState and goes into its snapshot as it is.
 */
import type { ChannelMonitorUpdate } from '@lnkit/monitor';
import type { PersistStatus } from '@lnkit/store';
import type {
  ChannelReestablish,
  CommitmentSigned,
  Message,
  RevokeAndAck,
  UpdateAddHtlc,
  UpdateFailHtlc,
  UpdateFailMalformedHtlc,
  UpdateFee,
  UpdateFulfillHtlc,
} from '@lnkit/wire';
import type { Refusal } from '../checks.ts';
import type { HtlcChannelParams } from './build.ts';
import type { HtlcLedger, HtlcRemoval } from './ledger.ts';
import type { FeeBounds } from './limits.ts';

/** Our side: the commitment we hold, signed by them. */
export interface HolderCommitment {
  /** The number of our current commitment. */
  readonly number: bigint;
  readonly perCommitmentPoint: Uint8Array;
  /** Our point for `number + 1`, which the peer's next commitment_signed is for; unknown while the signer is asked. */
  readonly nextPerCommitmentPoint?: Uint8Array | undefined;
  /** Points of the last two commitments we revoked, oldest first (channel_reestablish checks the secret against them). */
  readonly revokedPoints: readonly Uint8Array[];
}

/** Their side: the newest commitment we signed for them. */
export interface CounterpartyCommitment {
  readonly number: bigint;
  readonly perCommitmentPoint: Uint8Array;
  /** While `awaitingRevoke`: the point of the commitment their revoke_and_ack must reveal the secret of. */
  readonly previousPerCommitmentPoint?: Uint8Array | undefined;
  /** Their point for `number + 1` (from channel_ready or their last revoke_and_ack); unknown while awaiting it. */
  readonly nextPerCommitmentPoint?: Uint8Array | undefined;
  /** We signed `number` and wait for the revoke_and_ack of `number - 1`. */
  readonly awaitingRevoke: boolean;
  /** Their revealed secrets: @lnkit/keys CounterpartyCommitmentSecrets.serialize(). */
  readonly secrets: Uint8Array;
}

/** Both commitments: the pair ChannelState.commitments becomes. */
export interface CommitmentPair {
  readonly holder: HolderCommitment;
  readonly counterparty: CounterpartyCommitment;
}

/** Our last commitment_signed: kept until their revoke_and_ack, to be retransmitted as it was. */
export interface SentCommitment {
  readonly number: bigint;
  readonly seq: number;
  /** The monitor update with this commitment: the message waits for it. */
  readonly updateId: bigint;
  readonly signature?: Uint8Array | undefined;
  readonly htlcSignatures?: readonly Uint8Array[] | undefined;
}

/** Our last revoke_and_ack (revoking holder commitment `revokedNumber`), kept to be retransmitted. */
export interface SentRevocation {
  readonly revokedNumber: bigint;
  readonly seq: number;
  /** The monitor update with the new holder commitment: the message waits for it. */
  readonly updateId: bigint;
  /** The revealed secret (no longer a secret to the peer once sent; never logged). */
  readonly secret?: Uint8Array | undefined;
  readonly nextPerCommitmentPoint?: Uint8Array | undefined;
}

/** What leaves, in this order: each when what it waits for is done (DESIGN.md, the durability rule). */
export type OutboxEntry =
  | { readonly kind: 'message'; readonly message: Message; readonly awaitUpdateId?: bigint | undefined }
  | { readonly kind: 'commitment_signed'; readonly number: bigint }
  | { readonly kind: 'revoke_and_ack'; readonly revokedNumber: bigint };

export interface HeldEvent {
  readonly event: HtlcEvent;
  readonly awaitUpdateId?: bigint | undefined;
}

export interface NormalState {
  readonly params: HtlcChannelParams;
  readonly ledger: HtlcLedger;
  readonly commitments: CommitmentPair;
  readonly lastCommitment?: SentCommitment | undefined;
  readonly lastRevocation?: SentRevocation | undefined;
  readonly outbox: readonly OutboxEntry[];
  readonly heldEvents: readonly HeldEvent[];
  /** Monitor updates asked for and not completed yet. */
  readonly persisting: readonly bigint[];
  /**
   * Those updates themselves, oldest first: the snapshot is written before they go out, so a
   * restart issues again those its monitor never got (restart.ts). Absent in states made
   * before it was kept (read as none).
   */
  readonly unpersisted?: readonly ChannelMonitorUpdate[] | undefined;
  /**
   * The events the step that made this state let out. Its snapshot is written before its
   * effects run, so a crash there loses them: a restart tells them again (restart.ts).
   */
  readonly emitted?: readonly HtlcEvent[] | undefined;
  readonly nextMonitorUpdateId: bigint;
  /** 'reestablishing': channel_reestablish sent, theirs awaited; nothing else leaves. */
  readonly link: 'connected' | 'disconnected' | 'reestablishing';
  readonly shutdownSent: boolean;
  readonly shutdownReceived: boolean;
}

/** What the payment layer hears of the channel's HTLCs. */
export type HtlcEvent =
  /** Their HTLC is irrevocably committed in both commitments: fulfill it, fail it or forward it. */
  | {
      type: 'htlc-committed';
      id: bigint;
      amountMsat: bigint;
      paymentHash: Uint8Array;
      cltvExpiry: number;
      onionRoutingPacket: Uint8Array;
      blindedPathKey?: Uint8Array | undefined;
      /** It took the trimmed HTLCs beyond max_dust_htlc_exposure_msat: fail it (a fulfill is refused). */
      dustExposureExceeded?: boolean | undefined;
    }
  /** They fulfilled our HTLC; the preimage is durable in the monitor. */
  | { type: 'htlc-fulfilled'; id: bigint; paymentHash: Uint8Array; paymentPreimage: Uint8Array }
  /** An HTLC left both commitments (for ours that failed: the payment failed). */
  | {
      type: 'htlc-resolved';
      direction: 'offered' | 'received';
      id: bigint;
      amountMsat: bigint;
      paymentHash: Uint8Array;
      removal: HtlcRemoval;
    };

export type NormalMessage =
  | UpdateAddHtlc
  | UpdateFulfillHtlc
  | UpdateFailHtlc
  | UpdateFailMalformedHtlc
  | CommitmentSigned
  | RevokeAndAck
  | UpdateFee;

export type NormalInput =
  | { kind: 'message'; message: NormalMessage }
  /** The peer's channel_reestablish (ours was sent by `reestablishMessage`). */
  | { kind: 'channel-reestablish'; message: ChannelReestablish }
  | { kind: 'peer-disconnected' }
  /** We sent our channel_reestablish after a reconnect. */
  | { kind: 'peer-reconnected' }
  /** The user's or the router's commands. */
  | {
      kind: 'add-htlc';
      amountMsat: bigint;
      paymentHash: Uint8Array;
      cltvExpiry: number;
      onionRoutingPacket: Uint8Array;
      blindedPathKey?: Uint8Array | undefined;
    }
  | { kind: 'fulfill-htlc'; id: bigint; paymentPreimage: Uint8Array }
  | { kind: 'fail-htlc'; id: bigint; reason: Uint8Array }
  | { kind: 'fail-malformed-htlc'; id: bigint; sha256OfOnion: Uint8Array; failureCode: number }
  | { kind: 'update-fee'; feeratePerKw: number }
  /** Sign and send a commitment_signed for what we changed (nothing if nothing changed). */
  | { kind: 'commit' }
  /** The answers to the effects. */
  | {
      kind: 'counterparty-commitment-signed';
      commitmentNumber: bigint;
      signature: Uint8Array;
      htlcSignatures: readonly Uint8Array[];
    }
  | {
      kind: 'commitment-secret-released';
      commitmentNumber: bigint;
      secret: Uint8Array;
      nextPerCommitmentPoint: Uint8Array;
    }
  | { kind: 'persisted'; updateId: bigint; status: PersistStatus };

export type NormalEffect =
  | { kind: 'send'; message: Message }
  /** Persist; answer with `persisted`. Whatever depends on it waits. */
  | { kind: 'persist-monitor'; update: ChannelMonitorUpdate }
  /** ChannelSigner.signCounterpartyCommitment; answer with `counterparty-commitment-signed`. */
  | {
      kind: 'sign-counterparty-commitment';
      commitmentNumber: bigint;
      perCommitmentPoint: Uint8Array;
      sighash: Uint8Array;
      htlcSighashes: Uint8Array[];
    }
  /** ChannelSigner.validateHolderCommitment: we hold commitment `commitmentNumber` validly signed. */
  | { kind: 'holder-commitment-validated'; commitmentNumber: bigint }
  /**
   * ChannelSigner.releaseCommitmentSecret(commitmentNumber) and getPerCommitmentPoint(nextPointNumber);
   * answer with `commitment-secret-released`.
   */
  | { kind: 'release-commitment-secret'; commitmentNumber: bigint; nextPointNumber: bigint }
  | { kind: 'event'; event: HtlcEvent };

/**
 * How a step went wrong: the peer broke a rule (fail the channel, broadcasting our commitment),
 * the peer proved a newer state than ours (`behind`: we lost data; fail the channel and never
 * broadcast — BOLT 2 "MUST NOT broadcast its commitment transaction"), the caller asked for too
 * much (nothing happened), or a persist failed (the channel stops).
 */
export type NormalFailure =
  | { kind: 'protocol'; message: string; refusal: Refusal }
  | { kind: 'behind'; refusal: Refusal }
  | { kind: 'refused'; command: string; refusal: Refusal }
  | { kind: 'persist-failed'; reason: string };

export interface NormalStep {
  state: NormalState;
  effects: NormalEffect[];
  /** Set when the input was refused: `state` is then the one before it. */
  failure?: NormalFailure | undefined;
}

export interface NormalContext {
  /** Bounds on the peer's update_fee (and ours). */
  feeBounds: FeeBounds;
  /** BOLT 2 max_dust_htlc_exposure_msat (node policy); no bound when absent. */
  maxDustHtlcExposureMsat?: bigint | undefined;
}

/**
 * BOLT 2 "Normal Operation" as a function: `normalStep(state, input, ctx)` returns the new
 * state and the effects, in order. Updates, commitment_signed and revoke_and_ack go out
 * through one ordered outbox, each when the monitor update it depends on is durable (and the
 * signer has answered): DESIGN.md's durability rule, "a ChannelMonitor update is durable on
 * disk before the ChannelManager sends the commitment_signed / revoke_and_ack that depends on
 * it". Nothing overtakes a message waiting in the outbox, so the peer sees our updates and our
 * commitment_signed in the order they were made.
 *
 * Both sides may add and settle at the same time: each commitment_signed covers what the
 * ledger holds for the other's commitment when it is made, and one waits for the revocation
 * of the one before (then goes by itself if anything is left to sign).
 */
import { sha256 } from '@lnkit/crypto';
import {
  CounterpartyCommitmentSecrets,
  KeysError,
  perCommitmentPointFromSecret,
  secretIndex,
} from '@lnkit/keys';
import type { ChannelMonitorUpdate, MonitorUpdateStep } from '@lnkit/monitor';
import { buildHtlcTransactions } from '@lnkit/tx';
import { bytesEqual, type CommitmentSigned, type Message, type RevokeAndAck } from '@lnkit/wire';
import type { Refusal } from '../checks.ts';
import {
  buildCommitment,
  checkHolderSignatures,
  commitmentRecord,
  commitmentSpec,
  counterpartyCommitmentToSign,
  type HtlcChannelParams,
} from './build.ts';
import {
  applyMove,
  emptyLedger,
  findHtlc,
  type HtlcLedger,
  type HtlcRemoval,
  hasChanges,
  type LedgerHtlc,
  type MoveResult,
  proposeFee,
  replaceHtlc,
  reverseUncommittedRemote,
} from './ledger.ts';
import {
  checkOfferedAdd,
  checkOfferedFee,
  checkReceivedAdd,
  checkReceivedFee,
  exceedsDustExposure,
} from './limits.ts';
import { addMessage, feeMessage, removeMessage } from './messages.ts';
import type {
  HeldEvent,
  HtlcEvent,
  NormalContext,
  NormalEffect,
  NormalInput,
  NormalMessage,
  NormalState,
  NormalStep,
  OutboxEntry,
} from './normal-state.ts';
import { planRetransmission } from './retransmit.ts';

/** BOLT 4: the BADONION bit of failure_code, which update_fail_malformed_htlc must carry. */
export const BADONION = 0x8000;

export interface NormalStart {
  params: HtlcChannelParams;
  feeratePerKw: number;
  /** Balances of the first commitments (both the same), from our view. */
  toLocalMsat: bigint;
  toRemoteMsat: bigint;
  /** Our current commitment (0 after channel_ready) and our points for it and the next. */
  holderNumber: bigint;
  holderPoint: Uint8Array;
  holderNextPoint: Uint8Array;
  /** Theirs, with their points (channel_ready's second_per_commitment_point is the next). */
  counterpartyNumber: bigint;
  counterpartyPoint: Uint8Array;
  counterpartyNextPoint: Uint8Array;
  nextMonitorUpdateId: bigint;
}

/** The state of a channel entering normal operation (both channel_ready exchanged). */
export function startNormal(a: NormalStart): NormalState {
  return {
    params: a.params,
    ledger: emptyLedger(a),
    commitments: {
      holder: {
        number: a.holderNumber,
        perCommitmentPoint: a.holderPoint,
        nextPerCommitmentPoint: a.holderNextPoint,
        revokedPoints: [],
      },
      counterparty: {
        number: a.counterpartyNumber,
        perCommitmentPoint: a.counterpartyPoint,
        nextPerCommitmentPoint: a.counterpartyNextPoint,
        awaitingRevoke: false,
        secrets: new CounterpartyCommitmentSecrets().serialize(),
      },
    },
    outbox: [],
    heldEvents: [],
    persisting: [],
    nextMonitorUpdateId: a.nextMonitorUpdateId,
    link: 'connected',
    shutdownSent: false,
    shutdownReceived: false,
  };
}

/** Work in progress for one step: the state so far and the effects so far. */
interface Draft {
  s: NormalState;
  effects: NormalEffect[];
}

const protocol = (s: NormalState, message: string, refusal: Refusal): NormalStep => ({
  state: s,
  effects: [],
  failure: { kind: 'protocol', message, refusal },
});
const refused = (s: NormalState, command: string, refusal: Refusal): NormalStep => ({
  state: s,
  effects: [],
  failure: { kind: 'refused', command, refusal },
});

export function normalStep(s: NormalState, input: NormalInput, ctx: NormalContext): NormalStep {
  switch (input.kind) {
    case 'message':
      return onMessage(s, input.message, ctx);
    case 'add-htlc':
      return sendAdd(s, input, ctx);
    case 'fulfill-htlc':
      return sendRemoval(s, input.id, { kind: 'fulfill', paymentPreimage: input.paymentPreimage });
    case 'fail-htlc':
      return sendRemoval(s, input.id, { kind: 'fail', reason: input.reason });
    case 'fail-malformed-htlc':
      return sendRemoval(s, input.id, {
        kind: 'fail-malformed',
        sha256OfOnion: input.sha256OfOnion,
        failureCode: input.failureCode,
      });
    case 'update-fee':
      return sendFee(s, input.feeratePerKw, ctx);
    case 'commit':
      return finish(maybeCommit({ s, effects: [] }));
    case 'counterparty-commitment-signed': {
      const last = s.lastCommitment;
      // A stale answer (the signer answered for a commitment since acknowledged) is dropped.
      if (!last || last.number !== input.commitmentNumber) return { state: s, effects: [] };
      const lastCommitment = {
        ...last,
        signature: input.signature,
        htlcSignatures: [...input.htlcSignatures],
      };
      return finish({ s: { ...s, lastCommitment }, effects: [] });
    }
    case 'commitment-secret-released': {
      const last = s.lastRevocation;
      if (!last || last.revokedNumber !== input.commitmentNumber) return { state: s, effects: [] };
      const holder = s.commitments.holder;
      const next: NormalState = {
        ...s,
        lastRevocation: {
          ...last,
          secret: input.secret,
          nextPerCommitmentPoint: input.nextPerCommitmentPoint,
        },
        commitments: {
          ...s.commitments,
          holder:
            holder.number === input.commitmentNumber + 1n
              ? { ...holder, nextPerCommitmentPoint: input.nextPerCommitmentPoint }
              : holder,
        },
      };
      return finish({ s: next, effects: [] });
    }
    case 'persisted': {
      if (!s.persisting.includes(input.updateId)) return { state: s, effects: [] };
      const status = input.status;
      // In progress: what waits on it keeps waiting (the channel pauses) until it completes.
      if (status.status === 'in-progress') return { state: s, effects: [] };
      if (status.status === 'failed')
        return { state: s, effects: [], failure: { kind: 'persist-failed', reason: status.reason } };
      return finish({
        s: {
          ...s,
          persisting: s.persisting.filter((id) => id !== input.updateId),
          unpersisted: s.unpersisted?.filter((u) => u.updateId !== input.updateId),
        },
        effects: [],
      });
    }
    case 'peer-disconnected':
      // Unsent messages are dropped: what the peer still needs is retransmitted from the
      // ledger after channel_reestablish.
      return {
        state: { ...s, link: 'disconnected', outbox: [], ledger: reverseUncommittedRemote(s.ledger) },
        effects: [],
      };
    case 'peer-reconnected':
      return { state: { ...s, link: 'reestablishing' }, effects: [] };
    case 'channel-reestablish': {
      const plan = planRetransmission(s, input.message);
      if (!plan.ok)
        return plan.behind
          ? { state: s, effects: [], failure: { kind: 'behind', refusal: plan.refusal } }
          : protocol(s, 'channel_reestablish', plan.refusal);
      const next: NormalState = { ...s, link: 'connected', outbox: plan.entries };
      return finish(maybeCommit({ s: next, effects: [] }));
    }
  }
}

/**
 * BOLT 2 shutdown: "if no HTLCs remain in either commitment transaction (including dust HTLCs)
 * and neither side has a pending revoke_and_ack to send: MUST NOT send any update message
 * after that point" — and closing_signed may start. True when the ledger is empty, no fee
 * change is on its way, no revocation is awaited from the peer, and ours has gone.
 */
export function settledForClose(s: NormalState): boolean {
  return (
    s.ledger.htlcs.length === 0 &&
    s.ledger.feeUpdates.length === 0 &&
    !s.commitments.counterparty.awaitingRevoke &&
    s.commitments.holder.nextPerCommitmentPoint !== undefined &&
    !s.outbox.some((e) => e.kind === 'revoke_and_ack')
  );
}

function onMessage(s: NormalState, m: NormalMessage, ctx: NormalContext): NormalStep {
  switch (m.kind) {
    case 'update_add_htlc': {
      const refusal = checkReceivedAdd(s.params, s.ledger, m, { shutdownReceived: s.shutdownReceived });
      if (refusal) return protocol(s, m.kind, refusal);
      const h: LedgerHtlc = {
        id: m.id,
        direction: 'received',
        amountMsat: m.amountMsat,
        paymentHash: m.paymentHash,
        cltvExpiry: m.cltvExpiry,
        onionRoutingPacket: m.onionRoutingPacket,
        blindedPathKey: m.blindedPathKey,
        state: 'rcvd-add-htlc',
      };
      let ledger: HtlcLedger = { ...s.ledger, htlcs: [...s.ledger.htlcs, h], nextReceivedId: m.id + 1n };
      // Not a channel failure: the HTLC is taken, and failed back once committed (BOLT 2).
      const max = ctx.maxDustHtlcExposureMsat;
      if (max !== undefined && exceedsDustExposure(s.params, ledger, max))
        ledger = replaceHtlc(ledger, { ...h, dustExposureExceeded: true });
      return { state: { ...s, ledger }, effects: [] };
    }
    case 'update_fulfill_htlc': {
      const h = committedOffered(s.ledger, m.id);
      if (!h) return protocol(s, m.kind, noSuchHtlc(m.id));
      // "if the payment_preimage value in update_fulfill_htlc doesn't SHA256 hash to the corresponding HTLC payment_hash"
      if (!bytesEqual(sha256(m.paymentPreimage), h.paymentHash))
        return protocol(s, m.kind, {
          field: 'payment_preimage',
          reason: `payment_preimage does not hash to the payment_hash of HTLC ${m.id}`,
        });
      const d: Draft = { s: { ...s, ledger: removedBy(s.ledger, h, m) }, effects: [] };
      // Sent again after a reconnection: the monitor has it and the payer heard of it (a
      // restart tells it again from the ledger: restart.ts).
      if (h.preimageKnown) return finish(d);
      // The preimage is the proof of payment, and what claims the HTLC on chain: durable
      // before anyone hears of it.
      const updateId = persist(d, [{ kind: 'payment-preimage', paymentPreimage: m.paymentPreimage }]);
      hold(
        d,
        { type: 'htlc-fulfilled', id: h.id, paymentHash: h.paymentHash, paymentPreimage: m.paymentPreimage },
        updateId,
      );
      return finish(d);
    }
    case 'update_fail_htlc':
    case 'update_fail_malformed_htlc': {
      const h = committedOffered(s.ledger, m.id);
      if (!h) return protocol(s, m.kind, noSuchHtlc(m.id));
      // "if the BADONION bit in failure_code is not set for update_fail_malformed_htlc"
      if (m.kind === 'update_fail_malformed_htlc' && (m.failureCode & BADONION) === 0)
        return protocol(s, m.kind, {
          field: 'failure_code',
          reason: `failure_code ${m.failureCode} does not have the BADONION bit set`,
        });
      return { state: { ...s, ledger: removedBy(s.ledger, h, m) }, effects: [] };
    }
    case 'update_fee': {
      const refusal = checkReceivedFee(s.params, s.ledger, m.feeratePerKw, ctx.feeBounds);
      if (refusal) return protocol(s, m.kind, refusal);
      const ledger = proposeFee(s.ledger, { feeratePerKw: m.feeratePerKw, state: 'rcvd-add-htlc' });
      return { state: { ...s, ledger }, effects: [] };
    }
    case 'commitment_signed':
      return onCommitmentSigned(s, m);
    case 'revoke_and_ack':
      return onRevokeAndAck(s, m);
  }
}

/** BOLT 2: "if the id does not correspond to an HTLC in its current commitment transaction". */
function noSuchHtlc(id: bigint): Refusal {
  return { field: 'id', reason: `id ${id} is not an HTLC of ours committed in both commitments` };
}

/** An HTLC we offered, irrevocably committed (the peer may only remove it then, BOLT 2). */
function committedOffered(ledger: HtlcLedger, id: bigint): LedgerHtlc | undefined {
  const h = findHtlc(ledger, 'offered', id);
  return h?.state === 'sent-add-ack-revocation' ? h : undefined;
}

function removedBy(
  ledger: HtlcLedger,
  h: LedgerHtlc,
  m: Extract<
    NormalMessage,
    { kind: 'update_fulfill_htlc' | 'update_fail_htlc' | 'update_fail_malformed_htlc' }
  >,
): HtlcLedger {
  const removal: HtlcRemoval =
    m.kind === 'update_fulfill_htlc'
      ? { kind: 'fulfill', paymentPreimage: m.paymentPreimage }
      : m.kind === 'update_fail_htlc'
        ? { kind: 'fail', reason: m.reason }
        : { kind: 'fail-malformed', sha256OfOnion: m.sha256OfOnion, failureCode: m.failureCode };
  return replaceHtlc(ledger, { ...h, state: 'rcvd-remove-htlc', removal });
}

function onCommitmentSigned(s: NormalState, m: CommitmentSigned): NormalStep {
  const holder = s.commitments.holder;
  const point = holder.nextPerCommitmentPoint;
  // The peer needs our next point (in our revoke_and_ack) to sign for it: none is known yet.
  if (!point)
    return protocol(s, m.kind, {
      field: 'commitment_signed',
      reason: 'commitment_signed before our revoke_and_ack',
    });
  // BOLT 2: "MUST NOT send a commitment_signed message that does not include any updates."
  if (!hasChanges(s.ledger, 'recv-commit'))
    return protocol(s, m.kind, { field: 'commitment_signed', reason: 'commitment_signed with no updates' });
  const moved = applyMove(s.ledger, 'recv-commit');
  const number = holder.number + 1n;
  const spec = commitmentSpec(moved.ledger, 'local');
  const commitment = buildCommitment(s.params, spec, number, point);
  const htlcTxs = buildHtlcTransactions(commitment);
  const bad = checkHolderSignatures(commitment, htlcTxs, m.signature, m.htlcSignatures);
  if (bad) return protocol(s, m.kind, bad);

  const d: Draft = { s: { ...s, ledger: moved.ledger }, effects: [] };
  // The new holder commitment, with their signatures, is durable before our revoke_and_ack
  // gives up the one before it.
  const updateId = persist(d, [
    {
      kind: 'holder-commitment',
      commitment: {
        ...commitmentRecord(commitment, point, spec.htlcs),
        counterpartySignature: m.signature,
        htlcSignatures: [...m.htlcSignatures],
      },
    },
  ]);
  const revoked = applyMove(d.s.ledger, 'send-revoke');
  const [seq, ledger] = takeSeq(revoked.ledger);
  d.s = {
    ...d.s,
    ledger,
    commitments: {
      ...d.s.commitments,
      holder: {
        number,
        perCommitmentPoint: point,
        nextPerCommitmentPoint: undefined,
        revokedPoints: [...holder.revokedPoints, holder.perCommitmentPoint].slice(-2),
      },
    },
    lastRevocation: { revokedNumber: holder.number, seq, updateId },
    outbox: [...d.s.outbox, { kind: 'revoke_and_ack', revokedNumber: holder.number }],
  };
  holdMoveEvents(d, revoked, updateId);
  d.effects.push(
    { kind: 'holder-commitment-validated', commitmentNumber: number },
    { kind: 'release-commitment-secret', commitmentNumber: holder.number, nextPointNumber: number + 1n },
  );
  return finish(maybeCommit(d));
}

function onRevokeAndAck(s: NormalState, m: RevokeAndAck): NormalStep {
  const cp = s.commitments.counterparty;
  if (!cp.awaitingRevoke || !cp.previousPerCommitmentPoint)
    return protocol(s, m.kind, {
      field: 'revoke_and_ack',
      reason: 'revoke_and_ack without a commitment_signed to answer',
    });
  const revokedNumber = cp.number - 1n;
  // "if per_commitment_secret is not a valid secret key or does not generate the previous per_commitment_point"
  let point: Uint8Array | undefined;
  try {
    point = perCommitmentPointFromSecret(m.perCommitmentSecret);
  } catch {
    point = undefined;
  }
  if (!point || !bytesEqual(point, cp.previousPerCommitmentPoint))
    return protocol(s, m.kind, {
      field: 'per_commitment_secret',
      reason: `per_commitment_secret does not generate the per_commitment_point of commitment ${revokedNumber}`,
    });
  // "if the per_commitment_secret was not generated by the protocol in BOLT #3": the shachain
  // store refuses a secret that does not derive the ones before it.
  let secrets: Uint8Array;
  try {
    const store = CounterpartyCommitmentSecrets.deserialize(cp.secrets);
    store.insert(secretIndex(revokedNumber), m.perCommitmentSecret);
    secrets = store.serialize();
  } catch (err) {
    if (!(err instanceof KeysError)) throw err;
    return protocol(s, m.kind, { field: 'per_commitment_secret', reason: err.message });
  }
  const moved = applyMove(s.ledger, 'recv-revoke');
  const d: Draft = {
    s: {
      ...s,
      ledger: moved.ledger,
      lastCommitment: undefined,
      commitments: {
        ...s.commitments,
        counterparty: {
          ...cp,
          previousPerCommitmentPoint: undefined,
          nextPerCommitmentPoint: m.nextPerCommitmentPoint,
          awaitingRevoke: false,
          secrets,
        },
      },
    },
    effects: [],
  };
  // The secret lets the monitor punish a broadcast of the revoked commitment; HTLCs this
  // revocation commits are not acted on (fulfilled, failed, forwarded) before it is durable.
  const updateId = persist(d, [
    { kind: 'commitment-secret', commitmentNumber: revokedNumber, secret: m.perCommitmentSecret },
  ]);
  holdMoveEvents(d, moved, updateId);
  return finish(maybeCommit(d));
}

/** Sends commitment_signed when there is something to sign and their last revocation came. */
function maybeCommit(d: Draft): Draft {
  const s = d.s;
  const cp = s.commitments.counterparty;
  if (s.link !== 'connected' || cp.awaitingRevoke || !cp.nextPerCommitmentPoint) return d;
  if (!hasChanges(s.ledger, 'send-commit')) return d;
  const moved = applyMove(s.ledger, 'send-commit');
  const number = cp.number + 1n;
  const point = cp.nextPerCommitmentPoint;
  const toSign = counterpartyCommitmentToSign(s.params, moved.ledger, number, point);
  const [seq, ledger] = takeSeq(moved.ledger);
  d.s = { ...s, ledger };
  // Their new commitment is durable (the monitor must know it to recognise it on chain)
  // before our signature of it leaves.
  const updateId = persist(d, [
    {
      kind: 'counterparty-commitment',
      commitment: commitmentRecord(toSign.commitment, point, commitmentSpec(moved.ledger, 'remote').htlcs),
    },
  ]);
  d.s = {
    ...d.s,
    commitments: {
      ...d.s.commitments,
      counterparty: {
        ...cp,
        number,
        perCommitmentPoint: point,
        previousPerCommitmentPoint: cp.perCommitmentPoint,
        nextPerCommitmentPoint: undefined,
        awaitingRevoke: true,
      },
    },
    lastCommitment: { number, seq, updateId },
    outbox: [...d.s.outbox, { kind: 'commitment_signed', number }],
  };
  d.effects.push({
    kind: 'sign-counterparty-commitment',
    commitmentNumber: number,
    perCommitmentPoint: point,
    sighash: toSign.sighash,
    htlcSighashes: toSign.htlcSighashes,
  });
  return d;
}

function sendAdd(
  s: NormalState,
  input: Extract<NormalInput, { kind: 'add-htlc' }>,
  ctx: NormalContext,
): NormalStep {
  if (s.link !== 'connected')
    return refused(s, 'add-htlc', { field: 'peer', reason: 'the peer is not connected' });
  const refusal = checkOfferedAdd(s.params, s.ledger, input, {
    shutdownSent: s.shutdownSent,
    maxDustHtlcExposureMsat: ctx.maxDustHtlcExposureMsat,
  });
  if (refusal) return refused(s, 'add-htlc', refusal);
  const [seq, ledger] = takeSeq(s.ledger);
  const h: LedgerHtlc = {
    id: ledger.nextOfferedId,
    direction: 'offered',
    amountMsat: input.amountMsat,
    paymentHash: input.paymentHash,
    cltvExpiry: input.cltvExpiry,
    onionRoutingPacket: input.onionRoutingPacket,
    blindedPathKey: input.blindedPathKey,
    state: 'sent-add-htlc',
    addSeq: seq,
  };
  const next: NormalState = {
    ...s,
    ledger: { ...ledger, htlcs: [...ledger.htlcs, h], nextOfferedId: h.id + 1n },
    outbox: [...s.outbox, { kind: 'message', message: addMessage(s.params.channelId, h) }],
  };
  return finish({ s: next, effects: [] });
}

/** Our fulfill or fail of an HTLC they offered: only once it is irrevocably committed (BOLT 2). */
function sendRemoval(s: NormalState, id: bigint, removal: HtlcRemoval): NormalStep {
  const command =
    removal.kind === 'fulfill'
      ? 'fulfill-htlc'
      : removal.kind === 'fail'
        ? 'fail-htlc'
        : 'fail-malformed-htlc';
  if (s.link !== 'connected')
    return refused(s, command, { field: 'peer', reason: 'the peer is not connected' });
  const h = findHtlc(s.ledger, 'received', id);
  if (h?.state !== 'rcvd-add-ack-revocation')
    return refused(s, command, {
      field: 'id',
      reason: `HTLC ${id} is not irrevocably committed, or already removed`,
    });
  if (removal.kind === 'fulfill' && h.dustExposureExceeded)
    return refused(s, command, {
      field: 'max_dust_htlc_exposure_msat',
      reason: `HTLC ${id} took the dust exposure beyond its bound: fail it, do not reveal the preimage`,
    });
  if (removal.kind === 'fulfill' && !bytesEqual(sha256(removal.paymentPreimage), h.paymentHash))
    return refused(s, command, {
      field: 'payment_preimage',
      reason: `the preimage does not hash to HTLC ${id}'s payment_hash`,
    });
  if (removal.kind === 'fail-malformed' && (removal.failureCode & BADONION) === 0)
    return refused(s, command, {
      field: 'failure_code',
      reason: 'update_fail_malformed_htlc needs the BADONION bit',
    });
  const [seq, ledger] = takeSeq(s.ledger);
  const removed: LedgerHtlc = { ...h, state: 'sent-remove-htlc', removal, removeSeq: seq };
  const d: Draft = { s: { ...s, ledger: replaceHtlc(ledger, removed) }, effects: [] };
  // BOLT 2 lets the peer put its commitment on chain at any time: with the preimage durable
  // first, the monitor can claim the HTLC there.
  const awaitUpdateId =
    removal.kind === 'fulfill'
      ? persist(d, [{ kind: 'payment-preimage', paymentPreimage: removal.paymentPreimage }])
      : undefined;
  d.s = {
    ...d.s,
    outbox: [
      ...d.s.outbox,
      { kind: 'message', message: removeMessage(s.params.channelId, removed), awaitUpdateId },
    ],
  };
  return finish(d);
}

function sendFee(s: NormalState, feeratePerKw: number, ctx: NormalContext): NormalStep {
  if (s.link !== 'connected')
    return refused(s, 'update-fee', { field: 'peer', reason: 'the peer is not connected' });
  const refusal = checkOfferedFee(s.params, s.ledger, feeratePerKw, ctx.feeBounds);
  if (refusal) return refused(s, 'update-fee', refusal);
  const [seq, ledger] = takeSeq(s.ledger);
  const update = { feeratePerKw, state: 'sent-add-htlc', seq } as const;
  const next: NormalState = {
    ...s,
    ledger: proposeFee(ledger, update),
    outbox: [...s.outbox, { kind: 'message', message: feeMessage(s.params.channelId, update) }],
  };
  return finish({ s: next, effects: [] });
}

function takeSeq(ledger: HtlcLedger): [number, HtlcLedger] {
  return [ledger.nextSeq, { ...ledger, nextSeq: ledger.nextSeq + 1 }];
}

/** Asks for a monitor update; returns its id, which what depends on it waits for. */
function persist(d: Draft, steps: MonitorUpdateStep[]): bigint {
  const updateId = d.s.nextMonitorUpdateId;
  const update: ChannelMonitorUpdate = { channelId: d.s.params.channelId, updateId, steps };
  d.s = {
    ...d.s,
    nextMonitorUpdateId: updateId + 1n,
    persisting: [...d.s.persisting, updateId],
    unpersisted: [...(d.s.unpersisted ?? []), update],
  };
  d.effects.push({ kind: 'persist-monitor', update });
  return updateId;
}

/** Their HTLC, irrevocably in both commitments: the payment layer's to settle or forward. */
export function committedEvent(h: LedgerHtlc): HtlcEvent {
  return {
    type: 'htlc-committed',
    id: h.id,
    amountMsat: h.amountMsat,
    paymentHash: h.paymentHash,
    cltvExpiry: h.cltvExpiry,
    onionRoutingPacket: h.onionRoutingPacket,
    blindedPathKey: h.blindedPathKey,
    ...(h.dustExposureExceeded ? { dustExposureExceeded: true } : {}),
  };
}

function hold(d: Draft, event: HtlcEvent, awaitUpdateId: bigint | undefined): void {
  d.s = { ...d.s, heldEvents: [...d.s.heldEvents, { event, awaitUpdateId }] };
}

function holdMoveEvents(d: Draft, moved: MoveResult, updateId: bigint): void {
  for (const h of moved.committed) hold(d, committedEvent(h), updateId);
  for (const h of moved.resolved)
    if (h.removal)
      hold(
        d,
        {
          type: 'htlc-resolved',
          direction: h.direction,
          id: h.id,
          amountMsat: h.amountMsat,
          paymentHash: h.paymentHash,
          removal: h.removal,
        },
        updateId,
      );
}

/** Lets out, in order, every message and event whose wait is over. */
function finish(d: Draft): NormalStep {
  return releaseReady(d.s, d.effects);
}

/**
 * `effects` followed by every held event and outbox entry whose wait is over, in order (what
 * every step ends with; restart.ts ends a restart with it too).
 */
export function releaseReady(state: NormalState, effects: NormalEffect[] = []): NormalStep {
  let s = state;
  const done = (id: bigint | undefined) => id === undefined || !s.persisting.includes(id);
  let held = 0;
  while (held < s.heldEvents.length && done((s.heldEvents[held] as HeldEvent).awaitUpdateId)) {
    effects.push({ kind: 'event', event: (s.heldEvents[held] as HeldEvent).event });
    held++;
  }
  if (held > 0) s = { ...s, heldEvents: s.heldEvents.slice(held) };
  // What this step lets out (and nothing of an earlier step's): told again after a crash.
  const emitted = held > 0 ? state.heldEvents.slice(0, held).map((h) => h.event) : undefined;
  if (emitted || s.emitted) s = { ...s, emitted };
  if (s.link === 'connected') {
    let sent = 0;
    for (const entry of s.outbox) {
      const message = ready(s, entry, done);
      if (message === undefined) break;
      if (message !== 'stale') effects.push({ kind: 'send', message });
      sent++;
    }
    if (sent > 0) s = { ...s, outbox: s.outbox.slice(sent) };
  }
  return { state: s, effects };
}

function ready(
  s: NormalState,
  entry: OutboxEntry,
  done: (id: bigint | undefined) => boolean,
): Message | 'stale' | undefined {
  const channelId = s.params.channelId;
  switch (entry.kind) {
    case 'message':
      return done(entry.awaitUpdateId) ? entry.message : undefined;
    case 'commitment_signed': {
      const c = s.lastCommitment;
      // Acknowledged already (their revoke_and_ack came): nothing to send.
      if (!c || c.number !== entry.number) return 'stale';
      if (!c.signature || !c.htlcSignatures || !done(c.updateId)) return undefined;
      return {
        type: 132,
        kind: 'commitment_signed',
        channelId,
        signature: c.signature,
        htlcSignatures: [...c.htlcSignatures],
      };
    }
    case 'revoke_and_ack': {
      const r = s.lastRevocation;
      if (!r || r.revokedNumber !== entry.revokedNumber) return 'stale';
      if (!r.secret || !r.nextPerCommitmentPoint || !done(r.updateId)) return undefined;
      return {
        type: 133,
        kind: 'revoke_and_ack',
        channelId,
        perCommitmentSecret: r.secret,
        nextPerCommitmentPoint: r.nextPerCommitmentPoint,
      };
    }
  }
}

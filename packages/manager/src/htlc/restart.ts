/**
 * Normal operation resumed after a restart, with HTLCs in flight and a revocation under way:
 * `restartNormal(saved, monitor)` takes the NormalState the channel snapshot kept (written
 * before each step's messages and monitor updates left) and what the monitor holds, and
 * returns the state to go on from and the effects to run first — or why it must not resume.
 *
 * The snapshot may be ahead of the monitor by the updates whose persist had not completed: it
 * keeps them (`unpersisted`), and they are issued again, only those past the monitor's latest
 * id (a monitor applies each id once, in order). A monitor ahead of the snapshot knows of a
 * state the snapshot does not: resuming from the snapshot could sign a revoked state, so the
 * channel is left to its monitor. After the replay, the monitor's holder and counterparty
 * commitment numbers must be the snapshot's.
 *
 * The link is down (BOLT 2: "upon disconnection"), so channel_reestablish resends what the peer
 * missed (retransmit.ts). A signer request that was outstanding is asked again: the signature
 * of the counterparty commitment already in the monitor (checked to be the same transaction),
 * the secret of our commitment before the latest (the signer refuses the latest's). Held events
 * whose update completed go out; so do those the last step let out (its snapshot is written
 * before its effects run, so a crash may have cut them), and those the ledger says the payment
 * layer must act on — a received HTLC committed and not yet settled, one of ours whose preimage
 * came — since a restarted payment layer may have lost what it was doing (it takes a repeat as
 * nothing).
 */
import type { ChannelMonitor, ChannelMonitorUpdate } from '@lnkit/monitor';
import { counterpartyCommitmentToSign } from './build.ts';
import { reverseUncommittedRemote } from './ledger.ts';
import { committedEvent, releaseReady } from './normal.ts';
import type { HtlcEvent, NormalEffect, NormalState } from './normal-state.ts';

/** What restartNormal needs of a channel monitor. */
export interface MonitorView {
  /** The id of the last update the monitor applied. */
  readonly latestUpdateId: bigint;
  readonly holderCommitmentNumber: bigint;
  /** The counterparty commitments not revoked, oldest first: one, or two while a revocation is due. */
  readonly counterpartyCommitments: readonly { readonly commitmentNumber: bigint; readonly txid: string }[];
}

export function monitorViewOf(m: ChannelMonitor): MonitorView {
  return {
    latestUpdateId: m.latestUpdateId,
    holderCommitmentNumber: m.holderCommitment.commitmentNumber,
    counterpartyCommitments: m.counterpartyCommitments.map((c) => ({
      commitmentNumber: c.commitmentNumber,
      txid: c.txid,
    })),
  };
}

/** The view once `u` is applied, as @lnkit/monitor's applyMonitorUpdate moves the commitments. */
export function viewAfter(v: MonitorView, u: ChannelMonitorUpdate): MonitorView {
  let { holderCommitmentNumber, counterpartyCommitments } = v;
  for (const step of u.steps) {
    if (step.kind === 'holder-commitment') holderCommitmentNumber = step.commitment.commitmentNumber;
    else if (step.kind === 'counterparty-commitment')
      counterpartyCommitments = [
        ...counterpartyCommitments,
        { commitmentNumber: step.commitment.commitmentNumber, txid: step.commitment.txid },
      ];
    // The revoked commitment (the oldest) stops being live.
    else if (step.kind === 'commitment-secret') counterpartyCommitments = counterpartyCommitments.slice(1);
  }
  return { latestUpdateId: u.updateId, holderCommitmentNumber, counterpartyCommitments };
}

export type RestartResult =
  | {
      ok: true;
      /** Link 'disconnected': reestablish next. */
      state: NormalState;
      /** The updates to issue again first, then the signer requests, then the events. */
      effects: NormalEffect[];
      /** The monitor updates issued again (ids), for the log. */
      replayed: bigint[];
    }
  | { ok: false; reason: string };

const refuse = (reason: string): RestartResult => ({ ok: false, reason });

export function restartNormal(saved: NormalState, monitor: MonitorView): RestartResult {
  const lastIssued = saved.nextMonitorUpdateId - 1n;
  const latest = monitor.latestUpdateId;
  if (latest > lastIssued)
    return refuse(
      `the monitor is at update ${latest}, past the snapshot's last update ${lastIssued}: the snapshot is older than the monitor`,
    );
  // Those the monitor never got, in order and without a gap up to the snapshot's last one.
  const replay = (saved.unpersisted ?? []).filter((u) => u.updateId > latest);
  for (const [i, u] of replay.entries())
    if (u.updateId !== latest + 1n + BigInt(i))
      return refuse(
        `monitor update ${latest + 1n + BigInt(i)} is neither in the monitor nor in the snapshot`,
      );
  if (latest + BigInt(replay.length) !== lastIssued)
    return refuse(
      `monitor updates ${latest + 1n}..${lastIssued} are neither in the monitor nor in the snapshot`,
    );
  const view = replay.reduce(viewAfter, monitor);

  const { holder, counterparty: cp } = saved.commitments;
  if (view.holderCommitmentNumber !== holder.number)
    return refuse(
      `the monitor's holder commitment is ${view.holderCommitmentNumber}, the snapshot's ${holder.number}`,
    );
  const live = view.counterpartyCommitments;
  const newest = live.at(-1);
  if (!newest || newest.commitmentNumber !== cp.number || live.length !== (cp.awaitingRevoke ? 2 : 1))
    return refuse(
      `the monitor's counterparty commitments are ${live.map((c) => c.commitmentNumber).join(', ')}, the snapshot's ${cp.number}${cp.awaitingRevoke ? ' awaiting the revocation of the one before' : ''}`,
    );

  const effects: NormalEffect[] = replay.map((update) => ({ kind: 'persist-monitor', update }));
  // The signer was restarted at the monitor's holder commitment: it learns the newer one it
  // holds (validly signed, checked when it came) before it is asked to revoke the one before.
  if (holder.number > monitor.holderCommitmentNumber)
    effects.push({ kind: 'holder-commitment-validated', commitmentNumber: holder.number });
  const rev = saved.lastRevocation;
  if (rev && !rev.secret) {
    // Only ever the commitment before our latest: the latest stays unrevoked.
    if (rev.revokedNumber + 1n !== holder.number)
      return refuse(`a revocation of commitment ${rev.revokedNumber} while ours is ${holder.number}`);
    effects.push({
      kind: 'release-commitment-secret',
      commitmentNumber: rev.revokedNumber,
      nextPointNumber: holder.number + 1n,
    });
  }
  const sent = saved.lastCommitment;
  if (sent && (!sent.signature || !sent.htlcSignatures)) {
    const point = cp.perCommitmentPoint;
    if (sent.number !== cp.number || !cp.awaitingRevoke)
      return refuse(`a commitment_signed ${sent.number} to sign while theirs is ${cp.number}`);
    // Signed again from the ledger: the very transaction the monitor watches, or nothing.
    const toSign = counterpartyCommitmentToSign(saved.params, saved.ledger, sent.number, point);
    if (toSign.commitment.tx.getId() !== newest.txid)
      return refuse(`counterparty commitment ${sent.number} rebuilt is not the monitor's: not signed`);
    effects.push({
      kind: 'sign-counterparty-commitment',
      commitmentNumber: sent.number,
      perCommitmentPoint: point,
      sighash: toSign.sighash,
      htlcSighashes: toSign.htlcSighashes,
    });
  }

  // Told again, unless an event held in the snapshot will tell it.
  const heldKeys = new Set(saved.heldEvents.map((h) => eventKey(h.event)));
  const again: HtlcEvent[] = [];
  for (const h of saved.ledger.htlcs) {
    let e: HtlcEvent | undefined;
    if (h.direction === 'received' && h.state === 'rcvd-add-ack-revocation') e = committedEvent(h);
    else if (h.direction === 'offered') {
      const preimage = h.removal?.kind === 'fulfill' ? h.removal.paymentPreimage : h.paymentPreimage;
      if (preimage)
        e = { type: 'htlc-fulfilled', id: h.id, paymentHash: h.paymentHash, paymentPreimage: preimage };
    }
    if (e && !heldKeys.has(eventKey(e))) again.push(e);
  }
  // Those the last step let out, its effects perhaps cut short (first: they came first).
  const told = new Set(again.map(eventKey));
  again.unshift(...(saved.emitted ?? []).filter((e) => !told.has(eventKey(e))));

  const state: NormalState = {
    ...saved,
    persisting: replay.map((u) => u.updateId),
    unpersisted: replay,
    heldEvents: [...again.map((event) => ({ event })), ...saved.heldEvents],
    emitted: undefined,
    // BOLT 2 "upon disconnection": their uncommitted updates are reversed, ours resent later.
    ledger: reverseUncommittedRemote(saved.ledger),
    outbox: [],
    link: 'disconnected',
  };
  const released = releaseReady(state, effects);
  return {
    ok: true,
    state: released.state,
    effects: released.effects,
    replayed: replay.map((u) => u.updateId),
  };
}

function eventKey(e: HtlcEvent): string {
  return `${e.type}:${e.type === 'htlc-resolved' ? e.direction : ''}:${e.id}`;
}

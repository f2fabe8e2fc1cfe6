/**
 * A channel rebuilt at start from its monitor and its snapshot (LDK guide steps 8 and 17),
 * pure: monitor + snapshot → the channel's state and the effects to run first, or why it is
 * not resumed. The monitor is the source of truth (DESIGN.md): the commitments, the keys'
 * index, the parameters and the funding all come from it; the snapshot only adds what the
 * monitor does not know (the phase, the funding's confirmation, channel_ready both ways, the
 * aliases, a close under way). So a snapshot older than its monitor cannot make the channel
 * act on a stale commitment, and it never starts a force close: the only broadcasts here
 * repeat what the channel had already started (its funding, its mutual closing transaction,
 * a force close the snapshot records). A channel whose monitor is gone is never rebuilt (the
 * manager only looks at monitors).
 */
import type { ChannelMonitor, ChannelMonitorUpdate } from '@lnkit/monitor';
import { bytesEqual } from '@lnkit/wire';
import type {
  ChannelEffect,
  ChannelPhase,
  ChannelState,
  ClosureReason,
  Commitments,
  LocalChannelKeys,
} from './channel-state.ts';
import { signHolderCommitment } from './force-close.ts';
import { htlcChannelParams, normalFromChannel } from './htlc/from-channel.ts';
import { decodeNormalState } from './htlc/normal-record.ts';
import type { NormalState } from './htlc/normal-state.ts';
import { monitorViewOf, restartNormal } from './htlc/restart.ts';
import { channelEffect, normalDisconnected, withNormal } from './normal-operation.ts';
import { announcementFromSnapshot, type ChannelSnapshot } from './snapshot.ts';

export interface RestoreInput {
  monitor: ChannelMonitor;
  snapshot?: ChannelSnapshot | undefined;
  /**
   * Our keys for the channel, from the signer at the monitor's channelKeyIndex, with the points
   * of our current holder commitment (the monitor's) and the next one.
   */
  keys: LocalChannelKeys;
  /**
   * Once our commitment moved past 0: the points of the last two we revoked (oldest first), and
   * our last revoke_and_ack, rebuilt by the signer, to retransmit if the peer never got it.
   */
  holderRevocations?:
    | {
        revokedPoints: Uint8Array[];
        last: { revokedNumber: bigint; secret: Uint8Array; nextPerCommitmentPoint: Uint8Array };
      }
    | undefined;
  chainHash: Uint8Array;
  /** The manager's best block height (where its block stream resumes). */
  bestHeight: number;
  /** A fresh alias, used only when no snapshot says which one we sent. */
  newAlias: bigint;
}

export type RestoreResult =
  | { ok: true; state: ChannelState; effects: ChannelEffect[]; notes: string[] }
  /** Not resumed. `reason` is said (log and ChannelClosed) unless `quiet`: the channel was closed before the restart. */
  | { ok: false; reason: ClosureReason; quiet: boolean };

/** Phases before the first monitor update was durable: with a monitor, the channel carries on awaiting its funding. */
const BEFORE_FUNDING_OUT = new Set<ChannelPhase>([
  'awaiting-accept',
  'awaiting-funding-tx',
  'signing',
  'awaiting-funding-signed',
  'awaiting-funding-created',
  'awaiting-persist',
]);

const notResumed = (message: string): RestoreResult => ({
  ok: false,
  reason: { kind: 'not-resumed', message },
  quiet: false,
});

export function restoreChannel(input: RestoreInput): RestoreResult {
  const { monitor } = input;
  const info = monitor.info;
  const notes: string[] = [];
  let snap = input.snapshot;
  if (snap && !sameFunding(snap, monitor)) {
    notes.push(
      'the snapshot names another funding outpoint than the monitor: rebuilt from the monitor alone',
    );
    snap = undefined;
  }
  if (snap?.phase === 'closed' || (monitor.closed && !snap?.forceClose))
    // Closed before the restart (its ChannelClosed was said then); the monitor keeps watching.
    return { ok: false, reason: { kind: 'not-resumed', message: 'closed before the restart' }, quiet: true };
  if (monitor.fundingSpend && !snap?.forceClose && snap?.phase !== 'closing')
    return {
      ok: false,
      reason: { kind: 'funding-spent', spendingTxid: monitor.fundingSpend.txidHex },
      quiet: false,
    };
  // With the whole NormalState in the snapshot (version 2), HTLCs in flight and a revocation
  // under way are resumed by htlc/restart.ts, checked against the monitor. Without it, the
  // state between the two commitments is not known: resuming on a guess could sign a state the
  // peer would punish, so such a channel is left to its monitor.
  const full = snap?.normalState !== undefined && NORMAL_PHASES.has(snap.phase) && !snap.forceClose;
  const live = monitor.counterpartyCommitments;
  const counterparty = live[live.length - 1];
  if (!counterparty || (live.length !== 1 && !full))
    return notResumed('a revocation was under way: its state cannot be rebuilt from the monitor');
  const holder = monitor.holderCommitment;
  if (!full && ((holder.htlcs?.length ?? 0) > 0 || (counterparty.htlcs?.length ?? 0) > 0))
    return notResumed('its commitments hold HTLCs, and the snapshot does not have them');
  const commitments: Commitments = {
    localCommitmentNumber: holder.commitmentNumber,
    remoteCommitmentNumber: counterparty.commitmentNumber,
    toLocalMsat: holder.toLocalMsat,
    toRemoteMsat: holder.toRemoteMsat,
    feeratePerKw: holder.feeratePerKw,
    holder,
    counterparty,
  };
  if (snap) {
    const older =
      snap.lastMonitorUpdateId < monitor.latestUpdateId ||
      snap.localCommitmentNumber < holder.commitmentNumber ||
      snap.remoteCommitmentNumber < counterparty.commitmentNumber;
    if (older) notes.push('the snapshot is older than the monitor: the commitments are the monitor’s');
  } else notes.push('no snapshot: rebuilt from the monitor alone, waiting for the funding and channel_ready');

  const role = info.isFunder ? 'funder' : 'fundee';
  const effects: ChannelEffect[] = [
    {
      kind: 'watch-funding',
      outpoint: info.fundingOutpoint,
      scriptPubKey: info.fundingScriptPubKey,
      minimumDepth: info.minimumDepth,
    },
  ];
  let phase: ChannelPhase = snap?.phase ?? 'awaiting-confirmation';
  if (BEFORE_FUNDING_OUT.has(phase)) {
    // The monitor is durable, so the fundee may have sent funding_signed and the funder may
    // broadcast: BOLT 2 has both remember the channel. The funder's broadcast (and both sides'
    // ChannelPending) may never have happened; doing them again is harmless.
    phase = 'awaiting-confirmation';
    if (role === 'funder' && info.fundingTx)
      effects.push({ kind: 'broadcast', tx: info.fundingTx, what: 'funding' });
    effects.push({
      kind: 'event',
      event: {
        type: 'ChannelPending',
        channelId: info.channelId,
        temporaryChannelId: snap?.temporaryChannelId ?? info.channelId,
        counterpartyNodeId: info.counterpartyNodeId,
        fundingTxid: Buffer.from(info.fundingOutpoint.txid).reverse().toString('hex'),
        fundingOutputIndex: info.fundingOutpoint.vout,
        isFunder: role === 'funder',
      },
    });
  }
  let nextMonitorUpdateId = monitor.latestUpdateId + 1n;
  const closure = snap?.closure ? (JSON.parse(snap.closure) as ClosureReason) : undefined;
  const state0: ChannelState = {
    phase,
    role,
    counterpartyNodeId: info.counterpartyNodeId,
    temporaryChannelId: snap?.temporaryChannelId ?? info.channelId,
    channelId: info.channelId,
    chainHash: input.chainHash,
    channelType: { type: info.channelType, scidAlias: snap?.scidAlias ?? false },
    announce: info.announce,
    fundingSat: info.fundingSat,
    pushMsat: snap?.pushMsat ?? initialPushMsat(monitor),
    feeratePerKw: snap?.feeratePerKw ?? holder.feeratePerKw,
    keys: input.keys,
    local: info.local,
    remote: info.remote,
    remoteFirstPerCommitmentPoint:
      snap?.remoteFirstPerCommitmentPoint ??
      (counterparty.commitmentNumber === 0n ? counterparty.perCommitmentPoint : undefined),
    remoteNextPerCommitmentPoint: snap?.remoteNextPerCommitmentPoint,
    localShutdownScript: snap?.localShutdownScript ?? info.localShutdownScript,
    minimumDepth: info.minimumDepth,
    funding: {
      outpoint: info.fundingOutpoint,
      script: info.fundingScript,
      scriptPubKey: info.fundingScriptPubKey,
      ...(info.fundingTx ? { tx: info.fundingTx } : {}),
    },
    confirmation: snap?.confirmation,
    bestHeight: input.bestHeight,
    createdAtHeight: info.createdAtHeight,
    commitments,
    channelReadySent: snap?.channelReadySent ?? false,
    channelReadyReceived: snap?.channelReadyReceived ?? false,
    localAlias: snap?.localAlias ?? input.newAlias,
    remoteAlias: snap?.remoteAlias,
    shortChannelId: snap?.shortChannelId,
    nextMonitorUpdateId,
    closure,
    link: 'disconnected',
    close: snap?.close && { ...snap.close },
    confirmationUnknown: snap ? snap.confirmationUnknown : true,
    announcement: announcementFromSnapshot(snap?.announcement),
  };
  let state = state0;
  const moved = holder.commitmentNumber > 0n || counterparty.commitmentNumber > 0n || snap?.normal;
  if (full && snap?.normalState) {
    let saved: NormalState;
    try {
      saved = decodeNormalState(snap.normalState, htlcChannelParams(state));
    } catch (err) {
      // A record this version cannot read: left to its monitor rather than guessed at.
      return notResumed(`its snapshot's HTLC state does not read: ${(err as Error).message}`);
    }
    const r = restartNormal(saved, monitorViewOf(monitor));
    if (!r.ok) return notResumed(r.reason);
    // The commitments the replayed updates carry are the channel's (withNormal reads them).
    state = withNormal(state, r.state, r.effects);
    effects.push(...r.effects.map(channelEffect));
    if (r.replayed.length > 0)
      notes.push(`monitor updates ${r.replayed.join(', ')} had not completed: issued again`);
  } else if (moved && !snap?.forceClose && NORMAL_PHASES.has(phase)) {
    const resumed = resumeNormal(state, monitor, snap, input);
    if (!resumed)
      return notResumed('its commitments moved on and its snapshot does not say the peer’s next point');
    state = resumed;
  }
  if (snap?.forceClose) {
    // A force close the channel had started: finish it (the monitor told first if it was not).
    state = { ...state, phase: 'closing', forceClose: { ...snap.forceClose } };
    if (!monitor.closed) {
      const update: ChannelMonitorUpdate = {
        channelId: info.channelId,
        updateId: nextMonitorUpdateId,
        steps: [
          {
            kind: 'channel-closed',
            reason: closure?.kind ?? 'holder-force-closed',
            broadcastHolderCommitment: true,
          },
        ],
      };
      effects.push({ kind: 'persist-monitor', update });
      nextMonitorUpdateId += 1n;
      state = { ...state, nextMonitorUpdateId };
    }
    const tx = snap.forceClose.commitmentTx;
    effects.push(tx ? { kind: 'broadcast', tx, what: 'commitment' } : signHolderCommitment(state));
    notes.push('a force close was under way: our commitment goes out again');
  } else if (phase === 'closing' && snap?.close?.closingTx)
    effects.push({ kind: 'broadcast', tx: snap.close.closingTx, what: 'closing' });
  return { ok: true, state, effects, notes };
}

const NORMAL_PHASES = new Set<ChannelPhase>(['ready', 'shutdown', 'negotiating']);

/**
 * Normal operation resumed after payments (no HTLC in flight): both commitments at the
 * monitor's numbers and points, the peer's next point and the HTLC ids from the snapshot, the
 * peer's revealed secrets from the monitor, our revoked points and last revoke_and_ack from
 * the signer. Undefined when the snapshot cannot say the peer's next point.
 */
function resumeNormal(
  s: ChannelState,
  monitor: ChannelMonitor,
  snap: ChannelSnapshot | undefined,
  input: RestoreInput,
): ChannelState | undefined {
  const live = monitor.counterpartyCommitments;
  const counterparty = live[live.length - 1];
  const next = snap?.normal?.remoteNextPerCommitmentPoint;
  if (!counterparty || !next || !snap?.normal) return undefined;
  const base = normalFromChannel({
    ...s,
    remoteFirstPerCommitmentPoint: counterparty.perCommitmentPoint,
    remoteNextPerCommitmentPoint: next,
  });
  const revocations = input.holderRevocations;
  const normal: NormalState = {
    ...base,
    ledger: {
      ...base.ledger,
      nextOfferedId: snap.normal.nextOfferedId,
      nextReceivedId: snap.normal.nextReceivedId,
      nextSeq: 1,
    },
    commitments: {
      holder: { ...base.commitments.holder, revokedPoints: revocations?.revokedPoints ?? [] },
      counterparty: { ...base.commitments.counterparty, secrets: monitor.commitmentSecrets },
    },
    lastRevocation: revocations && { ...revocations.last, seq: 0, updateId: monitor.latestUpdateId },
  };
  return normalDisconnected({ ...s, normal });
}

function sameFunding(s: ChannelSnapshot, m: ChannelMonitor): boolean {
  const o = m.info.fundingOutpoint;
  return (
    bytesEqual(s.channelId, m.info.channelId) &&
    bytesEqual(s.fundingOutpoint.txid, o.txid) &&
    s.fundingOutpoint.vout === o.vout &&
    s.counterpartyNodeId === m.info.counterpartyNodeId &&
    (s.role === 'funder') === m.info.isFunder
  );
}

/** push_msat from the first commitment (the fundee's balance in it); 0 once it moved on. */
function initialPushMsat(m: ChannelMonitor): bigint {
  const h = m.holderCommitment;
  if (h.commitmentNumber !== 0n) return 0n;
  return m.info.isFunder ? h.toRemoteMsat : h.toLocalMsat;
}

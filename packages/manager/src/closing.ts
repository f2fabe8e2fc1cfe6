/**
 * Cooperative close of a channel without HTLCs: BOLT 2 `shutdown`, then the legacy
 * `closing_signed` fee negotiation, with and without the `fee_range` TLV (LDK 0.1 sends one;
 * a peer that sends none is negotiated with by the "strictly between" rule and never held to
 * fee_range rules), then the closing transaction signed, broadcast and watched until it
 * confirms. BOLT 3 "Legacy Closing Transaction" builds it (@lnkit/tx).
 */
import { buildLegacyClosingTransaction, closingSighash, finalizeFundingSpend, Transaction } from '@lnkit/tx';
import { bytesEqual, type ClosingSigned, type Shutdown } from '@lnkit/wire';
import { failChannel, refuseChannel } from './channel-effects.ts';
import type { ChannelEffect, ChannelState, CloseState, FeeRangeSat, Step } from './channel-state.ts';
import type { PeerFeatures } from './checks.ts';
import { initialBalancesMsat, verifyFundingSignature } from './commitments.ts';
import { maxOf, minOf } from './config.ts';
import { FEERATE_FLOOR_PER_KW } from './fee-estimator.ts';
import { settledForClose } from './htlc/index.ts';
import { normalOf } from './normal-operation.ts';
import { isValidShutdownScript } from './shutdown-script.ts';

/** Where the funding output may still be spent cooperatively: a close may start from here. */
const CLOSABLE = new Set(['awaiting-confirmation', 'ready']);

const warning = (channelId: Uint8Array, text: string) =>
  ({ type: 1, kind: 'warning', channelId, data: new TextEncoder().encode(text) }) as const;

/**
 * The closing transaction's weight with both outputs (BOLT 3: a 2-of-2 witness of two 73-byte
 * signatures and the 71-byte script; each output 8 + 1 + script bytes), as LDK counts it.
 */
export function closingWeight(localScript: Uint8Array, remoteScript: Uint8Array): bigint {
  const base = 4 + 1 + 36 + 1 + 4 + 1 + 4 + (9 + localScript.length) + (9 + remoteScript.length);
  const witness = 2 + 1 + 1 + (1 + 73) * 2 + (1 + 71);
  return BigInt(base * 4 + witness);
}

/** The fee at `feeratePerKw`, rounded up, with 2% more so a peer counting a little differently still finds it above its floor. */
export function closingFeeSat(c: CloseState, feeratePerKw: number): bigint {
  const weight = closingWeight(c.localScript, c.remoteScript ?? c.localScript);
  return (BigInt(feeratePerKw) * weight * 102n + 99_999n) / 100_000n;
}

function funderBalanceSat(s: ChannelState): bigint {
  const b = s.commitments ?? initialBalancesMsat(s);
  return (s.role === 'funder' ? b.toLocalMsat : b.toRemoteMsat) / 1000n;
}

/**
 * Our fee_range: from the relay floor up to the funder's limit. The funder (who pays) goes up to
 * twice its target; the other side "SHOULD set max_fee_satoshis to at least the
 * max_fee_satoshis received", so it takes the funder's maximum as its own.
 */
function ourRange(s: ChannelState, c: CloseState, theirs: FeeRangeSat | undefined): FeeRangeSat {
  const min = closingFeeSat(c, FEERATE_FLOOR_PER_KW);
  let max =
    s.role === 'funder'
      ? closingFeeSat(c, Math.max(2 * c.feeratePerKw, FEERATE_FLOOR_PER_KW))
      : (theirs?.maxFeeSatoshis ?? funderBalanceSat(s));
  const cap = funderBalanceSat(s);
  if (max > cap) max = cap;
  return { minFeeSatoshis: min, maxFeeSatoshis: maxOf(min, max) };
}

/** The closing transaction at `feeSat`, outputs trimmed at `dustLimitSat` (ours, or theirs for their variant). */
function closingTx(s: ChannelState, c: CloseState, feeSat: bigint, dustLimitSat: bigint): Transaction {
  const funding = s.funding;
  const remoteScript = c.remoteScript;
  if (!funding || !remoteScript) throw new Error('closing transaction before both shutdowns');
  const b = s.commitments ?? initialBalancesMsat(s);
  return buildLegacyClosingTransaction({
    fundingOutpoint: funding.outpoint,
    localMsat: b.toLocalMsat,
    remoteMsat: b.toRemoteMsat,
    localScriptPubKey: c.localScript,
    remoteScriptPubKey: remoteScript,
    localIsFunder: s.role === 'funder',
    feeSat,
    dustLimitSat,
  });
}

function sighashOf(s: ChannelState, tx: Transaction): Uint8Array {
  const funding = s.funding;
  if (!funding) throw new Error('no funding');
  return closingSighash(tx, funding.script, s.fundingSat);
}

/** The user's close: our shutdown (BOLT 2: the upfront script, if we sent one, is the one we must use). */
export function onCloseRequested(
  s: ChannelState,
  feeratePerKw: number,
  scriptPubKey: Uint8Array | undefined,
): Step {
  if (!CLOSABLE.has(s.phase) || s.close)
    return {
      state: s,
      effects: [{ kind: 'log', level: 'info', message: `close ignored in phase ${s.phase}` }],
    };
  const localScript = s.local.upfrontShutdownScript ?? scriptPubKey ?? s.localShutdownScript;
  if (!localScript)
    return failChannel(s, { kind: 'internal-error', message: 'no shutdown script to close to' });
  const close: CloseState = { initiator: 'local', localScript, shutdownSent: true, feeratePerKw };
  return sendShutdown({ ...s, phase: 'shutdown', close }, []);
}

function sendShutdown(s: ChannelState, effects: ChannelEffect[]): Step {
  const channelId = s.channelId;
  const close = s.close;
  if (!channelId || !close) throw new Error('shutdown without a channel');
  const shutdown: Shutdown = { type: 38, kind: 'shutdown', channelId, scriptpubkey: close.localScript };
  if (s.link === 'connected') effects.push({ kind: 'send', message: shutdown });
  return { state: s, effects };
}

/** The peer's shutdown: checked, answered with ours, and the funder opens the negotiation. */
export function onShutdown(s: ChannelState, m: Shutdown, features: PeerFeatures, feeratePerKw: number): Step {
  if (!CLOSABLE.has(s.phase) && s.phase !== 'shutdown' && s.phase !== 'negotiating')
    // BOLT 2: "if it hasn't received a funding_signed (if it is a funder) or a funding_created
    // (if it is a fundee): SHOULD send an error and fail the channel."
    return refuseChannel(s, 'shutdown', {
      field: 'shutdown',
      reason: `shutdown is not expected in phase ${s.phase}`,
    });
  const channelId = s.channelId as Uint8Array;
  // BOLT 2: "if the scriptpubkey is not in one of the above forms: SHOULD send a warning."
  if (!isValidShutdownScript(m.scriptpubkey, features))
    return {
      state: s,
      effects: [
        {
          kind: 'send',
          message: warning(channelId, 'shutdown scriptpubkey is not a script a channel may close to'),
        },
      ],
    };
  // BOLT 2: if both advertised option_upfront_shutdown_script and the peer committed to a
  // script, another one "MUST fail the connection".
  const upfront = s.remote?.upfrontShutdownScript;
  if (features.upfrontShutdownScript && upfront && !bytesEqual(upfront, m.scriptpubkey))
    return refuseChannel(s, 'shutdown', {
      field: 'scriptpubkey',
      reason: 'scriptpubkey is not the upfront_shutdown_script',
    });
  const known = s.close?.remoteScript;
  if (known) {
    // A retransmission after a reconnect: the same script, nothing new.
    if (bytesEqual(known, m.scriptpubkey)) return { state: s, effects: [] };
    return refuseChannel(s, 'shutdown', {
      field: 'scriptpubkey',
      reason: 'a second shutdown with another scriptpubkey',
    });
  }
  let close = s.close;
  const effects: ChannelEffect[] = [];
  let state = s;
  if (!close) {
    const localScript = s.local.upfrontShutdownScript ?? s.localShutdownScript;
    if (!localScript)
      return failChannel(s, { kind: 'internal-error', message: 'no shutdown script to close to' });
    close = { initiator: 'remote', localScript, shutdownSent: true, feeratePerKw };
    // BOLT 2: "once there are no outstanding updates on the peer, UNLESS it has already sent a
    // shutdown: MUST reply to a shutdown message with a shutdown".
    state = sendShutdown({ ...s, close }, effects).state;
  }
  state = { ...state, close: { ...close, remoteScript: m.scriptpubkey } };
  // BOLT 2: closing_signed only once "no HTLCs remain in either commitment transaction ... and
  // neither side has a pending revoke_and_ack": until then the channel stays in shutdown, and
  // normal operation starts the negotiation when it settles (normal-operation.ts).
  if (state.normal && !settledForClose(normalOf(state)))
    return { state: { ...state, phase: 'shutdown' }, effects };
  return startNegotiation(state, effects);
}

/** Both shutdowns in, nothing left in flight: closing_signed, the funder first. */
export function startNegotiation(s: ChannelState, effects: ChannelEffect[]): Step {
  const state: ChannelState = { ...s, phase: 'negotiating' };
  return s.role === 'funder' ? propose(state, effects) : { state, effects };
}

/** Both shutdowns are in and we are the funder: our first proposal (BOLT 2: "The funding node ... SHOULD send a closing_signed"). */
function propose(s: ChannelState, effects: ChannelEffect[]): Step {
  const close = s.close as CloseState;
  if (!close.remoteScript) return { state: s, effects };
  const range = ourRange(s, close, undefined);
  let feeSat = closingFeeSat(close, close.feeratePerKw);
  if (feeSat > range.maxFeeSatoshis) feeSat = range.maxFeeSatoshis;
  return signProposal({ ...s, close: { ...close, sentRange: range } }, feeSat, effects);
}

function signProposal(s: ChannelState, feeSat: bigint, effects: ChannelEffect[]): Step {
  const close = s.close as CloseState;
  const tx = closingTx(s, close, feeSat, s.local.dustLimitSat);
  effects.push({ kind: 'sign-closing', sighash: sighashOf(s, tx) });
  return {
    state: {
      ...s,
      close: { ...close, pending: { feeSat, tx: new Uint8Array(tx.toBuffer()), purpose: 'proposal' } },
    },
    effects,
  };
}

/** Agreement on `feeSat`: sign the variant the peer signed, then complete and broadcast it. */
function agree(
  s: ChannelState,
  feeSat: bigint,
  tx: Transaction,
  remoteSignature: Uint8Array,
  reply: boolean,
): Step {
  const close = s.close as CloseState;
  return {
    state: {
      ...s,
      close: {
        ...close,
        pending: { feeSat, tx: new Uint8Array(tx.toBuffer()), purpose: 'final', remoteSignature, reply },
      },
    },
    effects: [{ kind: 'sign-closing', sighash: sighashOf(s, tx) }],
  };
}

/** Our signature of the pending closing transaction: send the proposal, or complete and broadcast. */
export function onClosingSignature(s: ChannelState, signature: Uint8Array): Step {
  const close = s.close;
  const pending = close?.pending;
  const channelId = s.channelId;
  if (!close || !pending || !channelId || !s.remote) return { state: s, effects: [] };
  const effects: ChannelEffect[] = [];
  const closingSigned: ClosingSigned = {
    type: 39,
    kind: 'closing_signed',
    channelId,
    feeSatoshis: pending.feeSat,
    signature,
    ...(close.sentRange ? { feeRange: close.sentRange } : {}),
  };
  if (pending.purpose === 'proposal') {
    if (s.link === 'connected') effects.push({ kind: 'send', message: closingSigned });
    return {
      state: { ...s, close: { ...close, pending: undefined, lastSentFeeSat: pending.feeSat } },
      effects,
    };
  }
  if (pending.reply && s.link === 'connected') effects.push({ kind: 'send', message: closingSigned });
  const tx = Transaction.fromBuffer(Buffer.from(pending.tx));
  const signed = finalizeFundingSpend(
    tx,
    (s.funding as NonNullable<ChannelState['funding']>).script,
    s.local.fundingPubkey,
    signature,
    s.remote.fundingPubkey,
    pending.remoteSignature as Uint8Array,
  );
  const raw = new Uint8Array(signed.toBuffer());
  effects.push({ kind: 'broadcast', tx: raw, what: 'closing' });
  return {
    state: {
      ...s,
      phase: 'closing',
      close: {
        ...close,
        pending: undefined,
        lastSentFeeSat: pending.feeSat,
        closingTxid: signed.getId(),
        closingTx: raw,
      },
    },
    effects,
  };
}

/** Which closing transaction the peer signed, of those BOLT 3 allows (our dust rule, or theirs). */
function signedVariant(s: ChannelState, m: ClosingSigned): Transaction | undefined {
  const close = s.close as CloseState;
  const remote = s.remote;
  if (!remote) return undefined;
  const limits = [s.local.dustLimitSat, remote.dustLimitSat];
  for (const dust of limits) {
    let tx: Transaction;
    try {
      tx = closingTx(s, close, m.feeSatoshis, dust);
    } catch {
      return undefined; // the funder cannot pay that fee
    }
    if (verifyFundingSignature(sighashOf(s, tx), m.signature, remote.fundingPubkey)) return tx;
  }
  return undefined;
}

const inRange = (fee: bigint, r: FeeRangeSat) => fee >= r.minFeeSatoshis && fee <= r.maxFeeSatoshis;

/** The peer's closing_signed (BOLT 2 "Legacy Closing Negotiation", the receiving node's rules in order). */
export function onClosingSigned(s: ChannelState, m: ClosingSigned): Step {
  const close = s.close;
  if (s.phase !== 'negotiating' || !close?.remoteScript)
    return refuseChannel(s, 'closing_signed', {
      field: 'closing_signed',
      reason: `closing_signed is not expected in phase ${s.phase}`,
    });
  if (close.pending) return { state: s, effects: [] }; // cannot happen: a signature is answered before the next input
  // BOLT 2: "if the signature is not valid for either variant of closing transaction specified
  // in BOLT 3 OR non-compliant with LOW-S-standard rule: MUST send a warning and close the
  // connection, or send an error and fail the channel."
  const tx = signedVariant(s, m);
  if (!tx)
    return refuseChannel(s, 'closing_signed', {
      field: 'signature',
      reason: `signature is not valid for a closing transaction paying fee_satoshis ${m.feeSatoshis} to the shutdown scripts`,
    });
  const fee = m.feeSatoshis;
  const state: ChannelState = { ...s, close: { ...close, lastReceivedFeeSat: fee } };
  // BOLT 2: "if fee_satoshis is equal to its previously sent fee_satoshis: SHOULD sign and broadcast the final closing transaction."
  if (fee === close.lastSentFeeSat) return agree(state, fee, tx, m.signature, false);
  // BOLT 2: "if fee_satoshis matches its previously sent fee_range: SHOULD use fee_satoshis to
  // sign and broadcast ... SHOULD reply with a closing_signed with the same fee_satoshis".
  if (close.sentRange && inRange(fee, close.sentRange)) return agree(state, fee, tx, m.signature, true);
  const theirs = m.feeRange;
  if (theirs) {
    const ours = close.sentRange ?? ourRange(s, close, theirs);
    const low = maxOf(theirs.minFeeSatoshis, ours.minFeeSatoshis);
    const high = minOf(theirs.maxFeeSatoshis, ours.maxFeeSatoshis);
    // BOLT 2: "if there is no overlap between that and its own fee_range: SHOULD send a warning".
    if (low > high)
      return {
        state,
        effects: [
          {
            kind: 'send',
            message: warning(
              s.channelId as Uint8Array,
              `no overlap with our fee_range ${ours.minFeeSatoshis}..${ours.maxFeeSatoshis}`,
            ),
          },
        ],
      };
    const overlap = { minFeeSatoshis: low, maxFeeSatoshis: high };
    if (s.role === 'funder') {
      // BOLT 2: "if fee_satoshis is not in the overlap between the sent and received fee_range: MUST fail the channel. otherwise: MUST reply with the same fee_satoshis."
      if (!inRange(fee, overlap))
        return refuseChannel(state, 'closing_signed', {
          field: 'fee_satoshis',
          reason: `fee_satoshis ${fee} is outside the fee_range overlap ${low}..${high}`,
        });
      return agree(state, fee, tx, m.signature, true);
    }
    // BOLT 2 (not the funder): "if it has already sent a closing_signed: if fee_satoshis is not
    // the same as the value it sent: MUST fail the channel".
    if (close.lastSentFeeSat !== undefined)
      return refuseChannel(state, 'closing_signed', {
        field: 'fee_satoshis',
        reason: `fee_satoshis ${fee} is not the ${close.lastSentFeeSat} we sent`,
      });
    // "otherwise: MUST propose a fee_satoshis in the overlap": theirs, when it is in it.
    const withRange: ChannelState = { ...state, close: { ...(state.close as CloseState), sentRange: ours } };
    if (inRange(fee, overlap)) return agree(withRange, fee, tx, m.signature, true);
    return signProposal(withRange, fee < low ? low : high, []);
  }
  // No fee_range: the peer is negotiated with by the older rules, and not held to fee_range ones.
  const ours = ourRange(s, close, undefined);
  const last = close.lastSentFeeSat;
  const prev = close.lastReceivedFeeSat;
  // BOLT 2: "if fee_satoshis is not strictly between its last-sent fee_satoshis and its
  // previously-received fee_satoshis, UNLESS it has since reconnected: SHOULD send a warning
  // and close the connection, or send an error and fail the channel."
  if (last !== undefined && prev !== undefined) {
    const [lo, hi] = last < prev ? [last, prev] : [prev, last];
    if (!(fee > lo && fee < hi))
      return refuseChannel(state, 'closing_signed', {
        field: 'fee_satoshis',
        reason: `fee_satoshis ${fee} is not strictly between ${lo} and ${hi}`,
      });
  }
  const acceptable = s.role === 'funder' ? inRange(fee, ours) : fee >= ours.minFeeSatoshis;
  // "otherwise, if the receiver agrees with the fee: SHOULD reply with a closing_signed with the same fee_satoshis value."
  if (acceptable) return agree(state, fee, tx, m.signature, true);
  // "otherwise: MUST propose a value strictly between the received fee_satoshis and its
  // previously-sent fee_satoshis" — the middle, kept inside what we accept ourselves.
  const mine = last ?? closingFeeSat(close, close.feeratePerKw);
  let next = (mine + fee) / 2n;
  next = maxOf(ours.minFeeSatoshis, minOf(ours.maxFeeSatoshis, next));
  const strictlyBetween = (next > mine && next < fee) || (next < mine && next > fee);
  if (last === undefined ? next === fee : !strictlyBetween)
    return refuseChannel(state, 'closing_signed', {
      field: 'fee_satoshis',
      reason: `fee_satoshis ${fee} is outside our range ${ours.minFeeSatoshis}..${ours.maxFeeSatoshis} and there is nothing left between`,
    });
  return signProposal(state, next, []);
}

/** After a reconnect: our shutdown again, and the funder restarts the negotiation (BOLT 2: it "restarts on reconnection"). */
export function resumeClose(s: ChannelState, effects: ChannelEffect[]): Step {
  const close = s.close;
  if (!close || s.phase === 'closing') return { state: s, effects };
  const restarted: ChannelState = {
    ...s,
    close: {
      ...close,
      lastSentFeeSat: undefined,
      lastReceivedFeeSat: undefined,
      sentRange: undefined,
      pending: undefined,
    },
  };
  const step = sendShutdown(restarted, effects);
  return s.phase === 'negotiating' && s.role === 'funder' ? propose(step.state, step.effects) : step;
}

/** The closing transaction confirmed: the channel is closed, and the monitor told so. */
export function onClosingConfirmed(s: ChannelState): Step {
  const close = s.close;
  const channelId = s.channelId;
  if (s.phase !== 'closing' || !close?.closingTxid || !channelId) return { state: s, effects: [] };
  const reason = { kind: 'cooperative', initiator: close.initiator, closingTxid: close.closingTxid } as const;
  return {
    state: { ...s, phase: 'closed', closure: reason, nextMonitorUpdateId: s.nextMonitorUpdateId + 1n },
    effects: [
      {
        kind: 'persist-monitor',
        update: {
          channelId,
          updateId: s.nextMonitorUpdateId,
          steps: [{ kind: 'channel-closed', reason: 'cooperative', broadcastHolderCommitment: false }],
        },
      },
      {
        kind: 'event',
        event: { type: 'ChannelClosed', channelId, counterpartyNodeId: s.counterpartyNodeId, reason },
      },
    ],
  };
}

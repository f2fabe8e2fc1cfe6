/**
 * BOLT 2's limits on update_add_htlc and update_fee, checked on what we receive (a refusal
 * fails the channel, naming the rule) and on what we are asked to send (a refusal is the
 * caller's error, and nothing is sent). Checked against the commitments "after adding that
 * HTLC": every update proposed so far counted in (ledger.ts `projected`).
 */

import { isHtlcTrimmed } from '@lnkit/tx';
import type { Refusal } from '../checks.ts';
import { commitmentSpec, funderChargeMsat, type HtlcChannelParams } from './build.ts';
import { balancesOf, type CommitmentSide, type HtlcLedger, type LedgerHtlc, placeIn } from './ledger.ts';

/** BOLT 2: "MUST set cltv_expiry less than 500000000" (a larger value would be a time in seconds). */
export const CLTV_EXPIRY_LIMIT = 500_000_000;

/** BOLT 2 "Bad Input" asks for sanity: how far an update_fee may go, per kw. */
export interface FeeBounds {
  minPerKw: number;
  maxPerKw: number;
}

export interface AddRequest {
  amountMsat: bigint;
  paymentHash: Uint8Array;
  cltvExpiry: number;
}

const refuse = (field: string, reason: string): Refusal => ({ field, reason });

/** The HTLCs one side offered that are, or will be, in the commitment of `side`. */
function offeredInto(ledger: HtlcLedger, direction: LedgerHtlc['direction'], side: CommitmentSide) {
  return ledger.htlcs.filter((h) => h.direction === direction && placeIn(h.state, side) !== 'after');
}

/** A ledger with one more HTLC, as proposed (for the "after adding" checks). */
function withAdd(ledger: HtlcLedger, direction: LedgerHtlc['direction'], add: AddRequest): HtlcLedger {
  const h: LedgerHtlc = {
    id: direction === 'offered' ? ledger.nextOfferedId : ledger.nextReceivedId,
    direction,
    amountMsat: add.amountMsat,
    paymentHash: add.paymentHash,
    cltvExpiry: add.cltvExpiry,
    onionRoutingPacket: new Uint8Array(0),
    state: direction === 'offered' ? 'sent-add-htlc' : 'rcvd-add-htlc',
  };
  return { ...ledger, htlcs: [...ledger.htlcs, h] };
}

/**
 * What the offerer keeps in a commitment after the add, against what it must keep: the reserve
 * the other side asked of it, plus the fee and anchors if it is the funder. `feeMultiple` and
 * `extraHtlcs` make the funder's fee-spike buffer (BOLT 2: "twice the current feerate_per_kw").
 */
function offererShortfallMsat(
  p: HtlcChannelParams,
  ledger: HtlcLedger,
  offerer: 'local' | 'remote',
  side: CommitmentSide,
  feeMultiple: number,
  extraHtlcs: number,
): bigint {
  const spec = commitmentSpec(ledger, side, true);
  // Balances in the spec are from the owner's view.
  const offererMsat = (side === 'local') === (offerer === 'local') ? spec.toLocalMsat : spec.toRemoteMsat;
  // The reserve a side must keep is the one the *other* side asked for.
  const reserveMsat = (offerer === 'local' ? p.remote.channelReserveSat : p.local.channelReserveSat) * 1000n;
  const offererIsFunder = (offerer === 'local') === p.isFunder;
  const feeMsat = offererIsFunder
    ? funderChargeMsat(p, spec, spec.feeratePerKw * feeMultiple, extraHtlcs)
    : 0n;
  const need = reserveMsat + feeMsat;
  return offererMsat < need ? need - offererMsat : 0n;
}

function commonAddChecks(add: AddRequest, minimumMsat: bigint): Refusal | undefined {
  if (add.amountMsat <= 0n) return refuse('amount_msat', 'amount_msat must be greater than 0');
  if (add.amountMsat < minimumMsat)
    return refuse(
      'htlc_minimum_msat',
      `amount_msat ${add.amountMsat} is below htlc_minimum_msat ${minimumMsat}`,
    );
  if (!Number.isInteger(add.cltvExpiry) || add.cltvExpiry < 0 || add.cltvExpiry >= CLTV_EXPIRY_LIMIT)
    return refuse('cltv_expiry', `cltv_expiry ${add.cltvExpiry} is not below ${CLTV_EXPIRY_LIMIT}`);
  if (add.paymentHash.length !== 32) return refuse('payment_hash', 'payment_hash must be 32 bytes');
  return undefined;
}

function countAndValueChecks(
  ledger: HtlcLedger,
  direction: LedgerHtlc['direction'],
  side: CommitmentSide,
  add: AddRequest,
  limits: { maxAcceptedHtlcs: number; maxHtlcValueInFlightMsat: bigint },
): Refusal | undefined {
  const inFlight = offeredInto(ledger, direction, side);
  if (inFlight.length + 1 > limits.maxAcceptedHtlcs)
    return refuse(
      'max_accepted_htlcs',
      `${inFlight.length + 1} HTLCs would exceed max_accepted_htlcs ${limits.maxAcceptedHtlcs}`,
    );
  const valueMsat = inFlight.reduce((s, h) => s + h.amountMsat, add.amountMsat);
  if (valueMsat > limits.maxHtlcValueInFlightMsat)
    return refuse(
      'max_htlc_value_in_flight_msat',
      `${valueMsat} msat in flight would exceed max_htlc_value_in_flight_msat ${limits.maxHtlcValueInFlightMsat}`,
    );
  return undefined;
}

/**
 * BOLT 2, a node receiving update_add_htlc: amount 0 or below its own htlc_minimum_msat; an
 * amount "the sending node cannot afford at the current feerate_per_kw (while maintaining its
 * channel reserve and any to_local_anchor and to_remote_anchor costs)"; "adds more than
 * receiver max_accepted_htlcs HTLCs to its local commitment transaction, OR adds more than
 * receiver max_htlc_value_in_flight_msat worth of offered HTLCs"; "cltv_expiry to greater or
 * equal to 500000000"; other id violations. Each fails the channel.
 */
export function checkReceivedAdd(
  p: HtlcChannelParams,
  ledger: HtlcLedger,
  add: AddRequest & { id: bigint },
  o: { shutdownReceived: boolean },
): Refusal | undefined {
  // BOLT 2: a sending node "MUST NOT send an update_add_htlc after a shutdown".
  if (o.shutdownReceived) return refuse('shutdown', 'update_add_htlc after the peer sent shutdown');
  // "MUST increase the value of id by 1 for each successive offer" (a repeat after a reconnect
  // was reversed on disconnection, so it is the next id again).
  if (add.id !== ledger.nextReceivedId)
    return refuse('id', `id ${add.id} is not the next id ${ledger.nextReceivedId}`);
  const common = commonAddChecks(add, p.local.htlcMinimumMsat);
  if (common) return common;
  const counts = countAndValueChecks(ledger, 'received', 'local', add, p.local);
  if (counts) return counts;
  const after = withAdd(ledger, 'received', add);
  for (const side of ['local', 'remote'] as const) {
    const short = offererShortfallMsat(p, after, 'remote', side, 1, 0);
    if (short > 0n)
      return refuse(
        'channel_reserve_satoshis',
        `the sender cannot afford amount_msat ${add.amountMsat} on the ${side === 'local' ? 'our' : 'its'} commitment: ` +
          `${short} msat short of its channel reserve${p.isFunder ? '' : ', the fee and the anchors'}`,
      );
  }
  return undefined;
}

/**
 * The sending side of the same rules (BOLT 2 "A sending node"): below their htlc_minimum_msat,
 * beyond their max_accepted_htlcs or max_htlc_value_in_flight_msat, our reserve; as the funder,
 * the fee of both commitments with the fee-spike buffer ("SHOULD ... handle twice the current
 * feerate_per_kw", plus one more non-dust HTLC); as the fundee, a funder still able to pay the fee.
 */
export function checkOfferedAdd(
  p: HtlcChannelParams,
  ledger: HtlcLedger,
  add: AddRequest,
  o: { shutdownSent: boolean; maxDustHtlcExposureMsat?: bigint | undefined },
): Refusal | undefined {
  if (o.shutdownSent) return refuse('shutdown', 'no HTLC may be added after our shutdown');
  const common = commonAddChecks(add, p.remote.htlcMinimumMsat);
  if (common) return common;
  const counts = countAndValueChecks(ledger, 'offered', 'remote', add, p.remote);
  if (counts) return counts;
  const after = withAdd(ledger, 'offered', add);
  // BOLT 2 "Bounding exposure to trimmed in-flight HTLCs": "SHOULD NOT send this HTLC".
  if (o.maxDustHtlcExposureMsat !== undefined && exceedsDustExposure(p, after, o.maxDustHtlcExposureMsat))
    return refuse(
      'max_dust_htlc_exposure_msat',
      `${add.amountMsat} msat of dust would take the trimmed HTLCs beyond ${o.maxDustHtlcExposureMsat} msat`,
    );
  // Anchors commitments' fees are not in a hurry to follow the market: no doubling there.
  const multiple = p.channelType === 'anchors_zero_fee_htlc_tx' ? 1 : 2;
  for (const side of ['local', 'remote'] as const) {
    const short = offererShortfallMsat(
      p,
      after,
      'local',
      side,
      p.isFunder ? multiple : 1,
      p.isFunder ? 1 : 0,
    );
    if (short > 0n)
      return refuse(
        'channel_reserve_satoshis',
        `cannot afford ${add.amountMsat} msat: ${short} msat short of the channel reserve${p.isFunder ? ', the fee and the fee-spike buffer' : ''}`,
      );
    if (!p.isFunder) {
      const spec = commitmentSpec(after, side, true);
      const funderMsat = side === 'local' ? spec.toRemoteMsat : spec.toLocalMsat;
      if (funderMsat < funderChargeMsat(p, spec, spec.feeratePerKw))
        return refuse('feerate_per_kw', 'the funder could not pay the commitment fee with this HTLC');
    }
  }
  return undefined;
}

/**
 * BOLT 2, receiving update_fee: "if the sender is not responsible for paying the Bitcoin fee",
 * "if the update_fee is too low for timely processing, OR is unreasonably large", "if the
 * sender cannot afford the new fee rate on the receiving node's current commitment
 * transaction". Tolerant where the BOLT lets us be: the reserve is not asked for on top of
 * the fee (LDK closes on "peer's feerate much too low"; lnkit would rather not).
 */
export function checkReceivedFee(
  p: HtlcChannelParams,
  ledger: HtlcLedger,
  feeratePerKw: number,
  bounds: FeeBounds,
): Refusal | undefined {
  if (p.isFunder) return refuse('feerate_per_kw', 'update_fee from the side that does not pay the fee');
  if (!Number.isInteger(feeratePerKw) || feeratePerKw < bounds.minPerKw)
    return refuse('feerate_per_kw', `feerate_per_kw ${feeratePerKw} is below ${bounds.minPerKw}`);
  if (feeratePerKw > bounds.maxPerKw)
    return refuse('feerate_per_kw', `feerate_per_kw ${feeratePerKw} is above ${bounds.maxPerKw}`);
  const spec = commitmentSpec(ledger, 'local');
  const need = funderChargeMsat(p, spec, feeratePerKw);
  if (spec.toRemoteMsat < need)
    return refuse(
      'feerate_per_kw',
      `the funder cannot afford feerate_per_kw ${feeratePerKw}: ${need - spec.toRemoteMsat} msat short`,
    );
  return undefined;
}

/** Our update_fee: only as the funder, and only what both commitments can pay above our reserve. */
export function checkOfferedFee(
  p: HtlcChannelParams,
  ledger: HtlcLedger,
  feeratePerKw: number,
  bounds: FeeBounds,
): Refusal | undefined {
  if (!p.isFunder) return refuse('feerate_per_kw', 'only the funder sends update_fee');
  if (!Number.isInteger(feeratePerKw) || feeratePerKw < bounds.minPerKw || feeratePerKw > bounds.maxPerKw)
    return refuse(
      'feerate_per_kw',
      `feerate_per_kw ${feeratePerKw} is outside ${bounds.minPerKw}..${bounds.maxPerKw}`,
    );
  for (const side of ['local', 'remote'] as const) {
    const spec = commitmentSpec(ledger, side, true);
    const ours = side === 'local' ? spec.toLocalMsat : spec.toRemoteMsat;
    const need = funderChargeMsat(p, spec, feeratePerKw) + p.remote.channelReserveSat * 1000n;
    if (ours < need)
      return refuse(
        'feerate_per_kw',
        `cannot afford feerate_per_kw ${feeratePerKw}: ${need - ours} msat short`,
      );
  }
  return undefined;
}

/**
 * BOLT 2 "Bounding exposure to trimmed in-flight HTLCs": the HTLCs trimmed from a commitment
 * at its feerate (they go to fees if it is broadcast), in msat.
 */
export function dustExposureMsat(p: HtlcChannelParams, ledger: HtlcLedger, side: CommitmentSide): bigint {
  const spec = commitmentSpec(ledger, side, true);
  const dustLimitSat = side === 'local' ? p.local.dustLimitSat : p.remote.dustLimitSat;
  const rate = BigInt(spec.feeratePerKw);
  return spec.htlcs
    .filter((h) => isHtlcTrimmed(p.channelType, h.direction === 'offered', h.amountMsat, rate, dustLimitSat))
    .reduce((s, h) => s + h.amountMsat, 0n);
}

/** Whether either commitment's dust exposure is beyond `maxMsat` (the ledger with the HTLC in question). */
export function exceedsDustExposure(p: HtlcChannelParams, ledger: HtlcLedger, maxMsat: bigint): boolean {
  return dustExposureMsat(p, ledger, 'local') > maxMsat || dustExposureMsat(p, ledger, 'remote') > maxMsat;
}

/**
 * The most one new HTLC of ours can carry now (what checkOfferedAdd would take): the largest
 * amount our reserve, the fee with its spike buffer, the peer's in-flight limit and its
 * htlc_minimum leave room for, found by bisection over the balance; 0 when none fits.
 */
export function sendableMsat(s: {
  params: HtlcChannelParams;
  ledger: HtlcLedger;
  shutdownSent: boolean;
}): bigint {
  const fits = (amountMsat: bigint) =>
    checkOfferedAdd(
      s.params,
      s.ledger,
      { amountMsat, paymentHash: new Uint8Array(32), cltvExpiry: 1 },
      { shutdownSent: s.shutdownSent },
    ) === undefined;
  let lo = 0n;
  let hi = balancesOf(s.ledger, 'local', true).toLocalMsat;
  if (hi > 0n && fits(hi)) return hi;
  // Invariant: lo fits (or is 0), hi does not.
  while (hi - lo > 1n) {
    const mid = (lo + hi) / 2n;
    if (fits(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}

/**
 * Which output of a commitment is which (BOLT 3 "Commitment Transaction Outputs"), found by
 * rebuilding each output's script from the channel's basepoints and the owner's
 * per_commitment_point and matching it: the monitor keeps the transaction, not its scripts,
 * and this is done only when a commitment reaches the chain.
 */
import {
  anchorScript,
  deriveCommitmentKeys,
  offeredHtlcScript,
  p2wpkh,
  p2wsh,
  receivedHtlcScript,
  type Transaction,
  toLocalScript,
  toRemoteAnchorsScript,
} from '@lnkit/tx';
import { equal } from './commitment.ts';
import type { ChannelParameters, HtlcData } from './types.ts';

export type OutputKind = 'to_local' | 'to_remote' | 'to_local_anchor' | 'to_remote_anchor' | 'htlc';

export interface DescribedOutput {
  vout: number;
  /** From the owner's view, as @lnkit/tx names them. */
  kind: OutputKind;
  valueSat: bigint;
  scriptPubKey: Uint8Array;
  /** The witness script (every output but a static_remotekey to_remote). */
  witnessScript?: Uint8Array;
  htlc?: HtlcData;
}

/**
 * The outputs of `tx`, a commitment owned by `owner` at `perCommitmentPoint`, that are one of
 * the channel's: each with its kind and witness script. Outputs matching none are left out.
 */
export function describeCommitmentOutputs(
  channel: ChannelParameters,
  owner: 'holder' | 'counterparty',
  perCommitmentPoint: Uint8Array,
  tx: Transaction,
  htlcs: readonly HtlcData[] = [],
): DescribedOutput[] {
  const anchors = channel.channelType === 'anchors_zero_fee_htlc_tx';
  const [mine, other] =
    owner === 'holder'
      ? [channel.holderPubkeys, channel.counterpartyPubkeys]
      : [channel.counterpartyPubkeys, channel.holderPubkeys];
  const keys = deriveCommitmentKeys({
    perCommitmentPoint,
    ownerDelayedPaymentBasepoint: mine.delayedPaymentBasepoint,
    ownerHtlcBasepoint: mine.htlcBasepoint,
    otherRevocationBasepoint: other.revocationBasepoint,
    otherHtlcBasepoint: other.htlcBasepoint,
    otherPaymentBasepoint: other.paymentBasepoint,
  });
  const delay = owner === 'holder' ? channel.holderToSelfDelay : channel.counterpartyToSelfDelay;
  const candidates: {
    kind: OutputKind;
    witnessScript?: Uint8Array;
    scriptPubKey: Uint8Array;
    htlc?: HtlcData;
  }[] = [];
  const add = (kind: OutputKind, witnessScript: Uint8Array, htlc?: HtlcData) =>
    candidates.push({ kind, witnessScript, scriptPubKey: p2wsh(witnessScript), ...(htlc ? { htlc } : {}) });
  add('to_local', toLocalScript(keys.revocationPubkey, delay, keys.localDelayedPubkey));
  if (anchors) {
    add('to_remote', toRemoteAnchorsScript(keys.remotePaymentPubkey));
    add('to_local_anchor', anchorScript(mine.fundingPubkey));
    add('to_remote_anchor', anchorScript(other.fundingPubkey));
  } else {
    candidates.push({ kind: 'to_remote', scriptPubKey: p2wpkh(keys.remotePaymentPubkey) });
  }
  for (const htlc of htlcs) {
    add(
      'htlc',
      htlc.direction === 'offered'
        ? offeredHtlcScript(keys, htlc.paymentHash, anchors)
        : receivedHtlcScript(keys, htlc.paymentHash, htlc.cltvExpiry, anchors),
      htlc,
    );
  }

  const out: DescribedOutput[] = [];
  const taken = new Set<number>();
  tx.outs.forEach((o, vout) => {
    // Two HTLCs with the same hash and expiry have the same script: each output takes the
    // first candidate of that script and amount not already taken.
    const i = candidates.findIndex(
      (c, j) =>
        !taken.has(j) &&
        equal(c.scriptPubKey, o.script) &&
        (c.htlc === undefined || c.htlc.amountMsat / 1000n === o.value),
    );
    const c = candidates[i];
    if (!c) return;
    if (c.htlc) taken.add(i);
    out.push({
      vout,
      kind: c.kind,
      valueSat: o.value,
      scriptPubKey: new Uint8Array(o.script),
      ...(c.witnessScript ? { witnessScript: c.witnessScript } : {}),
      ...(c.htlc ? { htlc: c.htlc } : {}),
    });
  });
  return out;
}

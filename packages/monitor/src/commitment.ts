/**
 * Commitments as the monitor keeps them: made from @lnkit/tx's CommitmentTransaction, and
 * rebuilt into the unsigned transaction when the monitor checks a txid or signs to broadcast.
 */
import { displayHex } from '@lnkit/chain-sync';
import {
  type CommitmentTransaction,
  finalizeFundingSpend,
  fundingScript,
  obscuringFactor,
  SIGHASH_ALL,
  Transaction,
} from '@lnkit/tx';
import { checkBytes, MonitorError } from './errors.ts';
import type {
  ChannelMonitor,
  ChannelParameters,
  FundingKey,
  HolderCommitment,
  HolderHtlc,
  MonitoredCommitment,
  MonitoredHtlc,
  OutPoint,
} from './types.ts';

export function fundingKeyOf(outpoint: OutPoint): FundingKey {
  return `${displayHex(outpoint.txid)}:${outpoint.vout}`;
}

/** The monitor's form of a commitment built by @lnkit/tx; `perCommitmentPoint` is the owner's. */
export function monitoredCommitment(
  commitment: CommitmentTransaction,
  perCommitmentPoint: Uint8Array,
): MonitoredCommitment {
  const { params } = commitment;
  checkBytes(perCommitmentPoint, 33, 'per_commitment_point');
  const htlcs: MonitoredHtlc[] = params.htlcs.map((h, i) => {
    // Outputs carry the very HTLC objects of the params, so identity finds each one's vout.
    const vout = commitment.outputs.findIndex((o) => o.htlc === h);
    return {
      id: h.id ?? BigInt(i),
      direction: h.direction,
      amountMsat: h.amountMsat,
      paymentHash: h.paymentHash,
      cltvExpiry: h.cltvExpiry,
      ...(vout >= 0 ? { vout } : {}),
    };
  });
  return {
    txid: new Uint8Array(commitment.tx.getHash()),
    commitmentNumber: params.commitmentNumber,
    perCommitmentPoint,
    feeratePerKw: params.feeratePerKw,
    toLocalMsat: params.toLocalMsat,
    toRemoteMsat: params.toRemoteMsat,
    outputs: commitment.outputs.map((o) => ({
      kind: o.kind,
      valueSat: o.valueSat,
      scriptPubKey: o.scriptPubKey,
      ...(o.witnessScript ? { witnessScript: o.witnessScript } : {}),
    })),
    htlcs,
  };
}

/**
 * The holder's commitment with the counterparty's signatures from its commitment_signed:
 * `htlcSignatures` in commitment output order (BOLT 2, the order of `htlc_signatures`).
 */
export function holderCommitment(
  commitment: CommitmentTransaction,
  perCommitmentPoint: Uint8Array,
  counterpartySignature: Uint8Array,
  htlcSignatures: readonly Uint8Array[] = [],
): HolderCommitment {
  const base = monitoredCommitment(commitment, perCommitmentPoint);
  checkBytes(counterpartySignature, 64, 'counterparty commitment signature');
  const htlcVouts = base.outputs.flatMap((o, vout) => (o.kind === 'htlc' ? [vout] : []));
  if (htlcSignatures.length !== htlcVouts.length)
    throw new MonitorError(
      'invalid-argument',
      `${htlcVouts.length} HTLC outputs need as many signatures, got ${htlcSignatures.length}`,
    );
  const htlcs: HolderHtlc[] = base.htlcs.map((h) => {
    if (h.vout === undefined) return h;
    const sig = htlcSignatures[htlcVouts.indexOf(h.vout)] as Uint8Array;
    return { ...h, counterpartySignature: checkBytes(sig, 64, 'HTLC signature') };
  });
  return { ...base, htlcs, counterpartySignature };
}

/** BOLT 3: the obscuring factor from the opener's and the accepter's payment_basepoint. */
export function channelObscuringFactor(channel: ChannelParameters): bigint {
  const holder = channel.holderPubkeys.paymentBasepoint;
  const counterparty = channel.counterpartyPubkeys.paymentBasepoint;
  return channel.holderIsFunder
    ? obscuringFactor(holder, counterparty)
    : obscuringFactor(counterparty, holder);
}

/** The 2-of-2 witness script of the funding output. */
export function channelFundingScript(channel: ChannelParameters): Uint8Array {
  return fundingScript(channel.holderPubkeys.fundingPubkey, channel.counterpartyPubkeys.fundingPubkey);
}

/**
 * The unsigned commitment transaction, rebuilt from the kept outputs (BOLT 3: version 2, the
 * funding input, locktime upper byte 0x20 and sequence upper byte 0x80 around the obscured
 * commitment number).
 */
export function unsignedCommitmentTx(
  channel: ChannelParameters,
  commitment: MonitoredCommitment,
  factor: bigint = channelObscuringFactor(channel),
): Transaction {
  const obscured = (commitment.commitmentNumber ^ factor) & 0xffffffffffffn;
  const tx = new Transaction();
  tx.version = 2;
  tx.locktime = Number((0x20n << 24n) | (obscured & 0xffffffn));
  tx.addInput(
    channel.fundingOutpoint.txid,
    channel.fundingOutpoint.vout,
    Number((0x80n << 24n) | (obscured >> 24n)),
  );
  for (const o of commitment.outputs) tx.addOutput(o.scriptPubKey, o.valueSat);
  return tx;
}

/**
 * The commitment number a transaction spending the funding output carries, if it is shaped as
 * a commitment (BOLT 3 "Commitment Transaction": locktime 0x20xxxxxx, sequence 0x80xxxxxx);
 * undefined for anything else (a closing transaction).
 */
export function commitmentNumberOf(tx: Transaction, factor: bigint): bigint | undefined {
  if (tx.ins.length !== 1) return undefined;
  const sequence = (tx.ins[0] as { sequence: number }).sequence;
  if (tx.locktime >>> 24 !== 0x20 || sequence >>> 24 !== 0x80) return undefined;
  const obscured = (BigInt(sequence & 0xffffff) << 24n) | BigInt(tx.locktime & 0xffffff);
  return obscured ^ factor;
}

/** What the holder's signer is asked to sign to broadcast its latest commitment. */
export interface HolderCommitmentToSign {
  commitmentNumber: bigint;
  /** Unsigned; `finalizeHolderCommitment` adds both signatures. */
  tx: Transaction;
  /** BIP 143 sighash of the funding input, for `ChannelSigner.signHolderCommitment`. */
  commitmentSighash: Uint8Array;
}

/** The holder's latest commitment, ready for its signer (force close). */
export function holderCommitmentToSign(monitor: ChannelMonitor): HolderCommitmentToSign {
  const c = monitor.holderCommitment;
  const tx = unsignedCommitmentTx(monitor.channel, c);
  return {
    commitmentNumber: c.commitmentNumber,
    tx,
    commitmentSighash: new Uint8Array(
      tx.hashForWitnessV0(0, channelFundingScript(monitor.channel), monitor.channel.fundingSat, SIGHASH_ALL),
    ),
  };
}

/** The holder's latest commitment with both funding signatures: what a force close broadcasts. */
export function finalizeHolderCommitment(monitor: ChannelMonitor, holderSignature: Uint8Array): Transaction {
  const { channel, holderCommitment: c } = monitor;
  return finalizeFundingSpend(
    unsignedCommitmentTx(channel, c),
    channelFundingScript(channel),
    channel.holderPubkeys.fundingPubkey,
    holderSignature,
    channel.counterpartyPubkeys.fundingPubkey,
    c.counterpartySignature,
  );
}

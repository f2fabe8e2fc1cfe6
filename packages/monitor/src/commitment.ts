/**
 * Commitments as the monitor keeps them (CommitmentData: the unsigned transaction, its number
 * and point), checked when an update brings one, and completed when the holder broadcasts its own.
 */
import { displayHex } from '@lnkit/chain-sync';
import {
  type CommitmentTransaction,
  finalizeFundingSpend,
  fundingScript,
  obscuringFactor,
  p2wsh,
  SIGHASH_ALL,
  Transaction,
} from '@lnkit/tx';
import { checkBytes, MonitorError } from './errors.ts';
import type {
  ChannelInfo,
  ChannelMonitor,
  ChannelParameters,
  ChannelSideParams,
  CommitmentData,
  FundingKey,
  HolderCommitmentData,
  HtlcData,
  OutPointData,
} from './types.ts';

export function fundingKeyOf(outpoint: OutPointData): FundingKey {
  return `${displayHex(outpoint.txid)}:${outpoint.vout}`;
}

const pubkeys = (side: ChannelSideParams) => ({
  fundingPubkey: side.fundingPubkey,
  revocationBasepoint: side.revocationBasepoint,
  paymentBasepoint: side.paymentBasepoint,
  delayedPaymentBasepoint: side.delayedPaymentBasepoint,
  htlcBasepoint: side.htlcBasepoint,
});

/**
 * The channel in holder / counterparty terms, checked: the funding script and the obscuring
 * factor the channel core sent must be the ones the keys make, or every later recognition
 * would be wrong.
 */
export function channelParameters(info: ChannelInfo): ChannelParameters {
  checkBytes(info.channelId, 32, 'channel_id');
  checkBytes(info.fundingOutpoint.txid, 32, 'funding txid');
  const { vout } = info.fundingOutpoint;
  if (!Number.isInteger(vout) || vout < 0 || vout > 0xffff)
    throw new MonitorError('invalid-argument', 'funding output index out of range');
  if (info.fundingSat <= 0n) throw new MonitorError('invalid-argument', 'funding amount must be positive');
  for (const [who, side] of [
    ['local', info.local],
    ['remote', info.remote],
  ] as const) {
    for (const [name, key] of Object.entries(pubkeys(side))) checkBytes(key, 33, `${who} ${name}`);
    if (!Number.isInteger(side.toSelfDelay) || side.toSelfDelay < 0 || side.toSelfDelay > 0xffff)
      throw new MonitorError('invalid-argument', `${who} to_self_delay out of range`);
  }
  const script = fundingScript(info.local.fundingPubkey, info.remote.fundingPubkey);
  if (!equal(script, info.fundingScript) || !equal(p2wsh(script), info.fundingScriptPubKey))
    throw new MonitorError('invalid-update', 'the funding script is not the 2-of-2 of the funding pubkeys');
  const [opener, accepter] = info.isFunder ? [info.local, info.remote] : [info.remote, info.local];
  const factor = obscuringFactor(opener.paymentBasepoint, accepter.paymentBasepoint);
  if (factor !== info.commitmentNumberObscure)
    throw new MonitorError(
      'invalid-update',
      'the commitment number obscuring factor is not the payment basepoints’',
    );
  return {
    channelId: info.channelId,
    channelType: info.channelType,
    fundingOutpoint: info.fundingOutpoint,
    fundingSat: info.fundingSat,
    fundingScript: script,
    holderIsFunder: info.isFunder,
    holderPubkeys: pubkeys(info.local),
    counterpartyPubkeys: pubkeys(info.remote),
    // Each side's to_self_delay is what it imposes on the other's to_local (BOLT 2).
    holderToSelfDelay: info.remote.toSelfDelay,
    counterpartyToSelfDelay: info.local.toSelfDelay,
    obscuringFactor: factor,
  };
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

export function parseCommitmentTx(c: CommitmentData): Transaction {
  try {
    return Transaction.fromBuffer(Buffer.from(c.tx));
  } catch {
    throw new MonitorError('commitment-mismatch', `commitment ${c.commitmentNumber} is not a transaction`);
  }
}

/**
 * What is stored is what can be recognised: the transaction must be the txid, spend the
 * funding output alone, and carry its own commitment number.
 */
export function checkCommitment(channel: ChannelParameters, c: CommitmentData, owner: string): void {
  checkBytes(c.perCommitmentPoint, 33, `${owner} per_commitment_point`);
  if (c.commitmentNumber < 0n || c.commitmentNumber >= 1n << 48n)
    throw new MonitorError('invalid-argument', `${owner} commitment number out of the 48-bit range`);
  const tx = parseCommitmentTx(c);
  const what = `${owner} commitment ${c.commitmentNumber}`;
  if (tx.getId() !== c.txid)
    throw new MonitorError('commitment-mismatch', `${what}: its txid is not its transaction's`);
  const input = tx.ins[0];
  const { txid, vout } = channel.fundingOutpoint;
  if (tx.ins.length !== 1 || !input || input.index !== vout || !equal(input.hash, txid))
    throw new MonitorError('commitment-mismatch', `${what} does not spend the funding output alone`);
  if (commitmentNumberOf(tx, channel.obscuringFactor) !== c.commitmentNumber)
    throw new MonitorError('commitment-mismatch', `${what} carries another commitment number`);
  if ('counterpartySignature' in c) checkBytes(c.counterpartySignature, 64, `${what} counterparty signature`);
}

/** The monitor's record of a commitment built by @lnkit/tx; `perCommitmentPoint` is the owner's. */
export function commitmentData(
  commitment: CommitmentTransaction,
  perCommitmentPoint: Uint8Array,
): CommitmentData {
  const { params } = commitment;
  const htlcs: HtlcData[] = params.htlcs.map((h, i) => ({
    id: h.id ?? BigInt(i),
    direction: h.direction,
    amountMsat: h.amountMsat,
    paymentHash: h.paymentHash,
    cltvExpiry: h.cltvExpiry,
  }));
  return {
    commitmentNumber: params.commitmentNumber,
    perCommitmentPoint,
    txid: commitment.tx.getId(),
    tx: new Uint8Array(commitment.tx.toBuffer()),
    toLocalMsat: params.toLocalMsat,
    toRemoteMsat: params.toRemoteMsat,
    feeratePerKw: Number(params.feeratePerKw),
    ...(htlcs.length > 0 ? { htlcs } : {}),
  };
}

/** The holder's commitment with the counterparty's signatures from its commitment_signed. */
export function holderCommitmentData(
  commitment: CommitmentTransaction,
  perCommitmentPoint: Uint8Array,
  counterpartySignature: Uint8Array,
  htlcSignatures: readonly Uint8Array[] = [],
): HolderCommitmentData {
  return {
    ...commitmentData(commitment, perCommitmentPoint),
    counterpartySignature,
    ...(htlcSignatures.length > 0 ? { htlcSignatures: [...htlcSignatures] } : {}),
  };
}

/** What the holder's signer is asked to sign to broadcast its latest commitment. */
export interface HolderCommitmentToSign {
  commitmentNumber: bigint;
  /** Unsigned; `finalizeHolderCommitment` adds both signatures. */
  tx: Transaction;
  /** BIP 143 sighash of the funding input, for `ChannelSigner.signHolderCommitment`. */
  commitmentSighash: Uint8Array;
}

/** The holder's latest commitment, ready for its signer (a force close). */
export function holderCommitmentToSign(monitor: ChannelMonitor): HolderCommitmentToSign {
  const c = monitor.holderCommitment;
  const tx = parseCommitmentTx(c);
  const { fundingScript: script, fundingSat } = monitor.channel;
  return {
    commitmentNumber: c.commitmentNumber,
    tx,
    commitmentSighash: new Uint8Array(tx.hashForWitnessV0(0, script, fundingSat, SIGHASH_ALL)),
  };
}

/** The holder's latest commitment with both funding signatures: what a force close broadcasts. */
export function finalizeHolderCommitment(monitor: ChannelMonitor, holderSignature: Uint8Array): Transaction {
  const { channel, holderCommitment: c } = monitor;
  return finalizeFundingSpend(
    parseCommitmentTx(c),
    channel.fundingScript,
    channel.holderPubkeys.fundingPubkey,
    holderSignature,
    channel.counterpartyPubkeys.fundingPubkey,
    c.counterpartySignature,
  );
}

export function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

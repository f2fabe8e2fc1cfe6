/**
 * The first commitment transactions of a channel (BOLT 3), built from the state of either
 * side, and the signature checks on them. Pure: @lnkit/tx builds, this picks whose keys and
 * balances go where.
 */
import { secp } from '@lnkit/crypto';
import type { ChannelSideParams, CommitmentData, OutPointData } from '@lnkit/monitor';
import {
  buildCommitmentTransaction,
  type CommitmentTransaction,
  commitmentSighash,
  deriveCommitmentKeys,
  fundingScript,
  fundingScriptPubKey,
  obscuringFactor,
} from '@lnkit/tx';
import type { ChannelState } from './channel-state.ts';

const CURVE_HALF_N = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n;

/** The funder's and fundee's balances in the first commitment. */
export function initialBalancesMsat(s: Pick<ChannelState, 'role' | 'fundingSat' | 'pushMsat'>): {
  toLocalMsat: bigint;
  toRemoteMsat: bigint;
} {
  const funderMsat = s.fundingSat * 1000n - s.pushMsat;
  return s.role === 'funder'
    ? { toLocalMsat: funderMsat, toRemoteMsat: s.pushMsat }
    : { toLocalMsat: s.pushMsat, toRemoteMsat: funderMsat };
}

/** BOLT 3 obscuring factor: SHA256(opener payment_basepoint || accepter payment_basepoint), low 48 bits. */
export function commitmentObscure(
  s: Pick<ChannelState, 'role' | 'local'>,
  remote: ChannelSideParams,
): bigint {
  return s.role === 'funder'
    ? obscuringFactor(s.local.paymentBasepoint, remote.paymentBasepoint)
    : obscuringFactor(remote.paymentBasepoint, s.local.paymentBasepoint);
}

export function fundingScripts(
  local: ChannelSideParams,
  remote: ChannelSideParams,
): {
  script: Uint8Array;
  scriptPubKey: Uint8Array;
} {
  return {
    script: fundingScript(local.fundingPubkey, remote.fundingPubkey),
    scriptPubKey: fundingScriptPubKey(local.fundingPubkey, remote.fundingPubkey),
  };
}

interface CommitmentInputs {
  state: ChannelState;
  remote: ChannelSideParams;
  outpoint: OutPointData;
  commitmentNumber: bigint;
  /** The owner's per_commitment_point. */
  perCommitmentPoint: Uint8Array;
  toLocalMsat: bigint;
  toRemoteMsat: bigint;
}

/**
 * A commitment owned by `owner` ('local': ours, which they sign; 'remote': theirs, which we
 * sign). Balances are the owner's view. BOLT 3: the owner's to_local is delayed by the
 * to_self_delay the *other* side asked, and trimmed at the owner's own dust limit.
 */
export function buildCommitment(owner: 'local' | 'remote', c: CommitmentInputs): CommitmentTransaction {
  const { state, remote } = c;
  const [mine, theirs] = owner === 'local' ? [state.local, remote] : [remote, state.local];
  return buildCommitmentTransaction({
    channelType: state.channelType.type,
    fundingOutpoint: c.outpoint,
    fundingSat: state.fundingSat,
    localFundingPubkey: mine.fundingPubkey,
    remoteFundingPubkey: theirs.fundingPubkey,
    commitmentNumber: c.commitmentNumber,
    obscuringFactor: commitmentObscure(state, remote),
    toLocalMsat: c.toLocalMsat,
    toRemoteMsat: c.toRemoteMsat,
    localIsFunder: (owner === 'local') === (state.role === 'funder'),
    feeratePerKw: BigInt(state.feeratePerKw),
    dustLimitSat: mine.dustLimitSat,
    toSelfDelay: theirs.toSelfDelay,
    keys: deriveCommitmentKeys({
      perCommitmentPoint: c.perCommitmentPoint,
      ownerDelayedPaymentBasepoint: mine.delayedPaymentBasepoint,
      ownerHtlcBasepoint: mine.htlcBasepoint,
      otherRevocationBasepoint: theirs.revocationBasepoint,
      otherHtlcBasepoint: theirs.htlcBasepoint,
      otherPaymentBasepoint: theirs.paymentBasepoint,
    }),
    htlcs: [],
  });
}

/** Both first commitments (number 0) of a channel whose funding outpoint is known. */
export function initialCommitments(
  state: ChannelState,
  remote: ChannelSideParams,
  outpoint: OutPointData,
  remoteFirstPoint: Uint8Array,
): { holder: CommitmentTransaction; counterparty: CommitmentTransaction } {
  const { toLocalMsat, toRemoteMsat } = initialBalancesMsat(state);
  const base = { state, remote, outpoint, commitmentNumber: 0n };
  return {
    holder: buildCommitment('local', {
      ...base,
      perCommitmentPoint: state.keys.perCommitmentPoints[0],
      toLocalMsat,
      toRemoteMsat,
    }),
    counterparty: buildCommitment('remote', {
      ...base,
      perCommitmentPoint: remoteFirstPoint,
      toLocalMsat: toRemoteMsat,
      toRemoteMsat: toLocalMsat,
    }),
  };
}

/**
 * Whether `signature` (64-byte compact) is `pubkey`'s valid signature of the commitment's
 * funding input. BOLT 2: a signature that is "incorrect OR non-compliant with LOW-S-standard
 * rule" fails the channel, so a high-S signature is refused even where the backend would take it.
 */
export function verifyCommitmentSignature(
  commitment: CommitmentTransaction,
  signature: Uint8Array,
  pubkey: Uint8Array,
): boolean {
  return verifyFundingSignature(commitmentSighash(commitment), signature, pubkey);
}

/** The same check for any spend of the funding output (commitment or closing transaction). */
export function verifyFundingSignature(
  sighash: Uint8Array,
  signature: Uint8Array,
  pubkey: Uint8Array,
): boolean {
  if (signature.length !== 64) return false;
  let s = 0n;
  for (let i = 32; i < 64; i++) s = (s << 8n) | BigInt(signature[i] as number);
  if (s === 0n || s > CURVE_HALF_N) return false;
  try {
    return secp.verify(signature, sighash, pubkey);
  } catch {
    return false;
  }
}

/** The monitor's record of a commitment. */
export function commitmentData(c: CommitmentTransaction, perCommitmentPoint: Uint8Array): CommitmentData {
  return {
    commitmentNumber: c.params.commitmentNumber,
    perCommitmentPoint,
    txid: c.tx.getId(),
    tx: new Uint8Array(c.tx.toBuffer()),
    toLocalMsat: c.params.toLocalMsat,
    toRemoteMsat: c.params.toRemoteMsat,
    feeratePerKw: Number(c.params.feeratePerKw),
  };
}

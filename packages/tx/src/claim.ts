/**
 * Claim transactions (BOLT 5): the holder's spends of commitment and HTLC-transaction outputs
 * into one destination script — a to_local sweep after to_self_delay, a to_remote sweep, an
 * HTLC taken with its preimage or after its expiry, and justice (penalty) transactions with
 * the revocation key. Each input says which spend path it takes; that fixes its witness, its
 * nSequence and its expected weight, and the fee is feerate × expected weight (BOLT 3 "Fee
 * Calculation": rounded down), so what a claim pays is known before it is signed.
 *
 * Expected witness weights count a 73-byte signature (the largest DER + sighash byte) and the
 * largest script of each kind, as BOLT 5 Appendix A does: a real transaction weighs the same or
 * a few units less, never more, so the feerate paid is never below the one asked for.
 */
import { script as bscript, crypto as btcCrypto, opcodes as OPS, Transaction } from 'bitcoinjs-lib';
import { checkBytes, checkUint32, TxError } from './errors.ts';
import { encodeSignature, SIGHASH_ALL } from './sign.ts';

/** How a claimed output is spent: each one a witness shape of BOLT 3 / BOLT 5. */
export type ClaimWitnessKind =
  /** `<local_delayedsig> <>` on a to_local script: the owner after to_self_delay (also an HTLC transaction's output). */
  | 'to-local-delayed'
  /** `<revocation_sig> 1` on a to_local script: justice, BOLT 5 "Revoked Transaction Close Handling". */
  | 'to-local-revocation'
  /** `<revocation_sig> <revocationpubkey>` on an offered HTLC script. */
  | 'offered-htlc-revocation'
  /** `<revocation_sig> <revocationpubkey>` on a received HTLC script. */
  | 'received-htlc-revocation'
  /** `<remotehtlcsig> <payment_preimage>` on the owner's offered HTLC: the recipient, with the preimage. */
  | 'offered-htlc-preimage'
  /** `<remotehtlcsig> <>` on the owner's received HTLC: the offerer, after cltv_expiry (nLockTime). */
  | 'received-htlc-timeout'
  /** `<signature> <remotepubkey>`: a static_remotekey to_remote (P2WPKH). */
  | 'to-remote'
  /** `<remote_sig>` on `<remotepubkey> OP_CHECKSIGVERIFY 1 OP_CSV`: an anchors to_remote, after 1 block. */
  | 'to-remote-anchors';

/** BIP 141: a transaction input without its witness is 41 bytes (outpoint 36, empty scriptSig 1, nSequence 4). */
export const CLAIM_INPUT_WEIGHT = 164;

/**
 * BOLT 5 Appendix A (and BOLT 3 "Expected Weight"): the largest scripts, a received HTLC's
 * with a 3-byte cltv_expiry (any block height below 2^23).
 */
const TO_LOCAL_SCRIPT_SIZE = 83;
const OFFERED_HTLC_SCRIPT_SIZE = 133;
const RECEIVED_HTLC_SCRIPT_SIZE = 139;
/** option_anchors adds `1 OP_CHECKSEQUENCEVERIFY OP_DROP` to both HTLC scripts. */
const ANCHORS_HTLC_EXTRA = 3;
/** `<remotepubkey> OP_CHECKSIGVERIFY 1 OP_CHECKSEQUENCEVERIFY`. */
const TO_REMOTE_ANCHORS_SCRIPT_SIZE = 37;
/** Element count, then each element's length byte and bytes: a 73-byte signature. */
const SIG = 1 + 73;

/**
 * The expected weight of a claim input's witness. BOLT 5 Appendix A gives three of them:
 * to_local penalty 160, offered_htlc penalty 243, accepted_htlc penalty 249 (static_remotekey
 * scripts); the others are counted the same way.
 */
export function claimWitnessWeight(kind: ClaimWitnessKind, anchors: boolean): number {
  const htlcExtra = anchors ? ANCHORS_HTLC_EXTRA : 0;
  switch (kind) {
    case 'to-local-delayed':
      // count, sig, empty element (its length byte), script
      return 1 + SIG + 1 + 1 + TO_LOCAL_SCRIPT_SIZE;
    case 'to-local-revocation':
      // BOLT 5: number_of_witness_elements 1, revocation_sig_length 1, revocation_sig 73,
      // one_length 1, witness_script_length 1, witness_script 83 = 160.
      return 1 + SIG + 1 + 1 + TO_LOCAL_SCRIPT_SIZE;
    case 'offered-htlc-revocation':
      return 1 + SIG + 1 + 33 + 1 + OFFERED_HTLC_SCRIPT_SIZE + htlcExtra;
    case 'received-htlc-revocation':
      return 1 + SIG + 1 + 33 + 1 + RECEIVED_HTLC_SCRIPT_SIZE + htlcExtra;
    case 'offered-htlc-preimage':
      return 1 + SIG + 1 + 32 + 1 + OFFERED_HTLC_SCRIPT_SIZE + htlcExtra;
    case 'received-htlc-timeout':
      return 1 + SIG + 1 + 1 + RECEIVED_HTLC_SCRIPT_SIZE + htlcExtra;
    case 'to-remote':
      return 1 + SIG + 1 + 33;
    case 'to-remote-anchors':
      return 1 + SIG + 1 + TO_REMOTE_ANCHORS_SCRIPT_SIZE;
    default:
      throw new TxError('invalid-argument', `unknown claim witness ${String(kind)}`);
  }
}

/** The weight of a claim input: BOLT 5's "penalty input weight" (164 + witness) for the three it names. */
export function claimInputWeight(kind: ClaimWitnessKind, anchors: boolean): number {
  return CLAIM_INPUT_WEIGHT + claimWitnessWeight(kind, anchors);
}

export interface ClaimInput {
  /** The spent output: txid in internal byte order. */
  txid: Uint8Array;
  vout: number;
  valueSat: bigint;
  witness: ClaimWitnessKind;
  /** The P2WSH witness script; for `to-remote`, absent (the pubkey is `pubkey`). */
  witnessScript?: Uint8Array;
  /** `to-remote`: the payment pubkey; `*-htlc-revocation`: the revocationpubkey. */
  pubkey?: Uint8Array;
  /** `offered-htlc-preimage`: the payment preimage. */
  paymentPreimage?: Uint8Array;
  /** Relative delay (BIP 68 blocks) the script demands, 0 for none. */
  csvDelay: number;
  /** The channel is option_anchors (its HTLC scripts are 3 bytes longer). */
  anchors: boolean;
}

export interface ClaimTransactionParams {
  inputs: readonly ClaimInput[];
  destinationScript: Uint8Array;
  feeratePerKw: bigint;
  /** nLockTime: an HTLC's cltv_expiry for a timeout claim, else 0. */
  locktime?: number;
}

export interface ClaimTransaction {
  /** Unsigned: `finalizeClaimTransaction` adds the witnesses. */
  tx: Transaction;
  inputs: readonly ClaimInput[];
  /** The weight its fee is computed from (its actual weight is at most this). */
  expectedWeight: number;
  feeSat: bigint;
  /** What the destination receives: the inputs' sum less the fee. */
  valueSat: bigint;
}

/** The smallest output bitcoind relays (its dust rule at 3 sat/vB): by script type. */
export function dustLimitSatFor(scriptPubKey: Uint8Array): bigint {
  const witnessProgram = scriptPubKey.length >= 4 && scriptPubKey[0] === OPS.OP_0;
  if (witnessProgram && scriptPubKey.length === 22) return 294n;
  if ((witnessProgram || scriptPubKey[0] === OPS.OP_1) && scriptPubKey.length === 34) return 330n;
  return 546n;
}

const varIntSize = (n: number) => (n < 0xfd ? 1 : n <= 0xffff ? 3 : 5);

/** The expected weight of a claim of `inputs` paying one output to `destinationScript`. */
export function claimTransactionWeight(
  inputs: readonly Pick<ClaimInput, 'witness' | 'anchors'>[],
  destinationScript: Uint8Array,
): number {
  const output = 8 + varIntSize(destinationScript.length) + destinationScript.length;
  // version, input count, output count, the output, locktime; then the 2-byte segwit marker and flag.
  const base = 4 + varIntSize(inputs.length) + varIntSize(1) + output + 4;
  let weight = 4 * base + 2;
  for (const i of inputs) weight += claimInputWeight(i.witness, i.anchors);
  return weight;
}

/**
 * BIP 68 nSequence of an input: the relative delay its script demands, or 0xfffffffd when
 * there is none (it still enables nLockTime and signals replaceability, BIP 125, for a later
 * fee bump).
 */
export function claimSequence(csvDelay: number): number {
  if (!Number.isInteger(csvDelay) || csvDelay < 0 || csvDelay > 0xffff)
    throw new TxError('invalid-argument', 'csv delay must be an integer from 0 to 65535 blocks');
  return csvDelay > 0 ? csvDelay : 0xfffffffd;
}

/**
 * A claim of `inputs` into `destinationScript`, version 2 (BIP 68 needs it), at `feeratePerKw`.
 * A TxError `invalid-amounts` when what is left after the fee would be dust: the claim does not
 * pay for itself at that feerate.
 */
export function buildClaimTransaction(params: ClaimTransactionParams): ClaimTransaction {
  const { inputs, destinationScript, feeratePerKw } = params;
  if (inputs.length === 0) throw new TxError('invalid-argument', 'a claim needs at least one input');
  if (feeratePerKw < 0n) throw new TxError('invalid-argument', 'negative feerate');
  const locktime = checkUint32(params.locktime ?? 0, 'locktime');
  if (locktime >= 500_000_000) throw new TxError('invalid-argument', 'a claim locktime is a block height');
  const tx = new Transaction();
  tx.version = 2;
  tx.locktime = locktime;
  let totalSat = 0n;
  for (const i of inputs) {
    checkInput(i);
    tx.addInput(i.txid, i.vout, claimSequence(i.csvDelay));
    totalSat += i.valueSat;
  }
  const expectedWeight = claimTransactionWeight(inputs, destinationScript);
  const feeSat = (feeratePerKw * BigInt(expectedWeight)) / 1000n;
  const valueSat = totalSat - feeSat;
  if (valueSat < dustLimitSatFor(destinationScript))
    throw new TxError(
      'invalid-amounts',
      `a claim of ${totalSat} sat leaves ${valueSat} sat after its ${feeSat} sat fee: below the dust limit`,
    );
  tx.addOutput(destinationScript, valueSat);
  return { tx, inputs: [...inputs], expectedWeight, feeSat, valueSat };
}

function checkInput(i: ClaimInput): void {
  checkBytes(i.txid, 32, 'claimed txid');
  checkUint32(i.vout, 'claimed output index');
  if (i.valueSat <= 0n) throw new TxError('invalid-amounts', 'a claimed output must have a value');
  if (i.witness === 'to-remote') checkBytes(i.pubkey, 33, 'to_remote pubkey');
  else if (!(i.witnessScript instanceof Uint8Array))
    throw new TxError('invalid-argument', `a ${i.witness} claim needs its witness script`);
  if (i.witness === 'offered-htlc-revocation' || i.witness === 'received-htlc-revocation')
    checkBytes(i.pubkey, 33, 'revocationpubkey');
  if (i.witness === 'offered-htlc-preimage') checkBytes(i.paymentPreimage, 32, 'payment_preimage');
}

/** BIP 143 scriptCode of a P2WPKH input: the P2PKH script of its key. */
function p2wpkhScriptCode(pubkey: Uint8Array): Uint8Array {
  return bscript.compile([
    OPS.OP_DUP,
    OPS.OP_HASH160,
    btcCrypto.hash160(pubkey),
    OPS.OP_EQUALVERIFY,
    OPS.OP_CHECKSIG,
  ]);
}

/** The BIP 143 sighashes (SIGHASH_ALL) of each input, in order: what the signer signs. */
export function claimSighashes(claim: ClaimTransaction): Uint8Array[] {
  return claim.inputs.map(
    (i, index) =>
      new Uint8Array(
        claim.tx.hashForWitnessV0(
          index,
          i.witness === 'to-remote'
            ? p2wpkhScriptCode(i.pubkey as Uint8Array)
            : (i.witnessScript as Uint8Array),
          i.valueSat,
          SIGHASH_ALL,
        ),
      ),
  );
}

/** The claim with each input's witness (BOLT 3 / BOLT 5), from one 64-byte compact signature per input. */
export function finalizeClaimTransaction(
  claim: ClaimTransaction,
  signatures: readonly Uint8Array[],
): Transaction {
  if (signatures.length !== claim.inputs.length)
    throw new TxError(
      'invalid-signature',
      `${signatures.length} signatures for ${claim.inputs.length} inputs`,
    );
  const signed = claim.tx.clone();
  claim.inputs.forEach((i, index) => {
    const sig = encodeSignature(signatures[index] as Uint8Array, SIGHASH_ALL);
    const script = i.witnessScript as Uint8Array;
    const empty = new Uint8Array(0);
    const witness: Record<ClaimWitnessKind, () => Uint8Array[]> = {
      'to-local-delayed': () => [sig, empty, script],
      'to-local-revocation': () => [sig, Uint8Array.of(1), script],
      'offered-htlc-revocation': () => [sig, i.pubkey as Uint8Array, script],
      'received-htlc-revocation': () => [sig, i.pubkey as Uint8Array, script],
      'offered-htlc-preimage': () => [sig, i.paymentPreimage as Uint8Array, script],
      'received-htlc-timeout': () => [sig, empty, script],
      'to-remote': () => [sig, i.pubkey as Uint8Array],
      'to-remote-anchors': () => [sig, script],
    };
    signed.setWitness(index, witness[i.witness]());
  });
  return signed;
}

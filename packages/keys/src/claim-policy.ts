/**
 * What a signer pool worker agrees to sign for an on-chain claim (BOLT 5). The ChainMonitor
 * names a key ("the delayed payment key at this per_commitment_point") and hands a sighash; a
 * worker that signed any sighash with any key it is named would sign away the channel's money
 * to whoever reaches the pool. So the worker checks the spend itself, and the rule is:
 *
 * 1. It signs no digest it is handed: it computes the BIP 143 sighash (SIGHASH_ALL) from the
 *    unsigned transaction, the input's script code and value, and refuses if the one handed
 *    differs. The signature commits to the outputs it checked.
 * 2. The script spent must be a BOLT 3 script in which the named key has its own place:
 *    - payment: a static_remotekey to_remote (P2WPKH of the payment basepoint) or an anchors
 *      to_remote (`<payment_basepoint> OP_CHECKSIGVERIFY 1 OP_CSV`);
 *    - delayed-payment: a to_local script whose delayed key is ours at the given point;
 *    - revocation: a to_local script whose revocation key, or an HTLC script whose revocation
 *      hash, is the one our revocation basepoint and the revealed secret give (justice);
 *    - htlc: an offered or received HTLC script with our htlc key at the given point in it;
 *    - funding: only the anchor script of our funding key (a CPFP of our anchors commitment),
 *      never the 2-of-2 funding script itself.
 * 3. Every output pays the node: P2WPKH of a BIP 84 key the worker itself derives from
 *    keys_seed at the path the request names (m/84'/c'/a'/0|1/i: any such path is the node's
 *    own wallet). One exception: the holder's own HTLC-timeout / HTLC-success transaction
 *    (our htlc key in the script's local slot, so the counterparty's signature is also
 *    needed and fixes the transaction) has outputs paying a P2WSH to_local script with our
 *    delayed key at the same point (one, or one per HTLC when anchors HTLC transactions are
 *    combined); its other outputs (an anchors fee input's change) pay the node.
 *
 * Pure: the channel's keys, the seed's wallet keys and the request in, sighashes or a
 * KeysError('claim-refused') out.
 */
import { secp, sha256 } from '@lnkit/crypto';
import { HDKey } from '@scure/bip32';
import { script as bscript, crypto as btcCrypto, opcodes as OPS, Transaction } from 'bitcoinjs-lib';
import {
  derivePrivateKey,
  derivePublicKey,
  deriveRevocationPrivateKey,
  deriveRevocationPublicKey,
  perCommitmentPointFromSecret,
} from './derivation.ts';
import { checkLength, KeysError } from './errors.ts';
import type { ChannelKeys } from './signer.ts';

/** The key a claim input is signed with (the same shape as @lnkit/tx's ClaimKey). */
export type ClaimKeyName =
  | { kind: 'delayed-payment'; perCommitmentPoint: Uint8Array }
  | { kind: 'payment' }
  | { kind: 'htlc'; perCommitmentPoint: Uint8Array }
  | { kind: 'revocation'; perCommitmentSecret: Uint8Array }
  | { kind: 'funding' };

/** The spend a claim signature is for: what the worker computes the sighash from. */
export interface ClaimSpend {
  /** The unsigned transaction (witnesses empty). */
  tx: Uint8Array;
  inputIndex: number;
  /** BIP 143 scriptCode: the witness script, or for P2WPKH the P2PKH script of its key. */
  scriptCode: Uint8Array;
  valueSat: bigint;
  /** A holder HTLC transaction: the witness script its output 0 (a P2WSH) commits to. */
  outputWitnessScript?: Uint8Array;
}

export interface PolicyClaimRequest {
  key: ClaimKeyName;
  sighash: Uint8Array;
  spend: ClaimSpend;
  /** For each output of `spend.tx`, the BIP 32 path of the wallet key it pays, if it pays one. */
  outputPaths: readonly (string | undefined)[];
}

/** The wallet's keys: m/84'/coin'/account'/chain/index, from the seed (BIP 32). */
export class WalletKeyPaths {
  readonly #master: HDKey;
  readonly #scripts = new Map<string, string>();

  constructor(seed: Uint8Array) {
    this.#master = HDKey.fromMasterSeed(seed);
  }

  /** The P2WPKH script of the key at `path`, hex; refused unless a BIP 84 receive or change path. */
  scriptHex(path: string): string {
    let hex = this.#scripts.get(path);
    if (hex) return hex;
    const m = /^m\/84'\/(\d+)'\/(\d+)'\/([01])\/(\d+)$/.exec(path);
    if (!m || m.slice(1).some((n) => Number(n) >= 0x8000_0000))
      throw new KeysError('claim-refused', `${path} is not a BIP 84 wallet path`);
    const key = this.#master.derive(path).publicKey as Uint8Array;
    hex = Buffer.concat([Buffer.from([0x00, 0x14]), btcCrypto.hash160(key)]).toString('hex');
    if (this.#scripts.size >= 4096) this.#scripts.clear();
    this.#scripts.set(path, hex);
    return hex;
  }
}

/** The private key each request may be signed with, after the policy's checks. */
export function checkClaimRequest(
  keys: ChannelKeys,
  wallet: WalletKeyPaths,
  r: PolicyClaimRequest,
): { digest: Uint8Array; privateKey: Uint8Array; key: ClaimKeyName } {
  const { spend } = r;
  let tx: Transaction;
  try {
    tx = Transaction.fromBuffer(Buffer.from(spend.tx));
  } catch {
    throw refused('the claim transaction does not parse');
  }
  if (!Number.isInteger(spend.inputIndex) || spend.inputIndex < 0 || spend.inputIndex >= tx.ins.length)
    throw refused('the input index is not one of the transaction');
  if (typeof spend.valueSat !== 'bigint' || spend.valueSat <= 0n)
    throw refused('the spent value must be positive');
  const digest = new Uint8Array(
    tx.hashForWitnessV0(
      spend.inputIndex,
      Buffer.from(spend.scriptCode),
      spend.valueSat,
      Transaction.SIGHASH_ALL,
    ),
  );
  if (!equal(digest, checkLength(r.sighash, 32, 'sighash')))
    throw refused('the sighash is not the one of the transaction it names');
  const secondStage = checkScript(keys, r.key, spend.scriptCode);
  checkOutputs(
    wallet,
    tx,
    r.outputPaths,
    secondStage && { delayed: secondStage, script: spend.outputWitnessScript },
  );
  return { digest, privateKey: privateKeyFor(keys, r.key), key: r.key };
}

/** Rule 2. Returns the delayed key a second-stage output 0 may pay (our own HTLC transaction). */
function checkScript(keys: ChannelKeys, key: ClaimKeyName, scriptCode: Uint8Array): Uint8Array | undefined {
  const chunks = decompile(scriptCode);
  switch (key.kind) {
    case 'payment': {
      const basepoint = secp.publicKey(keys.paymentBaseSecret);
      const p2pkh = bscript.compile([
        OPS.OP_DUP,
        OPS.OP_HASH160,
        btcCrypto.hash160(basepoint),
        OPS.OP_EQUALVERIFY,
        OPS.OP_CHECKSIG,
      ]);
      const anchors = bscript.compile([
        basepoint,
        OPS.OP_CHECKSIGVERIFY,
        OPS.OP_1,
        OPS.OP_CHECKSEQUENCEVERIFY,
      ]);
      if (equal(scriptCode, p2pkh) || equal(scriptCode, anchors)) return undefined;
      throw refused('the payment key signs only a to_remote paying our payment basepoint');
    }
    case 'delayed-payment': {
      const ours = derivePublicKey(
        secp.publicKey(keys.delayedPaymentBaseSecret),
        point(key.perCommitmentPoint),
      );
      const toLocal = toLocalKeys(chunks);
      if (toLocal && equal(toLocal.delayed, ours)) return undefined;
      throw refused('the delayed payment key signs only a to_local script with our delayed key');
    }
    case 'revocation': {
      const secret = checkLength(key.perCommitmentSecret, 32, 'per_commitment_secret');
      const ours = deriveRevocationPublicKey(
        secp.publicKey(keys.revocationBaseSecret),
        perCommitmentPointFromSecret(secret),
      );
      const toLocal = toLocalKeys(chunks);
      if (toLocal && equal(toLocal.revocation, ours)) return undefined;
      const htlc = htlcKeys(chunks);
      if (htlc && equal(htlc.revocationHash, btcCrypto.hash160(ours))) return undefined;
      throw refused('the revocation key signs only a script whose revocation key is ours');
    }
    case 'htlc': {
      const at = point(key.perCommitmentPoint);
      const ours = derivePublicKey(secp.publicKey(keys.htlcBaseSecret), at);
      const htlc = htlcKeys(chunks);
      if (htlc && equal(htlc.local, ours))
        return derivePublicKey(secp.publicKey(keys.delayedPaymentBaseSecret), at);
      if (htlc && equal(htlc.remote, ours)) return undefined;
      throw refused('the htlc key signs only an HTLC script with our htlc key in it');
    }
    case 'funding': {
      const anchor = bscript.compile([
        secp.publicKey(keys.fundingSecret),
        OPS.OP_CHECKSIG,
        OPS.OP_IFDUP,
        OPS.OP_NOTIF,
        OPS.OP_16,
        OPS.OP_CHECKSEQUENCEVERIFY,
        OPS.OP_ENDIF,
      ]);
      if (equal(scriptCode, anchor)) return undefined;
      throw refused('the funding key signs only our anchor output');
    }
    default:
      throw refused(`unknown claim key ${(key as { kind: string }).kind}`);
  }
}

/** Rule 3. */
function checkOutputs(
  wallet: WalletKeyPaths,
  tx: Transaction,
  paths: readonly (string | undefined)[],
  secondStage: { delayed: Uint8Array; script: Uint8Array | undefined } | undefined,
): void {
  if (tx.outs.length === 0) throw refused('a claim must have an output');
  if (!Array.isArray(paths) || paths.length !== tx.outs.length)
    throw refused('one wallet path (or none) is needed per output');
  for (const [i, out] of tx.outs.entries()) {
    const script = new Uint8Array(out.script);
    // Anchors HTLC transactions due together are one: each output at its input's index is such a to_local.
    if (secondStage && isToLocalP2wsh(script, secondStage.delayed, secondStage.script)) continue;
    const path = paths[i];
    if (path === undefined || Buffer.from(script).toString('hex') !== wallet.scriptHex(path))
      throw refused(`output ${i} does not pay the node's wallet`);
  }
}

/** An HTLC transaction's output: P2WSH of `witnessScript` (the request's), a to_local paying `delayed`. */
function isToLocalP2wsh(
  script: Uint8Array,
  delayed: Uint8Array,
  witnessScript: Uint8Array | undefined,
): boolean {
  if (
    !(witnessScript instanceof Uint8Array) ||
    script.length !== 34 ||
    script[0] !== 0x00 ||
    script[1] !== 0x20
  )
    return false;
  if (!equal(sha256(witnessScript), script.subarray(2))) return false;
  const keys = toLocalKeys(decompile(witnessScript));
  return keys !== undefined && equal(keys.delayed, delayed);
}

/** `OP_IF <revocationpubkey> OP_ELSE <to_self_delay> OP_CSV OP_DROP <local_delayedpubkey> OP_ENDIF OP_CHECKSIG` */
function toLocalKeys(c: Chunk[] | undefined): { revocation: Uint8Array; delayed: Uint8Array } | undefined {
  if (c?.length !== 9) return undefined;
  const [iff, rev, els, , csv, drop, delayed, endif, checksig] = c;
  if (iff !== OPS.OP_IF || els !== OPS.OP_ELSE || csv !== OPS.OP_CHECKSEQUENCEVERIFY || drop !== OPS.OP_DROP)
    return undefined;
  if (endif !== OPS.OP_ENDIF || checksig !== OPS.OP_CHECKSIG) return undefined;
  if (!isKey(rev) || !isKey(delayed)) return undefined;
  return { revocation: rev, delayed };
}

/**
 * BOLT 3 offered and received HTLC scripts both begin `OP_DUP OP_HASH160 <revocation hash>
 * OP_EQUAL OP_IF OP_CHECKSIG OP_ELSE <remote_htlcpubkey>` and name `<local_htlcpubkey>` once
 * after it: their only two 33-byte pushes, remote first.
 */
function htlcKeys(
  c: Chunk[] | undefined,
): { revocationHash: Uint8Array; remote: Uint8Array; local: Uint8Array } | undefined {
  if (!c || c.length < 8) return undefined;
  const [dup, hash160, revocationHash, eq, iff, checksig, els, remote] = c;
  if (dup !== OPS.OP_DUP || hash160 !== OPS.OP_HASH160 || eq !== OPS.OP_EQUAL || iff !== OPS.OP_IF)
    return undefined;
  if (checksig !== OPS.OP_CHECKSIG || els !== OPS.OP_ELSE) return undefined;
  if (!(revocationHash instanceof Uint8Array) || revocationHash.length !== 20 || !isKey(remote))
    return undefined;
  const keys = c.filter(isKey);
  if (keys.length !== 2) return undefined;
  return { revocationHash, remote, local: keys[1] as Uint8Array };
}

function privateKeyFor(keys: ChannelKeys, key: ClaimKeyName): Uint8Array {
  // Same derivations as @lnkit/tx's claimPrivateKey (BOLT 3 "Key Derivation").
  switch (key.kind) {
    case 'payment':
      return keys.paymentBaseSecret;
    case 'delayed-payment':
      return derivePrivateKey(keys.delayedPaymentBaseSecret, point(key.perCommitmentPoint));
    case 'htlc':
      return derivePrivateKey(keys.htlcBaseSecret, point(key.perCommitmentPoint));
    case 'revocation':
      return deriveRevocationPrivateKey(keys.revocationBaseSecret, key.perCommitmentSecret);
    case 'funding':
      return keys.fundingSecret;
  }
}

type Chunk = number | Uint8Array;

function decompile(script: Uint8Array): Chunk[] | undefined {
  try {
    return (bscript.decompile(Buffer.from(script)) ?? undefined)?.map((c) =>
      typeof c === 'number' ? c : new Uint8Array(c),
    );
  } catch {
    return undefined;
  }
}

function isKey(c: Chunk | undefined): c is Uint8Array {
  return c instanceof Uint8Array && c.length === 33;
}

function point(p: Uint8Array): Uint8Array {
  return checkLength(p, 33, 'per_commitment_point');
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function refused(message: string): KeysError {
  return new KeysError('claim-refused', message);
}

/**
 * BOLT 3 witness scripts. Each returns the witness script; `p2wsh(script)` is its output script.
 */

import { sha256 } from '@lnkit/crypto';
import { script as bscript, crypto as btcCrypto, opcodes as OPS } from 'bitcoinjs-lib';
import { checkBytes } from './errors.ts';

const num = (n: number) => bscript.number.encode(n);

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const len = Math.min(a.length, b.length);
  for (let i = 0; i < len; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

export { compareBytes };

/** BOLT 3 "Funding Transaction Output": 2 <pubkey1> <pubkey2> 2 OP_CHECKMULTISIG, keys sorted. */
export function fundingScript(fundingPubkeyA: Uint8Array, fundingPubkeyB: Uint8Array): Uint8Array {
  checkBytes(fundingPubkeyA, 33, 'funding_pubkey');
  checkBytes(fundingPubkeyB, 33, 'funding_pubkey');
  const [k1, k2] =
    compareBytes(fundingPubkeyA, fundingPubkeyB) <= 0
      ? [fundingPubkeyA, fundingPubkeyB]
      : [fundingPubkeyB, fundingPubkeyA];
  return bscript.compile([OPS.OP_2, k1, k2, OPS.OP_2, OPS.OP_CHECKMULTISIG]);
}

/** OP_0 <sha256(script)> */
export function p2wsh(witnessScript: Uint8Array): Uint8Array {
  const out = new Uint8Array(34);
  out[0] = OPS.OP_0;
  out[1] = 32;
  out.set(sha256(witnessScript), 2);
  return out;
}

/** OP_0 <hash160(pubkey)> */
export function p2wpkh(pubkey: Uint8Array): Uint8Array {
  checkBytes(pubkey, 33, 'pubkey');
  return bscript.compile([OPS.OP_0, btcCrypto.hash160(pubkey)]);
}

/**
 * BOLT 3 `to_local` output (also the output of HTLC-timeout/success transactions):
 * OP_IF <revocationpubkey> OP_ELSE `to_self_delay` OP_CSV OP_DROP <local_delayedpubkey> OP_ENDIF OP_CHECKSIG
 */
export function toLocalScript(
  revocationPubkey: Uint8Array,
  toSelfDelay: number,
  localDelayedPubkey: Uint8Array,
): Uint8Array {
  checkBytes(revocationPubkey, 33, 'revocationpubkey');
  checkBytes(localDelayedPubkey, 33, 'local_delayedpubkey');
  return bscript.compile([
    OPS.OP_IF,
    revocationPubkey,
    OPS.OP_ELSE,
    num(toSelfDelay),
    OPS.OP_CHECKSEQUENCEVERIFY,
    OPS.OP_DROP,
    localDelayedPubkey,
    OPS.OP_ENDIF,
    OPS.OP_CHECKSIG,
  ]);
}

/** BOLT 3 `to_remote` with option_anchors: <remotepubkey> OP_CHECKSIGVERIFY 1 OP_CHECKSEQUENCEVERIFY */
export function toRemoteAnchorsScript(remotePubkey: Uint8Array): Uint8Array {
  checkBytes(remotePubkey, 33, 'remotepubkey');
  return bscript.compile([remotePubkey, OPS.OP_CHECKSIGVERIFY, OPS.OP_1, OPS.OP_CHECKSEQUENCEVERIFY]);
}

/** BOLT 3 anchor: <funding_pubkey> OP_CHECKSIG OP_IFDUP OP_NOTIF OP_16 OP_CHECKSEQUENCEVERIFY OP_ENDIF */
export function anchorScript(fundingPubkey: Uint8Array): Uint8Array {
  checkBytes(fundingPubkey, 33, 'funding_pubkey');
  return bscript.compile([
    fundingPubkey,
    OPS.OP_CHECKSIG,
    OPS.OP_IFDUP,
    OPS.OP_NOTIF,
    OPS.OP_16,
    OPS.OP_CHECKSEQUENCEVERIFY,
    OPS.OP_ENDIF,
  ]);
}

export interface HtlcScriptKeys {
  revocationPubkey: Uint8Array;
  localHtlcPubkey: Uint8Array;
  remoteHtlcPubkey: Uint8Array;
}

/** BOLT 3 "Offered HTLC Outputs" (with the `1 OP_CSV OP_DROP` of option_anchors when `anchors`). */
export function offeredHtlcScript(
  keys: HtlcScriptKeys,
  paymentHash: Uint8Array,
  anchors: boolean,
): Uint8Array {
  checkBytes(paymentHash, 32, 'payment_hash');
  return bscript.compile([
    OPS.OP_DUP,
    OPS.OP_HASH160,
    btcCrypto.hash160(checkBytes(keys.revocationPubkey, 33, 'revocationpubkey')),
    OPS.OP_EQUAL,
    OPS.OP_IF,
    OPS.OP_CHECKSIG,
    OPS.OP_ELSE,
    checkBytes(keys.remoteHtlcPubkey, 33, 'remote_htlcpubkey'),
    OPS.OP_SWAP,
    OPS.OP_SIZE,
    num(32),
    OPS.OP_EQUAL,
    OPS.OP_NOTIF,
    OPS.OP_DROP,
    OPS.OP_2,
    OPS.OP_SWAP,
    checkBytes(keys.localHtlcPubkey, 33, 'local_htlcpubkey'),
    OPS.OP_2,
    OPS.OP_CHECKMULTISIG,
    OPS.OP_ELSE,
    OPS.OP_HASH160,
    btcCrypto.ripemd160(paymentHash),
    OPS.OP_EQUALVERIFY,
    OPS.OP_CHECKSIG,
    OPS.OP_ENDIF,
    ...(anchors ? [OPS.OP_1, OPS.OP_CHECKSEQUENCEVERIFY, OPS.OP_DROP] : []),
    OPS.OP_ENDIF,
  ]);
}

/** BOLT 3 "Received HTLC Outputs" (with the `1 OP_CSV OP_DROP` of option_anchors when `anchors`). */
export function receivedHtlcScript(
  keys: HtlcScriptKeys,
  paymentHash: Uint8Array,
  cltvExpiry: number,
  anchors: boolean,
): Uint8Array {
  checkBytes(paymentHash, 32, 'payment_hash');
  return bscript.compile([
    OPS.OP_DUP,
    OPS.OP_HASH160,
    btcCrypto.hash160(checkBytes(keys.revocationPubkey, 33, 'revocationpubkey')),
    OPS.OP_EQUAL,
    OPS.OP_IF,
    OPS.OP_CHECKSIG,
    OPS.OP_ELSE,
    checkBytes(keys.remoteHtlcPubkey, 33, 'remote_htlcpubkey'),
    OPS.OP_SWAP,
    OPS.OP_SIZE,
    num(32),
    OPS.OP_EQUAL,
    OPS.OP_IF,
    OPS.OP_HASH160,
    btcCrypto.ripemd160(paymentHash),
    OPS.OP_EQUALVERIFY,
    OPS.OP_2,
    OPS.OP_SWAP,
    checkBytes(keys.localHtlcPubkey, 33, 'local_htlcpubkey'),
    OPS.OP_2,
    OPS.OP_CHECKMULTISIG,
    OPS.OP_ELSE,
    OPS.OP_DROP,
    num(cltvExpiry),
    OPS.OP_CHECKLOCKTIMEVERIFY,
    OPS.OP_DROP,
    OPS.OP_CHECKSIG,
    OPS.OP_ENDIF,
    ...(anchors ? [OPS.OP_1, OPS.OP_CHECKSEQUENCEVERIFY, OPS.OP_DROP] : []),
    OPS.OP_ENDIF,
  ]);
}

/**
 * A script number pushed the way bitcoinjs-lib's `script.compile` pushes
 * `script.number.encode(n)` (minimal: OP_0, OP_1..OP_16, else its little-endian bytes with a
 * sign byte when the top bit is set), for 0 <= n < 2^31.
 */
function pushScriptNumber(n: number): Uint8Array {
  if (n === 0) return Uint8Array.of(OPS.OP_0);
  if (n <= 16) return Uint8Array.of(OPS.OP_1 + n - 1);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.push(v % 256);
  if ((bytes[bytes.length - 1]! & 0x80) !== 0) bytes.push(0);
  return Uint8Array.of(bytes.length, ...bytes);
}

/**
 * The HTLC witness scripts of one commitment. Everything but the payment hash (and, for a
 * received HTLC, cltv_expiry) is fixed by the commitment's keys, so it is compiled once here
 * and each HTLC only fills in its own bytes: the same bytes as offeredHtlcScript and
 * receivedHtlcScript (tested), without compiling 30-odd chunks and hashing the revocation key
 * again per HTLC.
 */
export class HtlcScripts {
  private readonly offeredHead: Uint8Array;
  private readonly offeredTail: Uint8Array;
  private readonly receivedHead: Uint8Array;
  private readonly receivedMiddle: Uint8Array;
  private readonly receivedTail: Uint8Array;

  constructor(keys: HtlcScriptKeys, anchors: boolean) {
    const revocationHash = btcCrypto.hash160(checkBytes(keys.revocationPubkey, 33, 'revocationpubkey'));
    const remote = checkBytes(keys.remoteHtlcPubkey, 33, 'remote_htlcpubkey');
    const local = checkBytes(keys.localHtlcPubkey, 33, 'local_htlcpubkey');
    const anchorsCsv = anchors ? [OPS.OP_1, OPS.OP_CHECKSEQUENCEVERIFY, OPS.OP_DROP] : [];
    const common = [
      OPS.OP_DUP,
      OPS.OP_HASH160,
      revocationHash,
      OPS.OP_EQUAL,
      OPS.OP_IF,
      OPS.OP_CHECKSIG,
      OPS.OP_ELSE,
      remote,
      OPS.OP_SWAP,
      OPS.OP_SIZE,
      num(32),
      OPS.OP_EQUAL,
    ];
    // Each ends just before the 20-byte push of RIPEMD160(payment_hash).
    this.offeredHead = bscript.compile([
      ...common,
      OPS.OP_NOTIF,
      OPS.OP_DROP,
      OPS.OP_2,
      OPS.OP_SWAP,
      local,
      OPS.OP_2,
      OPS.OP_CHECKMULTISIG,
      OPS.OP_ELSE,
      OPS.OP_HASH160,
    ]);
    this.offeredTail = bscript.compile([
      OPS.OP_EQUALVERIFY,
      OPS.OP_CHECKSIG,
      OPS.OP_ENDIF,
      ...anchorsCsv,
      OPS.OP_ENDIF,
    ]);
    this.receivedHead = bscript.compile([...common, OPS.OP_IF, OPS.OP_HASH160]);
    // …then cltv_expiry.
    this.receivedMiddle = bscript.compile([
      OPS.OP_EQUALVERIFY,
      OPS.OP_2,
      OPS.OP_SWAP,
      local,
      OPS.OP_2,
      OPS.OP_CHECKMULTISIG,
      OPS.OP_ELSE,
      OPS.OP_DROP,
    ]);
    this.receivedTail = bscript.compile([
      OPS.OP_CHECKLOCKTIMEVERIFY,
      OPS.OP_DROP,
      OPS.OP_CHECKSIG,
      OPS.OP_ENDIF,
      ...anchorsCsv,
      OPS.OP_ENDIF,
    ]);
  }

  /** BOLT 3 "Offered HTLC Outputs". */
  offered(paymentHash: Uint8Array): Uint8Array {
    const head = this.offeredHead;
    const out = new Uint8Array(head.length + 21 + this.offeredTail.length);
    out.set(head, 0);
    writePaymentHashPush(out, head.length, paymentHash);
    out.set(this.offeredTail, head.length + 21);
    return out;
  }

  /** BOLT 3 "Received HTLC Outputs". */
  received(paymentHash: Uint8Array, cltvExpiry: number): Uint8Array {
    const cltv = pushScriptNumber(cltvExpiry);
    const head = this.receivedHead;
    const middle = this.receivedMiddle;
    const out = new Uint8Array(head.length + 21 + middle.length + cltv.length + this.receivedTail.length);
    out.set(head, 0);
    let at = writePaymentHashPush(out, head.length, paymentHash);
    out.set(middle, at);
    at += middle.length;
    out.set(cltv, at);
    out.set(this.receivedTail, at + cltv.length);
    return out;
  }
}

/** Writes <RIPEMD160(payment_hash)> as a 20-byte push at `at`; returns the offset after it. */
function writePaymentHashPush(out: Uint8Array, at: number, paymentHash: Uint8Array): number {
  out[at] = 20;
  out.set(btcCrypto.ripemd160(checkBytes(paymentHash, 32, 'payment_hash')), at + 1);
  return at + 21;
}

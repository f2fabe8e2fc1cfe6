/**
 * BOLT 4 "Returning Errors": the return packet the erring hop builds (HMAC with `um`, then
 * obfuscated with `ammag`), the obfuscation each hop adds on the way back, and the origin's
 * decryption that finds which hop made it. Also update_fail_malformed_htlc (BOLT 2), which the
 * upstream hop turns into a failure of its own.
 */
import { timingSafeEqual } from 'node:crypto';
import { ByteReader, ByteWriter, bytesEqual, WireError } from '@lnkit/wire';
import { checkBytes, checkUint, invalidArgument, OnionError } from './errors.ts';
import {
  BADONION,
  decodeFailureMessage,
  encodeFailureMessage,
  type FailureMessage,
  failureCode,
} from './failure-messages.ts';
import type { PeeledPayment } from './peel.ts';
import { chacha20Xor, generateKey, hmac, KEY_AMMAG, KEY_UM, sha256 } from './sphinx-keys.ts';

/** BOLT 4: the erring node SHOULD pad so failure_len + pad_len = 256 (MUST: at least 256). */
export const FAILURE_PAD_TO = 256;
/** BOLT 4: the origin SHOULD decrypt 27 times whatever the route length, to hide it. */
export const FAILURE_DECRYPT_ROUNDS = 27;

export interface CreateFailureOptions {
  /** failure_len + pad_len when the message is shorter; default 256. */
  padTo?: number;
}

/**
 * The return packet of the erring hop, already obfuscated with its `ammag` key: what goes in
 * update_fail_htlc's `reason`. `failure` may be encoded bytes (a failuremsg of any code).
 */
export function createFailurePacket(
  sharedSecret: Uint8Array,
  failure: FailureMessage | Uint8Array,
  options: CreateFailureOptions = {},
): Uint8Array {
  checkBytes(sharedSecret, 32, 'shared secret');
  const message = failure instanceof Uint8Array ? failure : encodeFailureMessage(failure);
  if (message.length < 2) throw invalidArgument('a failure message starts with its 2-byte code');
  const padTo = checkUint(options.padTo ?? FAILURE_PAD_TO, 0xffff, 'padTo');
  if (padTo < FAILURE_PAD_TO) throw invalidArgument(`padTo must be at least ${FAILURE_PAD_TO} (BOLT 4)`);
  const padLength = Math.max(0, padTo - message.length);
  let body: Uint8Array;
  try {
    body = new ByteWriter(4 + message.length + padLength)
      .u16(message.length, 'failure_len')
      .bytes(message)
      .u16(padLength, 'pad_len')
      .bytes(new Uint8Array(padLength))
      .finish();
  } catch (e) {
    if (e instanceof WireError) throw invalidArgument(`failure message: ${e.detail}`);
    throw e;
  }
  const packet = new Uint8Array(32 + body.length);
  packet.set(hmac(generateKey(KEY_UM, sharedSecret), body), 0);
  packet.set(body, 32);
  return chacha20Xor(generateKey(KEY_AMMAG, sharedSecret), packet);
}

/** What each hop on the way back does to the packet it got from downstream (BOLT 4 "Intermediate nodes"). */
export function wrapFailurePacket(sharedSecret: Uint8Array, packet: Uint8Array): Uint8Array {
  checkBytes(sharedSecret, 32, 'shared secret');
  if (!(packet instanceof Uint8Array)) throw invalidArgument('failure packet must be a Uint8Array');
  return chacha20Xor(generateKey(KEY_AMMAG, sharedSecret), packet);
}

export interface DecryptedFailure {
  /** Index in the route (0 = the first hop after the origin) of the hop that made the failure. */
  hopIndex: number;
  /** The failuremsg bytes; empty when failure_len ran past the packet. */
  message: Uint8Array;
  /** The failure_code, when the message has at least two bytes. */
  failureCode: number | undefined;
  /** The decoded failure; undefined when the message is shorter than its code's data. */
  failure: FailureMessage | undefined;
}

export interface DecryptFailureOptions {
  /** Decrypt this many rounds whatever the route length (BOLT 4: SHOULD, 27); 0: stop at the erring hop. */
  rounds?: number;
}

const DUMMY_SECRET = new Uint8Array(32);

/**
 * The origin's side: peel the packet with each hop's keys until a hop's `um` HMAC matches.
 * Throws OnionError 'unattributable-failure' when none does (a hop corrupted it; BOLT 4 cannot
 * say which without attribution data). A match whose failuremsg does not decode is still
 * attributed: `failure` is then undefined.
 */
export function decryptFailurePacket(
  sharedSecrets: readonly Uint8Array[],
  packet: Uint8Array,
  options: DecryptFailureOptions = {},
): DecryptedFailure {
  if (!Array.isArray(sharedSecrets) || sharedSecrets.length === 0)
    throw invalidArgument('decrypting a failure needs the route’s shared secrets');
  for (const [i, s] of sharedSecrets.entries()) checkBytes(s, 32, `shared secret ${i}`);
  if (!(packet instanceof Uint8Array)) throw invalidArgument('failure packet must be a Uint8Array');
  const wanted = checkUint(options.rounds ?? FAILURE_DECRYPT_ROUNDS, 1000, 'rounds');
  const rounds = Math.max(sharedSecrets.length, wanted);
  let found: { hopIndex: number; plain: Uint8Array } | undefined;
  let p: Uint8Array = packet;
  for (let i = 0; i < rounds && !(found && wanted === 0); i++) {
    // After the route (or after the match), the same work on a constant key: the time taken
    // does not tell the erring hop how far it is from the origin.
    const real = !found && i < sharedSecrets.length;
    const secret = real ? sharedSecrets[i]! : DUMMY_SECRET;
    p = chacha20Xor(generateKey(KEY_AMMAG, secret), p);
    if (p.length < 32) continue;
    const expected = hmac(generateKey(KEY_UM, secret), p.subarray(32));
    if (timingSafeEqual(expected, p.subarray(0, 32)) && real) found = { hopIndex: i, plain: p };
  }
  if (!found)
    throw new OnionError(
      'unattributable-failure',
      `no hop of the ${sharedSecrets.length}-hop route made this ${packet.length}-byte failure packet`,
    );
  const message = failureMessageOf(found.plain);
  const out: DecryptedFailure = {
    hopIndex: found.hopIndex,
    message,
    failureCode: message.length >= 2 ? (message[0]! << 8) | message[1]! : undefined,
    failure: undefined,
  };
  if (message.length >= 2) {
    try {
      out.failure = decodeFailureMessage(message);
    } catch (e) {
      if (!(e instanceof OnionError)) throw e;
    }
  }
  return out;
}

function failureMessageOf(plain: Uint8Array): Uint8Array {
  const r = new ByteReader(plain.subarray(32), 'failure packet');
  try {
    return r.bytesN(r.u16('failure_len'), 'failuremsg');
  } catch (e) {
    if (e instanceof WireError) return new Uint8Array(0);
    throw e;
  }
}

/** update_fail_malformed_htlc's fields. */
export interface MalformedFailure {
  failureCode: number;
  sha256OfOnion: Uint8Array;
}

/**
 * BOLT 2: a hop whose outgoing HTLC came back malformed returns, upstream, an update_fail_htlc
 * "using the failure_code given and setting the data to sha256_of_onion", as if it had made the
 * failure. Throws OnionError 'invalid-malformed-failure' when the code lacks BADONION (BOLT 2:
 * the channel must then be failed). `sentOnion`, when given, is compared with sha256_of_onion:
 * `onionMatches` false means the downstream peer hashed another onion (BOLT 2: MAY retry).
 */
export function failureFromMalformed(
  sharedSecret: Uint8Array,
  m: MalformedFailure,
  sentOnion?: Uint8Array,
): { reason: Uint8Array; onionMatches: boolean | undefined } {
  checkUint(m.failureCode, 0xffff, 'failure code');
  checkBytes(m.sha256OfOnion, 32, 'sha256_of_onion');
  if ((m.failureCode & BADONION) === 0)
    throw new OnionError(
      'invalid-malformed-failure',
      `update_fail_malformed_htlc failure_code 0x${m.failureCode.toString(16)} lacks the BADONION bit`,
    );
  const message = new Uint8Array(34);
  message[0] = m.failureCode >> 8;
  message[1] = m.failureCode & 0xff;
  message.set(m.sha256OfOnion, 2);
  const onionMatches =
    sentOnion === undefined
      ? undefined
      : bytesEqual(sha256(sentOnion), m.sha256OfOnion) || m.sha256OfOnion.every((b) => b === 0);
  return { reason: createFailurePacket(sharedSecret, message), onionMatches };
}

/** How to remove an incoming HTLC: update_fail_malformed_htlc or update_fail_htlc. */
export type HtlcFailureReply =
  | { kind: 'malformed'; failureCode: number; sha256OfOnion: Uint8Array }
  | { kind: 'fail'; reason: Uint8Array };

/** The reply to send for an OnionError from peelPaymentOnion; undefined when there is none ('ecdh-failed', caller errors). */
export function replyForOnionError(e: OnionError): HtlcFailureReply | undefined {
  if (!e.failure || !e.reply) return undefined;
  if (e.reply === 'malformed') {
    const f = e.failure as { sha256OfOnion?: Uint8Array };
    return {
      kind: 'malformed',
      failureCode: failureCode(e.failure),
      sha256OfOnion: f.sha256OfOnion ?? new Uint8Array(32),
    };
  }
  return { kind: 'fail', reason: createFailurePacket(e.sharedSecret!, e.failure) };
}

/**
 * The reply for failing, later, an HTLC that peeled fine (a downstream failure, no route, an
 * unknown payment hash): BOLT 2's blinded rules first — inside a blinded route always
 * update_fail_malformed_htlc(invalid_onion_blinding), at a forwarding introduction node
 * update_fail_htlc(invalid_onion_blinding) — otherwise `failure` in an update_fail_htlc.
 */
export function failPeeledHtlc(
  peeled: PeeledPayment,
  onionRoutingPacket: Uint8Array,
  failure: FailureMessage,
): HtlcFailureReply {
  const role = peeled.blinded?.role;
  if (role === 'inside')
    return {
      kind: 'malformed',
      failureCode: failureCode({ name: 'invalid_onion_blinding', sha256OfOnion: new Uint8Array(32) }),
      sha256OfOnion: sha256(onionRoutingPacket),
    };
  if (role === 'introduction' && peeled.kind === 'forward')
    return {
      kind: 'fail',
      reason: createFailurePacket(peeled.sharedSecret, {
        name: 'invalid_onion_blinding',
        sha256OfOnion: sha256(onionRoutingPacket),
      }),
    };
  return { kind: 'fail', reason: createFailurePacket(peeled.sharedSecret, failure) };
}

/**
 * The Sphinx packet of BOLT 4, independent of what the payloads mean: "Packet Construction",
 * "Filler Generation" and "Onion Decryption". Payment onions (payment.ts, peel.ts) and onion
 * messages share it; only the payload length (1300 for payments) and the associated data differ.
 */
import { timingSafeEqual } from 'node:crypto';
import { secp } from '@lnkit/crypto';
import { bigSizeLength, decodeBigSize, encodeBigSize } from '@lnkit/wire';
import { isPoint, isValidSecret, multiply, multiplySecret, publicKey } from './curve.ts';
import { checkBytes, invalidArgument, OnionError } from './errors.ts';
import {
  chacha20Stream,
  chacha20Xor,
  generateKey,
  hmac,
  KEY_BLINDED_NODE_ID,
  KEY_MU,
  KEY_PAD,
  KEY_RHO,
  sha256,
  xorInto,
} from './sphinx-keys.ts';

/** BOLT 4: `hop_payloads` of a payment onion (onion_routing_packet). */
export const HOP_PAYLOADS_LENGTH = 1300;
/** version (1) + public_key (33) + hop_payloads + hmac (32). */
export const PACKET_OVERHEAD = 66;
export const HMAC_LENGTH = 32;
const ZERO_HMAC = new Uint8Array(HMAC_LENGTH);

/** Bytes a payload takes in hop_payloads: BigSize length, the payload, the next HMAC. */
export function hopDataLength(payloadLength: number): number {
  return bigSizeLength(BigInt(payloadLength)) + payloadLength + HMAC_LENGTH;
}

/**
 * The shared secret and next ephemeral secret for each hop, from the session key
 * (BOLT 4 "Packet Construction": ss_k = SHA256(ek_k · N_k), ek_{k+1} = ek_k · SHA256(epk_k || ss_k)).
 */
export function sharedSecretsFor(sessionKey: Uint8Array, hopPublicKeys: readonly Uint8Array[]): Uint8Array[] {
  return hopSecrets(sessionKey, hopPublicKeys).sharedSecrets;
}

/** sharedSecretsFor, plus the first ephemeral key the packet carries (computed once, not twice). */
function hopSecrets(
  sessionKey: Uint8Array,
  hopPublicKeys: readonly Uint8Array[],
): { sharedSecrets: Uint8Array[]; firstEphemeralKey: Uint8Array } {
  if (!isValidSecret(checkBytes(sessionKey, 32, 'session key')))
    throw invalidArgument('session key must be in 1..n-1');
  const sharedSecrets: Uint8Array[] = [];
  let ephemeralSecret = sessionKey;
  let ephemeralKey = publicKey(sessionKey);
  const firstEphemeralKey = ephemeralKey;
  hopPublicKeys.forEach((nodeId, i) => {
    if (!(nodeId instanceof Uint8Array) || !isPoint(nodeId))
      throw invalidArgument(`hop ${i}: node id is not a valid compressed point`);
    const ss = secp.ecdh(ephemeralSecret, nodeId);
    sharedSecrets.push(ss);
    // The last hop's successor key is never used: skip its two curve operations.
    if (i < hopPublicKeys.length - 1) {
      ephemeralSecret = multiplySecret(ephemeralSecret, sha256(ephemeralKey, ss));
      ephemeralKey = publicKey(ephemeralSecret);
    }
  });
  return { sharedSecrets, firstEphemeralKey };
}

/**
 * The filler: what the hops' left shifts will have pushed into the end of hop_payloads by the
 * time the packet reaches the last hop, so the origin can compute the last hops' HMACs over it.
 * Hop i XORs its stream from byte (hopPayloadsLength - filled so far) on.
 */
function filler(
  sharedSecrets: readonly Uint8Array[],
  frames: readonly Uint8Array[],
  length: number,
): Uint8Array {
  let total = 0;
  for (let i = 0; i < frames.length - 1; i++) total += frames[i]!.length;
  const out = new Uint8Array(total);
  let pos = 0;
  for (let i = 0; i < frames.length - 1; i++) {
    const size = frames[i]!.length;
    const stream = chacha20Stream(generateKey(KEY_RHO, sharedSecrets[i]!), length + size);
    // The stream bytes beyond hop_payloads land on the filler's first pos + size bytes.
    xorInto(out.subarray(0, pos + size), stream.subarray(length - pos));
    pos += size;
  }
  return out;
}

export interface SphinxAssembly {
  /** The first hop's ephemeral public key (sessionKey · G). */
  ephemeralKey: Uint8Array;
  sharedSecrets: readonly Uint8Array[];
  /** Each hop's payload, without its length prefix. */
  payloads: readonly Uint8Array[];
  associatedData: Uint8Array;
  /** Random bytes the hop_payloads start from (BOLT 4: ChaCha20 of the `pad` key of the session key). */
  padding: Uint8Array;
}

/**
 * Builds the packet from shared secrets already known (BOLT 4 "Packet Construction", last hop
 * first). Throws OnionError('route-too-long') naming the hop that no longer fits.
 */
export function assemblePacket(a: SphinxAssembly): Uint8Array {
  const length = a.padding.length;
  const frames = a.payloads.map((p) => {
    const frame = new Uint8Array(hopDataLength(p.length));
    frame.set(encodeBigSize(p.length), 0);
    frame.set(p, frame.length - HMAC_LENGTH - p.length);
    return frame;
  });
  let used = 0;
  frames.forEach((f, i) => {
    used += f.length;
    if (used > length)
      throw new OnionError(
        'route-too-long',
        `hop payloads need ${frames.reduce((s, x) => s + x.length, 0)} bytes with their length prefixes ` +
          `and HMACs; the onion holds ${length}: hop ${i} (of ${frames.length}) is the first that does not fit`,
      );
  });
  const fill = filler(a.sharedSecrets, frames, length);
  let mix: Uint8Array = a.padding.slice();
  let nextHmac: Uint8Array = ZERO_HMAC;
  for (let i = frames.length - 1; i >= 0; i--) {
    const frame = frames[i]!;
    frame.set(nextHmac, frame.length - HMAC_LENGTH);
    // Right-shift by the frame, put the frame in front, then obfuscate the whole.
    const shifted = new Uint8Array(length);
    shifted.set(frame, 0);
    shifted.set(mix.subarray(0, length - frame.length), frame.length);
    mix = chacha20Xor(generateKey(KEY_RHO, a.sharedSecrets[i]!), shifted);
    if (i === frames.length - 1) mix.set(fill, length - fill.length);
    nextHmac = hmac(generateKey(KEY_MU, a.sharedSecrets[i]!), mix, a.associatedData);
  }
  const packet = new Uint8Array(PACKET_OVERHEAD + length);
  packet[0] = 0;
  packet.set(a.ephemeralKey, 1);
  packet.set(mix, 34);
  packet.set(nextHmac, 34 + length);
  return packet;
}

export interface SphinxBuild {
  sessionKey: Uint8Array;
  hops: readonly { publicKey: Uint8Array; payload: Uint8Array }[];
  associatedData: Uint8Array;
  /** 1300 for payments (the default); onion messages may use other sizes. */
  hopPayloadsLength?: number;
}

export function buildPacket(b: SphinxBuild): { packet: Uint8Array; sharedSecrets: Uint8Array[] } {
  if (b.hops.length === 0) throw invalidArgument('a route needs at least one hop');
  const { sharedSecrets, firstEphemeralKey } = hopSecrets(
    b.sessionKey,
    b.hops.map((h) => h.publicKey),
  );
  const length = b.hopPayloadsLength ?? HOP_PAYLOADS_LENGTH;
  const packet = assemblePacket({
    ephemeralKey: firstEphemeralKey,
    sharedSecrets,
    payloads: b.hops.map((h) => h.payload),
    associatedData: b.associatedData,
    padding: chacha20Stream(generateKey(KEY_PAD, b.sessionKey), length),
  });
  return { packet, sharedSecrets };
}

/** The fields of a packet whose version and key were checked. */
export interface ParsedPacket {
  bytes: Uint8Array;
  publicKey: Uint8Array;
  hopPayloads: Uint8Array;
  hmac: Uint8Array;
}

/**
 * BOLT 4 "Onion Decryption", first checks: version 0 and a valid public key. The failures are
 * BADONION ones (the hop cannot derive the sender's secret), returned as update_fail_malformed_htlc.
 */
export function parsePacket(bytes: Uint8Array, expectedLength?: number): ParsedPacket {
  if (!(bytes instanceof Uint8Array)) throw invalidArgument('onion packet must be a Uint8Array');
  if (expectedLength !== undefined && bytes.length !== expectedLength)
    throw invalidArgument(`onion packet must be ${expectedLength} bytes, got ${bytes.length}`);
  if (bytes.length < PACKET_OVERHEAD + 1)
    throw invalidArgument(`onion packet must be longer than ${PACKET_OVERHEAD} bytes`);
  const sha256OfOnion = (): Uint8Array => sha256(bytes);
  if (bytes[0] !== 0)
    throw new OnionError('invalid-onion-version', `onion version ${bytes[0]} is not 0`, {
      failure: { name: 'invalid_onion_version', sha256OfOnion: sha256OfOnion() },
      reply: 'malformed',
    });
  const publicKeyBytes = bytes.subarray(1, 34);
  if (!isPoint(publicKeyBytes))
    throw new OnionError('invalid-onion-key', 'onion public key is not a valid point', {
      failure: { name: 'invalid_onion_key', sha256OfOnion: sha256OfOnion() },
      reply: 'malformed',
    });
  return {
    bytes,
    publicKey: publicKeyBytes,
    hopPayloads: bytes.subarray(34, bytes.length - HMAC_LENGTH),
    hmac: bytes.subarray(bytes.length - HMAC_LENGTH),
  };
}

export interface Unwrapped {
  /** This hop's payload (without its length prefix). */
  payload: Uint8Array;
  /** All-zero for the final hop. */
  nextHmac: Uint8Array;
  /** Set unless this is the final hop. */
  nextPacket: Uint8Array | undefined;
}

/** Thrown (as plain data) for a framing problem after the HMAC held: the payload is invalid. */
export class FramingError {
  constructor(readonly detail: string) {}
}

/**
 * BOLT 4 "Onion Decryption" with the shared secret known: the HMAC (constant-time compare), the
 * de-obfuscation, the payload framing and the next packet (ephemeral key times the blinding
 * tweak). A bad HMAC is OnionError 'invalid-onion-hmac'; a framing problem behind a good HMAC is
 * a FramingError the payment layer reports as invalid_onion_payload.
 */
export function unwrapPacket(
  parsed: ParsedPacket,
  sharedSecret: Uint8Array,
  associatedData: Uint8Array,
  minPayloadLength = 2,
): Unwrapped | FramingError {
  const expected = hmac(generateKey(KEY_MU, sharedSecret), parsed.hopPayloads, associatedData);
  if (!timingSafeEqual(expected, parsed.hmac))
    throw new OnionError('invalid-onion-hmac', 'onion HMAC does not match', {
      failure: { name: 'invalid_onion_hmac', sha256OfOnion: sha256(parsed.bytes) },
      reply: 'malformed',
    });
  const length = parsed.hopPayloads.length;
  // hop_payloads followed by as many zero bytes, XOR the stream: our frame in front, the rest
  // is the next hop's hop_payloads with fresh (obfuscated) padding at its end.
  const padded = new Uint8Array(2 * length);
  padded.set(parsed.hopPayloads, 0);
  const unwrapped = chacha20Xor(generateKey(KEY_RHO, sharedSecret), padded);
  let payloadLength: bigint;
  let prefix: number;
  try {
    const d = decodeBigSize(unwrapped, 0);
    payloadLength = d.value;
    prefix = d.length;
  } catch {
    return new FramingError('payload length is not a minimal BigSize');
  }
  // BOLT 4: lengths 0 and 1 are reserved (0 was the legacy format) for payments.
  if (payloadLength < BigInt(minPayloadLength))
    return new FramingError(`payload length ${payloadLength} is below ${minPayloadLength}`);
  if (payloadLength > BigInt(length - prefix - HMAC_LENGTH))
    return new FramingError(`payload length ${payloadLength} runs past hop_payloads`);
  const end = prefix + Number(payloadLength);
  const payload = unwrapped.subarray(prefix, end);
  const nextHmac = unwrapped.subarray(end, end + HMAC_LENGTH);
  if (timingSafeEqual(nextHmac, ZERO_HMAC)) return { payload, nextHmac, nextPacket: undefined };
  const nextPacket = new Uint8Array(parsed.bytes.length);
  nextPacket[0] = 0;
  nextPacket.set(multiply(parsed.publicKey, sha256(parsed.publicKey, sharedSecret)), 1);
  nextPacket.set(unwrapped.subarray(end + HMAC_LENGTH, end + HMAC_LENGTH + length), 34);
  nextPacket.set(nextHmac, 34 + length);
  return { payload, nextHmac, nextPacket };
}

export interface PeelPacket {
  packet: Uint8Array;
  associatedData: Uint8Array;
  /** ECDH with the node key: SHA-256 of the compressed point. */
  ecdh: (publicKey: Uint8Array) => Promise<Uint8Array>;
  /** Set inside a blinded route: the onion was encrypted to our blinded node id. */
  pathKey?: Uint8Array;
  /** 2 for payments (the default); 0 for onion messages, which have no legacy format. */
  minPayloadLength?: number;
}

export interface PeeledPacket extends Unwrapped {
  sharedSecret: Uint8Array;
  /** ECDH(path_key, node key), when a path key was given: decrypts the hop's encrypted data. */
  blindingSecret: Uint8Array | undefined;
}

/**
 * One Sphinx layer for any onion (payments go through peelPaymentOnion, which adds the payload
 * rules and the failures to return; this is what onion messages need): the blinding tweak when
 * a path key is given, ECDH, HMAC, de-obfuscation. Throws OnionError; a framing problem is
 * OnionError 'invalid-onion-payload'.
 */
export async function peelOnionPacket(p: PeelPacket): Promise<PeeledPacket> {
  const parsed = parsePacket(p.packet);
  let onionKey = parsed.publicKey;
  let blindingSecret: Uint8Array | undefined;
  if (p.pathKey) {
    if (!isPoint(p.pathKey)) throw invalidArgument('path key is not a valid point');
    blindingSecret = await p.ecdh(p.pathKey);
    onionKey = multiply(parsed.publicKey, generateKey(KEY_BLINDED_NODE_ID, blindingSecret));
  }
  const sharedSecret = await p.ecdh(onionKey);
  const out = unwrapPacket(parsed, sharedSecret, p.associatedData, p.minPayloadLength ?? 2);
  if (out instanceof FramingError)
    throw new OnionError('invalid-onion-payload', out.detail, {
      failure: { name: 'invalid_onion_payload', type: 0n, offset: 0 },
      reply: 'fail',
      sharedSecret,
    });
  return { ...out, sharedSecret, blindingSecret };
}

/**
 * BOLT 4 attributable failures and hold times (`attribution_data`, option_attribution_data): each
 * hop on the way back puts its hold time in front and 20 truncated HMACs — one per position it
 * could have in the route, since it does not know its own — covering the return packet, the hold
 * times and the HMACs downstream, then obfuscates the block with its `ammagext` key. The origin
 * peels the layers and checks, hop by hop, the HMAC for the hop's real position: the first that
 * fails names the pair of nodes where the failure was tampered with, and the hold times up to there
 * are committed to. update_fulfill_htlc carries the same block with no return packet.
 *
 * Layout (920 bytes): 20 u32 hold times (units of 100 ms), then 210 4-byte HMACs, the current
 * hop's 20 first ("hmac_0_19 … hmac_0_0"), the next hop's 19, and so on.
 */
import { timingSafeEqual } from 'node:crypto';
import { ATTRIBUTION_HMACS_LENGTH, ATTRIBUTION_HOLD_TIMES, type AttributionData } from '@lnkit/wire';
import { checkBytes, checkUint, invalidArgument } from './errors.ts';
import { type CreateFailureOptions, createFailurePacket } from './failure.ts';
import type { FailureMessage } from './failure-messages.ts';
import { chacha20Xor, generateKey, hmac, KEY_AMMAG, KEY_UM } from './sphinx-keys.ts';

const MAX_HOPS = ATTRIBUTION_HOLD_TIMES;
const HOLD_TIME_LENGTH = 4;
const HMAC_LENGTH = 4;
const HOLD_TIMES_BYTES = MAX_HOPS * HOLD_TIME_LENGTH;
/** hold times and HMACs, as one block (what `ammagext` obfuscates). */
export const ATTRIBUTION_LENGTH = HOLD_TIMES_BYTES + ATTRIBUTION_HMACS_LENGTH;
const KEY_AMMAGEXT = Buffer.from('ammagext');
const EMPTY = new Uint8Array(0);

function hmacAt(block: Uint8Array, index: number): Uint8Array {
  const at = HOLD_TIMES_BYTES + index * HMAC_LENGTH;
  return block.subarray(at, at + HMAC_LENGTH);
}

/**
 * The truncated HMAC this hop writes for `position` (hops between it and the end of the chain):
 * over the message, the first position + 1 hold times and the `position` HMACs the hops
 * downstream wrote for their own positions — hop j's block starts after 20 + 19 + … entries.
 */
function positionHmac(block: Uint8Array, um: Uint8Array, message: Uint8Array, position: number): Uint8Array {
  const parts: Uint8Array[] = [message, block.subarray(0, (position + 1) * HOLD_TIME_LENGTH)];
  let index = 2 * MAX_HOPS - position - 1;
  for (let j = 0; j < position; j++) {
    parts.push(hmacAt(block, index));
    index += MAX_HOPS - j - 1;
  }
  return hmac(um, ...parts).subarray(0, HMAC_LENGTH);
}

/** Makes room in front for this hop: hold times one slot right, each hop's HMAC block one hop on, pruned. */
function shiftRight(block: Uint8Array): Uint8Array {
  const out = new Uint8Array(ATTRIBUTION_LENGTH);
  out.set(block.subarray(0, HOLD_TIMES_BYTES - HOLD_TIME_LENGTH), HOLD_TIME_LENGTH);
  // Block b (b = 0 is the 20 HMACs of the hop just downstream) becomes block b + 1, which has
  // one entry fewer: its entry for the farthest position is dropped.
  let from = 0;
  let to = MAX_HOPS;
  for (let b = 0; b < MAX_HOPS - 1; b++) {
    const size = MAX_HOPS - b;
    out.set(
      block.subarray(
        HOLD_TIMES_BYTES + (from + 1) * HMAC_LENGTH,
        HOLD_TIMES_BYTES + (from + size) * HMAC_LENGTH,
      ),
      HOLD_TIMES_BYTES + to * HMAC_LENGTH,
    );
    from += size;
    to += size - 1;
  }
  return out;
}

/** The origin's inverse of shiftRight, after checking a hop: the next hop's data in front. */
function shiftLeft(block: Uint8Array): Uint8Array {
  const out = new Uint8Array(ATTRIBUTION_LENGTH);
  out.set(block.subarray(HOLD_TIME_LENGTH, HOLD_TIMES_BYTES), 0);
  let from = MAX_HOPS;
  let to = 0;
  for (let b = 0; b < MAX_HOPS - 1; b++) {
    const size = MAX_HOPS - b - 1;
    out.set(
      block.subarray(HOLD_TIMES_BYTES + from * HMAC_LENGTH, HOLD_TIMES_BYTES + (from + size) * HMAC_LENGTH),
      HOLD_TIMES_BYTES + (to + 1) * HMAC_LENGTH,
    );
    from += size;
    to += size + 1;
  }
  return out;
}

/** This hop's update: its hold time first, its 20 HMACs over `message`, then its `ammagext` layer. */
function addHop(
  sharedSecret: Uint8Array,
  message: Uint8Array,
  downstream: Uint8Array | undefined,
  holdTime: number,
): Uint8Array {
  checkBytes(sharedSecret, 32, 'shared secret');
  checkUint(holdTime, 0xffff_ffff, 'holdTime');
  // BOLT 4: without attribution data from downstream, start from an all-zero block.
  const block = downstream
    ? shiftRight(checkBytes(downstream, ATTRIBUTION_LENGTH, 'attribution data'))
    : new Uint8Array(ATTRIBUTION_LENGTH);
  new DataView(block.buffer, block.byteOffset).setUint32(0, holdTime);
  const um = generateKey(KEY_UM, sharedSecret);
  for (let i = 0; i < MAX_HOPS; i++) hmacAt(block, i).set(positionHmac(block, um, message, MAX_HOPS - i - 1));
  return chacha20Xor(generateKey(KEY_AMMAGEXT, sharedSecret), block);
}

/** A failure with attribution data, at the erring hop: what update_fail_htlc carries. */
export interface AttributedFailure {
  reason: Uint8Array;
  attributionData: Uint8Array;
}

/**
 * The erring hop's failure and attribution data. `holdTime` is how long it held the HTLC, in
 * units of 100 ms (0 when it does not measure it).
 */
export function createAttributedFailure(
  sharedSecret: Uint8Array,
  failure: FailureMessage | Uint8Array,
  holdTime: number,
  options: CreateFailureOptions = {},
): AttributedFailure {
  const reason = createFailurePacket(sharedSecret, failure, options);
  // The HMACs cover the return packet before this hop's obfuscation.
  const plain = chacha20Xor(generateKey(KEY_AMMAG, sharedSecret), reason);
  return { reason, attributionData: addHop(sharedSecret, plain, undefined, holdTime) };
}

/**
 * What a hop on the way back does to the failure it got from downstream (BOLT 4 "Intermediate
 * nodes"): obfuscate the reason, and update the attribution data — or start it, when the
 * downstream hop sent none.
 */
export function wrapAttributedFailure(
  sharedSecret: Uint8Array,
  reason: Uint8Array,
  attributionData: Uint8Array | undefined,
  holdTime: number,
): AttributedFailure {
  if (!(reason instanceof Uint8Array)) throw invalidArgument('failure packet must be a Uint8Array');
  return {
    attributionData: addHop(sharedSecret, reason, attributionData, holdTime),
    reason: chacha20Xor(generateKey(KEY_AMMAG, sharedSecret), reason),
  };
}

/** update_fulfill_htlc's attribution data at each hop back from the recipient (no return packet). */
export function attributeFulfill(
  sharedSecret: Uint8Array,
  attributionData: Uint8Array | undefined,
  holdTime: number,
): Uint8Array {
  return addHop(sharedSecret, EMPTY, attributionData, holdTime);
}

export interface VerifiedAttribution {
  /** The hold times the hops committed to, from the first hop on, in units of 100 ms. */
  holdTimes: number[];
  /**
   * The first hop whose HMAC does not check out: the data was changed between it and the hop
   * before (BOLT 4 can blame only the pair). Undefined when every hop of the route checks out.
   */
  invalidAt: number | undefined;
}

function verify(
  sharedSecrets: readonly Uint8Array[],
  attributionData: Uint8Array,
  reason: Uint8Array | undefined,
): VerifiedAttribution {
  if (!Array.isArray(sharedSecrets) || sharedSecrets.length === 0 || sharedSecrets.length > MAX_HOPS)
    throw invalidArgument(`attribution covers routes of 1 to ${MAX_HOPS} hops`);
  for (const [i, s] of sharedSecrets.entries()) checkBytes(s, 32, `shared secret ${i}`);
  let block = checkBytes(attributionData, ATTRIBUTION_LENGTH, 'attribution data');
  let packet = reason;
  const holdTimes: number[] = [];
  for (let i = 0; i < sharedSecrets.length; i++) {
    const ss = sharedSecrets[i]!;
    block = chacha20Xor(generateKey(KEY_AMMAGEXT, ss), block);
    if (packet) packet = chacha20Xor(generateKey(KEY_AMMAG, ss), packet);
    // Positions count from the route's last hop: an earlier erring hop's HMACs covered zeros there.
    const position = sharedSecrets.length - i - 1;
    const expected = positionHmac(block, generateKey(KEY_UM, ss), packet ?? EMPTY, position);
    if (!timingSafeEqual(expected, hmacAt(block, MAX_HOPS - position - 1)))
      return { holdTimes, invalidAt: i };
    holdTimes.push(new DataView(block.buffer, block.byteOffset).getUint32(0));
    block = shiftLeft(block);
  }
  return { holdTimes, invalidAt: undefined };
}

/**
 * The origin's check of a failure's attribution data, with the route's shared secrets. Use it beside
 * decryptFailurePacket: when that cannot attribute the failure, `invalidAt` says where it was broken.
 */
export function verifyFailureAttribution(
  sharedSecrets: readonly Uint8Array[],
  reason: Uint8Array,
  attributionData: Uint8Array,
): VerifiedAttribution {
  if (!(reason instanceof Uint8Array)) throw invalidArgument('failure packet must be a Uint8Array');
  return verify(sharedSecrets, attributionData, reason);
}

/** The origin's check of update_fulfill_htlc's attribution data: the hold times of a success. */
export function verifyFulfillAttribution(
  sharedSecrets: readonly Uint8Array[],
  attributionData: Uint8Array,
): VerifiedAttribution {
  return verify(sharedSecrets, attributionData, undefined);
}

/** wire's `AttributionData` (update_fail_htlc / update_fulfill_htlc TLV 1) from the 920-byte block. */
export function attributionToWire(block: Uint8Array): AttributionData {
  checkBytes(block, ATTRIBUTION_LENGTH, 'attribution data');
  const view = new DataView(block.buffer, block.byteOffset, block.byteLength);
  return {
    htlcHoldTimes: Array.from({ length: MAX_HOPS }, (_, i) => view.getUint32(i * HOLD_TIME_LENGTH)),
    truncatedHmacs: block.slice(HOLD_TIMES_BYTES),
  };
}

/** The 920-byte block from wire's `AttributionData`. */
export function attributionFromWire(data: AttributionData): Uint8Array {
  if (!Array.isArray(data.htlcHoldTimes) || data.htlcHoldTimes.length !== MAX_HOPS)
    throw invalidArgument(`htlcHoldTimes must have ${MAX_HOPS} entries`);
  checkBytes(data.truncatedHmacs, ATTRIBUTION_HMACS_LENGTH, 'truncatedHmacs');
  const block = new Uint8Array(ATTRIBUTION_LENGTH);
  const view = new DataView(block.buffer);
  data.htlcHoldTimes.forEach((t, i) => {
    view.setUint32(i * HOLD_TIME_LENGTH, checkUint(t, 0xffff_ffff, 'hold time'));
  });
  block.set(data.truncatedHmacs, HOLD_TIMES_BYTES);
  return block;
}

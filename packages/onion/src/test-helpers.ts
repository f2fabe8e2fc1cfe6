/** Helpers shared by this package's tests (not exported from the package). */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { secp } from '@lnkit/crypto';
import { decodeBigSize } from '@lnkit/wire';
import type { NodeEcdh } from './peel.ts';

export const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));
export const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

export function fixture<T = unknown>(name: string): T {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as T;
}

export function fixtureSha256(name: string): string {
  return createHash('sha256')
    .update(readFileSync(new URL(`./fixtures/${name}`, import.meta.url)))
    .digest('hex');
}

/** The vectors give payloads with their BigSize length in front; the builder takes them without. */
export function stripLength(payload: Uint8Array): Uint8Array {
  const { value, length } = decodeBigSize(payload, 0);
  if (Number(value) !== payload.length - length) throw new Error('vector payload length mismatch');
  return payload.subarray(length);
}

/** An in-thread ECDH with a known node key (tests only; the node uses the signer pool's). */
export function ecdhWith(privateKey: Uint8Array): NodeEcdh {
  return async (publicKey) => secp.ecdh(privateKey, publicKey);
}

/** A deterministic byte generator for the fuzz tests (xorshift32). */
export class Rng {
  #s: number;
  constructor(seed: number) {
    this.#s = seed >>> 0 || 1;
  }
  next(): number {
    let x = this.#s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#s = x >>> 0;
    return this.#s;
  }
  int(n: number): number {
    return this.next() % n;
  }
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.next() & 0xff;
    return out;
  }
}

/** n nodes with fixed keys (0x41…, 0x42…, as the BOLT vectors use). */
export function testNodes(n: number): { privateKey: Uint8Array; nodeId: Uint8Array }[] {
  return Array.from({ length: n }, (_, i) => {
    const privateKey = new Uint8Array(32).fill(0x41 + i);
    return { privateKey, nodeId: secp.publicKey(privateKey) };
  });
}

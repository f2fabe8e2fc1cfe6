/**
 * Fallback addresses (`f` fields) as on-chain addresses and output scripts: version 17 is
 * P2PKH and 18 P2SH (base58check), 0-16 a witness program (bech32 for v0, bech32m after,
 * BIP 173 / BIP 350). For showing an invoice and for paying its fallback; not on the hot path.
 */
import { sha256d } from '@lnkit/crypto';
import { bytesToWords, decodeBech32, encodeBech32, wordsToBytes } from './bech32.ts';
import { InvoiceError } from './errors.ts';
import { checkFallback, type Fallback } from './fields.ts';
import type { Network } from './hrp.ts';

const SEGWIT_HRP: Record<Network, string> = { bitcoin: 'bc', testnet: 'tb', signet: 'tb', regtest: 'bcrt' };
/** Base58 version bytes: P2PKH, P2SH (testnet, signet and regtest share theirs). */
const BASE58_VERSION: Record<Network, [number, number]> = {
  bitcoin: [0x00, 0x05],
  testnet: [0x6f, 0xc4],
  signet: [0x6f, 0xc4],
  regtest: [0x6f, 0xc4],
};
const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

function base58(bytes: Uint8Array): string {
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  let out = '';
  while (n > 0n) {
    out = ALPHABET[Number(n % 58n)]! + out;
    n /= 58n;
  }
  for (const b of bytes) {
    if (b !== 0) break;
    out = `1${out}`;
  }
  return out;
}

function unbase58(text: string): Uint8Array | null {
  let n = 0n;
  for (const c of text) {
    const v = ALPHABET.indexOf(c);
    if (v < 0) return null;
    n = n * 58n + BigInt(v);
  }
  const body: number[] = [];
  while (n > 0n) {
    body.unshift(Number(n & 0xffn));
    n >>= 8n;
  }
  let zeros = 0;
  while (text[zeros] === '1') zeros++;
  return Uint8Array.from([...new Array(zeros).fill(0), ...body]);
}

function base58check(version: number, payload: Uint8Array): string {
  const data = Uint8Array.from([version, ...payload]);
  return base58(Uint8Array.from([...data, ...sha256d(data).subarray(0, 4)]));
}

/** The fallback as an address of `network`. */
export function fallbackAddress(fallback: Fallback, network: Network): string {
  checkFallback(fallback, (m) => new InvoiceError('invalid-argument', `fallback ${m}`));
  const versions = BASE58_VERSION[network];
  if (!versions) throw new InvoiceError('invalid-argument', `unknown network ${String(network)}`);
  if (fallback.version === 17) return base58check(versions[0], fallback.program);
  if (fallback.version === 18) return base58check(versions[1], fallback.program);
  const words = Uint8Array.from([fallback.version, ...bytesToWords(fallback.program)]);
  return encodeBech32(SEGWIT_HRP[network], words, fallback.version === 0 ? 'bech32' : 'bech32m');
}

/** An address of `network` as an `f` field's value; InvoiceError `invalid-argument` if it is not one. */
export function fallbackFromAddress(address: string, network: Network): Fallback {
  const bad = (why: string) =>
    new InvoiceError('invalid-argument', `"${address}" is not a ${network} address: ${why}`);
  const hrp = SEGWIT_HRP[network];
  if (hrp === undefined) throw new InvoiceError('invalid-argument', `unknown network ${String(network)}`);
  if (address.toLowerCase().startsWith(`${hrp}1`)) {
    const decoded = segwitDecode(address, bad);
    const version = decoded.words[0];
    if (version === undefined || version > 16) throw bad('no witness version 0-16');
    // BIP 350: v0 uses bech32, v1 and later bech32m.
    if ((version === 0) !== (decoded.variant === 'bech32'))
      throw bad('wrong checksum variant for its version');
    let program: Uint8Array;
    try {
      program = wordsToBytes(decoded.words.subarray(1), 'witness program');
    } catch (e) {
      throw bad((e as Error).message);
    }
    const fallback = { version, program };
    checkFallback(fallback, bad);
    return fallback;
  }
  const raw = unbase58(address);
  if (raw?.length !== 25) throw bad('not base58check of 21 bytes');
  const check = sha256d(raw.subarray(0, 21)).subarray(0, 4);
  if (!check.every((b, i) => b === raw[21 + i])) throw bad('base58 checksum is invalid');
  const [p2pkh, p2sh] = BASE58_VERSION[network];
  const version = raw[0] === p2pkh ? 17 : raw[0] === p2sh ? 18 : -1;
  if (version < 0) throw bad(`version byte ${raw[0]} is not this network's`);
  return { version, program: raw.slice(1, 21) };
}

function segwitDecode(address: string, bad: (why: string) => InvoiceError) {
  for (const variant of ['bech32', 'bech32m'] as const) {
    try {
      return { ...decodeBech32(address, variant), variant };
    } catch (e) {
      if (!(e instanceof InvoiceError && e.code === 'bad-checksum')) throw bad((e as Error).message);
    }
  }
  throw bad('bech32 checksum is invalid');
}

/** The output script a payment to the fallback creates. */
export function fallbackScriptPubKey(fallback: Fallback): Uint8Array {
  checkFallback(fallback, (m) => new InvoiceError('invalid-argument', `fallback ${m}`));
  const p = fallback.program;
  // OP_DUP OP_HASH160 <20> OP_EQUALVERIFY OP_CHECKSIG; OP_HASH160 <20> OP_EQUAL; OP_n <program>.
  if (fallback.version === 17) return Uint8Array.from([0x76, 0xa9, 20, ...p, 0x88, 0xac]);
  if (fallback.version === 18) return Uint8Array.from([0xa9, 20, ...p, 0x87]);
  return Uint8Array.from([fallback.version === 0 ? 0 : 0x50 + fallback.version, p.length, ...p]);
}

/**
 * Address text ⇄ scriptPubKey for the wallet's network. The wallet itself works with scripts
 * (DESIGN.md: bcoin's regtest writes `rb`, Bitcoin Core's `bcrt`, for the same script); text
 * appears only at the edges: newAddress() and paying an address.
 */
import { address as btcAddress } from 'bitcoinjs-lib';
import { WalletError } from './errors.ts';
import type { NetworkParams } from './network.ts';

/** BIP 173 / BIP 350 text of a witness output script (v0 bech32, v1+ bech32m). */
export function addressFromScript(script: Uint8Array, network: NetworkParams): string {
  const program = witnessProgram(script);
  if (!program) throw new WalletError('invalid-argument', 'only witness output scripts have an address here');
  return btcAddress.toBech32(program.data, program.version, network.bech32Prefix);
}

/**
 * The scriptPubKey an address pays: P2PKH / P2SH (base58) of the network, or any witness
 * version (BIP 173 / BIP 350) with one of the network's prefixes.
 */
export function scriptFromAddress(text: string, network: NetworkParams): Uint8Array {
  if (typeof text !== 'string' || text.length === 0 || text.length > 90)
    throw new WalletError(
      'invalid-address',
      'an address must be a non-empty string of at most 90 characters',
    );
  let base58: { version: number; hash: Uint8Array } | undefined;
  try {
    base58 = btcAddress.fromBase58Check(text);
  } catch {
    base58 = undefined;
  }
  if (base58) {
    const hash = base58.hash;
    if (base58.version === network.bitcoinjs.pubKeyHash)
      return Uint8Array.from([0x76, 0xa9, 0x14, ...hash, 0x88, 0xac]);
    if (base58.version === network.bitcoinjs.scriptHash) return Uint8Array.from([0xa9, 0x14, ...hash, 0x87]);
    throw new WalletError(
      'invalid-address',
      `${text} is a base58 address of another network than ${network.name}`,
    );
  }
  let decoded: { version: number; prefix: string; data: Uint8Array };
  try {
    decoded = btcAddress.fromBech32(text);
  } catch {
    throw new WalletError('invalid-address', `${text} is not a valid base58 or bech32 address`);
  }
  const prefix = decoded.prefix.toLowerCase();
  if (!network.acceptedPrefixes.includes(prefix))
    throw new WalletError(
      'invalid-address',
      `${text} has prefix ${prefix}; ${network.name} addresses start with ${network.acceptedPrefixes.join(' or ')}`,
    );
  const { version, data } = decoded;
  // BIP 141: v0 programs are 20 (P2WPKH) or 32 (P2WSH) bytes; others 2 to 40 bytes.
  const lengthOk =
    version === 0 ? data.length === 20 || data.length === 32 : data.length >= 2 && data.length <= 40;
  if (version > 16 || !lengthOk)
    throw new WalletError(
      'invalid-address',
      `${text} has a witness program of version ${version} and ${data.length} bytes`,
    );
  return Uint8Array.from([version === 0 ? 0x00 : 0x50 + version, data.length, ...data]);
}

/** The version and program of a witness output script (BIP 141), or undefined. */
export function witnessProgram(script: Uint8Array): { version: number; data: Uint8Array } | undefined {
  if (script.length < 4 || script.length > 42) return undefined;
  const op = script[0] as number;
  const version = op === 0x00 ? 0 : op >= 0x51 && op <= 0x60 ? op - 0x50 : -1;
  if (version < 0 || script[1] !== script.length - 2) return undefined;
  return { version, data: script.subarray(2) };
}

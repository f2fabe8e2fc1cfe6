/**
 * BIP 32 / BIP 84 keys of the on-chain wallet: one account, `m/84'/0'/0'` on mainnet and
 * `m/84'/1'/0'` on the test networks, with its receive (external, 0) and change (internal, 1)
 * chains. Native segwit v0 (P2WPKH) outputs, so any BIP 84 wallet given the same BIP 32 master
 * seed finds the same addresses.
 *
 * BIP 32 itself is @scure/bip32's (audited, from the author of noble), not written here: key
 * derivation is where a subtle mistake loses funds silently (a wrong tweak still gives valid
 * keys, just not the ones a recovery wallet derives).
 *
 * The extended keys live in `#private` fields: HDKey's own toJSON prints the xprv, so an HDKey
 * must never reach a logger or JSON.stringify.
 */
import { HDKey } from '@scure/bip32';
import { crypto as btcCrypto } from 'bitcoinjs-lib';
import { WalletError } from './errors.ts';
import type { NetworkParams } from './network.ts';

/** BIP 44 "change" level: 0 for addresses given out (receive), 1 for the wallet's own change. */
export type Keychain = 0 | 1;
export const RECEIVE: Keychain = 0;
export const CHANGE: Keychain = 1;

const HARDENED = 0x8000_0000;
const PURPOSE_BIP84 = 84;

export class AccountKeys {
  readonly #chains: readonly [HDKey, HDKey];
  /** `m/84'/coin'/account'`. */
  readonly path: string;
  /**
   * hash160 of the account's public key (its BIP 32 identifier), hex: public, stored with the
   * wallet so that a data dir is never opened with another seed or network.
   */
  readonly accountIdHex: string;

  private constructor(account: HDKey, path: string) {
    this.#chains = [account.deriveChild(RECEIVE), account.deriveChild(CHANGE)];
    this.path = path;
    const id = account.identifier;
    if (!id) throw new WalletError('invalid-argument', 'the account key has no public key');
    this.accountIdHex = Buffer.from(id).toString('hex');
  }

  /**
   * From a BIP 32 master seed: lnkit's 32-byte `keys_seed`, or any 16–64-byte seed (a BIP 39
   * seed is 64 bytes; the BIP 84 test vectors use one).
   */
  static fromSeed(seed: Uint8Array, network: NetworkParams, account = 0): AccountKeys {
    if (!(seed instanceof Uint8Array) || seed.length < 16 || seed.length > 64)
      throw new WalletError('invalid-argument', 'a BIP 32 seed must be 16 to 64 bytes');
    if (!Number.isInteger(account) || account < 0 || account >= HARDENED)
      throw new WalletError('invalid-argument', `account must be an integer in [0, 2^31); got ${account}`);
    const path = `m/${PURPOSE_BIP84}'/${network.coinType}'/${account}'`;
    const master = HDKey.fromMasterSeed(seed, network.bip32Versions);
    return new AccountKeys(master.derive(path), path);
  }

  publicKey(chain: Keychain, index: number): Uint8Array {
    const key = this.child(chain, index).publicKey;
    if (!key) throw new WalletError('invalid-argument', `no public key at ${this.path}/${chain}/${index}`);
    return key;
  }

  /** A secret: for signing only, never logged or stored. */
  privateKey(chain: Keychain, index: number): Uint8Array {
    const key = this.child(chain, index).privateKey;
    if (!key) throw new WalletError('invalid-argument', `no private key at ${this.path}/${chain}/${index}`);
    return key;
  }

  /** The P2WPKH scriptPubKey at `chain/index`. */
  script(chain: Keychain, index: number): Uint8Array {
    return p2wpkhScript(this.publicKey(chain, index));
  }

  private child(chain: Keychain, index: number): HDKey {
    if (chain !== RECEIVE && chain !== CHANGE)
      throw new WalletError('invalid-argument', `keychain must be 0 (receive) or 1 (change); got ${chain}`);
    if (!Number.isInteger(index) || index < 0 || index >= HARDENED)
      throw new WalletError(
        'invalid-argument',
        `address index must be an integer in [0, 2^31); got ${index}`,
      );
    return (this.#chains[chain] as HDKey).deriveChild(index);
  }

  toJSON(): { path: string; accountIdHex: string } {
    return { path: this.path, accountIdHex: this.accountIdHex };
  }
}

/** BIP 141 P2WPKH: `OP_0 <20-byte HASH160(pubkey)>`. */
export function p2wpkhScript(publicKey: Uint8Array): Uint8Array {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 33)
    throw new WalletError('invalid-argument', 'a P2WPKH key must be a 33-byte compressed public key');
  const out = new Uint8Array(22);
  out[0] = 0x00;
  out[1] = 0x14;
  out.set(btcCrypto.hash160(publicKey), 2);
  return out;
}

/**
 * BIP 143's scriptCode for a P2WPKH input: the P2PKH script of the same key hash
 * (`OP_DUP OP_HASH160 <hash> OP_EQUALVERIFY OP_CHECKSIG`).
 */
export function p2wpkhScriptCode(script: Uint8Array): Uint8Array {
  const out = new Uint8Array(25);
  out.set([0x76, 0xa9, 0x14], 0);
  out.set(script.subarray(2, 22), 3);
  out.set([0x88, 0xac], 23);
  return out;
}

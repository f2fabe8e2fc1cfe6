/**
 * The networks the wallet knows, and what each one changes: the BIP 44 coin type in the
 * derivation path, the bech32 prefix of its addresses (BIP 173), the base58 versions of legacy
 * addresses it can pay, and where a new wallet starts following the chain by default.
 */
import type { networks } from 'bitcoinjs-lib';
import { WalletError } from './errors.ts';

/** The node's names for the networks (`@lnkit/node`'s Network). */
export type WalletNetwork = 'bitcoin' | 'testnet' | 'signet' | 'regtest';

/**
 * Bitcoin Core's regtest prefix is `bcrt`; bcoin's regtest (the embedded test chain) uses `rb`.
 * The scripts are the same; only the address text differs.
 */
export type RegtestPrefix = 'bcrt' | 'rb';

type BitcoinjsNetwork = typeof networks.bitcoin;

export interface NetworkParams {
  readonly name: WalletNetwork;
  /** BIP 44 coin type: 0 on mainnet, 1 on every test network (SLIP 44). */
  readonly coinType: number;
  /** The bech32 prefix of the addresses the wallet gives out. */
  readonly bech32Prefix: string;
  /** Prefixes accepted when paying an address (regtest takes both `bcrt` and `rb`). */
  readonly acceptedPrefixes: readonly string[];
  /** BIP 32 serialization versions (xprv/xpub on mainnet, tprv/tpub elsewhere). */
  readonly bip32Versions: { readonly private: number; readonly public: number };
  /** For bitcoinjs-lib's address functions. */
  readonly bitcoinjs: BitcoinjsNetwork;
  /** Display-order hash of the genesis block: a new wallet without a birthday starts there. */
  readonly genesisHashHex: string;
}

const MAINNET_BASE58 = { pubKeyHash: 0x00, scriptHash: 0x05, wif: 0x80 };
const TEST_BASE58 = { pubKeyHash: 0x6f, scriptHash: 0xc4, wif: 0xef };
const MAINNET_BIP32 = { private: 0x0488ade4, public: 0x0488b21e };
const TEST_BIP32 = { private: 0x04358394, public: 0x043587cf };

const GENESIS: Record<WalletNetwork, string> = {
  bitcoin: '000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f',
  testnet: '000000000933ea01ad0ee984209779baaec3ced90fa3f408719526f8d77f4943',
  signet: '00000008819873e925422c1ff0f99f7cc9bbb232af63a077a480a3633bee1ef6',
  regtest: '0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206',
};

export function networkParams(name: WalletNetwork, regtestPrefix: RegtestPrefix = 'bcrt'): NetworkParams {
  if (!(name in GENESIS))
    throw new WalletError(
      'invalid-argument',
      `network must be bitcoin, testnet, signet or regtest; got ${name}`,
    );
  if (regtestPrefix !== 'bcrt' && regtestPrefix !== 'rb')
    throw new WalletError('invalid-argument', `regtestPrefix must be bcrt or rb; got ${regtestPrefix}`);
  const mainnet = name === 'bitcoin';
  const bech32Prefix = mainnet ? 'bc' : name === 'regtest' ? regtestPrefix : 'tb';
  const bip32 = mainnet ? MAINNET_BIP32 : TEST_BIP32;
  return Object.freeze({
    name,
    coinType: mainnet ? 0 : 1,
    bech32Prefix,
    acceptedPrefixes: Object.freeze(name === 'regtest' ? ['bcrt', 'rb'] : [bech32Prefix]),
    bip32Versions: Object.freeze({ ...bip32 }),
    bitcoinjs: Object.freeze({
      messagePrefix: '\x18Bitcoin Signed Message:\n',
      bech32: bech32Prefix,
      bip32,
      ...(mainnet ? MAINNET_BASE58 : TEST_BASE58),
    }),
    genesisHashHex: GENESIS[name],
  });
}

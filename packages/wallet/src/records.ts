/**
 * What the wallet persists, as versioned records (DESIGN.md's durability rule; @lnkit/store's
 * README for the format), in three named databases of the node's store:
 *
 *   wallet-meta          'account' → wallet-account, 'tip' → wallet-tip,
 *                        'keychain-0' / 'keychain-1' → wallet-keychain
 *   wallet-outputs       '<txid>:<vout>' → wallet-output
 *   wallet-reservations  '<txid>' → wallet-reservation
 *
 * Nothing secret is stored: the keys are derived from the seed again at every start.
 */
import { defineRecord, type FieldCodec, fieldCodec as f } from '@lnkit/store';
import type { KeychainState } from './keychain-state.ts';
import type { Keychain } from './keys.ts';
import type { ChainTip, OwnedOutput, Reservation } from './wallet-state.ts';

export const WALLET_DBS = {
  meta: 'wallet-meta',
  outputs: 'wallet-outputs',
  reservations: 'wallet-reservations',
} as const;

export const META_KEYS = {
  account: 'account',
  tip: 'tip',
  keychain: (chain: Keychain) => `keychain-${chain}`,
} as const;

/** Which wallet a data dir holds: opening it with another seed or network is refused. */
export interface WalletAccount {
  network: string;
  /** The BIP 32 path of the account, `m/84'/1'/0'`. */
  path: string;
  /** hash160 of the account's public key (public). */
  accountIdHex: string;
}

export const walletAccountRecord = defineRecord<WalletAccount>({
  kind: 'wallet-account',
  version: 1,
  minReadVersion: 1,
  fields: {
    network: { type: 0, codec: f.utf8 },
    path: { type: 2, codec: f.utf8 },
    accountIdHex: { type: 4, codec: f.hex(20) },
  },
});

export const walletTipRecord = defineRecord<ChainTip>({
  kind: 'wallet-tip',
  version: 1,
  minReadVersion: 1,
  fields: {
    height: { type: 0, codec: f.u32 },
    hashHex: { type: 2, codec: f.hex(32) },
  },
});

export const keychainRecord = defineRecord<KeychainState>({
  kind: 'wallet-keychain',
  version: 1,
  minReadVersion: 1,
  fields: {
    nextIndex: { type: 0, codec: f.u32 },
    usedEnd: { type: 2, codec: f.u32 },
  },
});

const keychainCodec: FieldCodec<Keychain> = {
  name: 'keychain (0 or 1)',
  encode: (k) => {
    if (k !== 0 && k !== 1) throw new RangeError('not 0 or 1');
    return Uint8Array.of(k);
  },
  decode: (b) => {
    if (b.length !== 1 || ((b[0] as number) !== 0 && (b[0] as number) !== 1))
      throw new RangeError('not 0 or 1');
    return b[0] as Keychain;
  },
};

export const outputRecord = defineRecord<OwnedOutput>({
  kind: 'wallet-output',
  version: 1,
  minReadVersion: 1,
  fields: {
    txid: { type: 0, codec: f.hex(32) },
    vout: { type: 2, codec: f.u32 },
    valueSat: { type: 4, codec: f.u64 },
    keychain: { type: 6, codec: keychainCodec },
    keyIndex: { type: 8, codec: f.u32 },
    coinbase: { type: 10, codec: f.bool },
    confirmedHeight: { type: 12, codec: f.u32, optional: true },
    spentByTxid: { type: 14, codec: f.hex(32), optional: true },
    spentHeight: { type: 16, codec: f.u32, optional: true },
  },
});

/** `txid:vout` as 32 bytes of display-order txid and a big-endian u32. */
const outpointKeyCodec: FieldCodec<string> = {
  name: 'outpoint',
  encode: (key) => {
    const m = /^([0-9a-f]{64}):(\d+)$/.exec(key);
    const vout = m ? Number(m[2]) : -1;
    if (!m || !Number.isInteger(vout) || vout < 0 || vout > 0xffff_ffff)
      throw new RangeError('not txid:vout');
    const out = new Uint8Array(36);
    out.set(Buffer.from(m[1] as string, 'hex'), 0);
    new DataView(out.buffer).setUint32(32, vout);
    return out;
  },
  decode: (b) => {
    if (b.length !== 36) throw new RangeError(`length ${b.length}, expected 36`);
    const vout = new DataView(b.buffer, b.byteOffset, 36).getUint32(32);
    return `${Buffer.from(b.subarray(0, 32)).toString('hex')}:${vout}`;
  },
};

export const reservationRecord = defineRecord<Reservation>({
  kind: 'wallet-reservation',
  version: 1,
  minReadVersion: 1,
  fields: {
    txid: { type: 0, codec: f.hex(32) },
    inputs: { type: 2, codec: f.list(outpointKeyCodec, { itemBytes: 36 }) },
    rawTx: { type: 4, codec: f.bytes },
    outputIndex: { type: 6, codec: f.u32 },
    feeSat: { type: 8, codec: f.u64 },
  },
});

// BOLT 1 setup and control messages: init, error, warning, ping, pong, and the
// peer storage pair.
import { decodeAddresses, encodeAddresses, type NodeAddress } from './address.ts';
import { defineMessage, field } from './codec.ts';
import { WireError } from './errors.ts';
import type { Features } from './features.ts';
import type { TlvCodec, WithUnknownTlvs } from './tlv.ts';

export interface Init extends WithUnknownTlvs {
  readonly type: 16;
  readonly kind: 'init';
  /** Legacy field (BOLT 1: "SHOULD NOT set features greater than 13 in globalfeatures"). */
  globalFeatures: Features;
  features: Features;
  /** TLV 1: chains the node is interested in (32-byte chain hashes). */
  networks?: Uint8Array[];
  /** TLV 3: the address the sender sees us at, one address descriptor. */
  remoteAddr?: NodeAddress;
}

const networksTlv: TlvCodec<Uint8Array[]> = {
  type: 1n,
  decode(v, s) {
    if (v.length % 32 !== 0)
      throw new WireError('invalid-tlv', 'networks is not a whole number of chain hashes', s);
    const out: Uint8Array[] = [];
    for (let i = 0; i < v.length; i += 32) out.push(v.slice(i, i + 32));
    return out;
  },
  encode(chains) {
    const out = new Uint8Array(chains.length * 32);
    chains.forEach((c, i) => {
      if (c.length !== 32) throw new WireError('invalid-value', 'chain hash must be 32 bytes');
      out.set(c, i * 32);
    });
    return out;
  },
};

const remoteAddrTlv: TlvCodec<NodeAddress> = {
  type: 3n,
  decode(v, s) {
    const list = decodeAddresses(v, s);
    // BOLT 1: "MUST set it to a valid address descriptor" — exactly one.
    if (list.length !== 1 || !list[0])
      throw new WireError('invalid-tlv', 'remote_addr must hold one address descriptor', s);
    return list[0];
  },
  encode: (a) => encodeAddresses([a]),
};

export const init = defineMessage<Init>({
  type: 16,
  kind: 'init',
  fields: { globalFeatures: field.features, features: field.features },
  tlvs: { networks: networksTlv, remoteAddr: remoteAddrTlv },
});

/** BOLT 1: "MUST combine (bitwise OR) the two feature bitmaps into one logical features map". */
export function initFeatures(msg: Pick<Init, 'globalFeatures' | 'features'>): Features {
  return msg.globalFeatures.or(msg.features);
}

export interface ErrorMessage extends WithUnknownTlvs {
  readonly type: 17;
  readonly kind: 'error';
  /** All zero: every channel with the peer. */
  channelId: Uint8Array;
  data: Uint8Array;
}
export const error = defineMessage<ErrorMessage>({
  type: 17,
  kind: 'error',
  fields: { channelId: field.bytes32, data: field.u16Bytes },
});

export interface Warning extends WithUnknownTlvs {
  readonly type: 1;
  readonly kind: 'warning';
  channelId: Uint8Array;
  data: Uint8Array;
}
export const warning = defineMessage<Warning>({
  type: 1,
  kind: 'warning',
  fields: { channelId: field.bytes32, data: field.u16Bytes },
});

export interface Ping extends WithUnknownTlvs {
  readonly type: 18;
  readonly kind: 'ping';
  numPongBytes: number;
  /** BOLT 1: "SHOULD set ignored to 0s". */
  ignored: Uint8Array;
}
export const ping = defineMessage<Ping>({
  type: 18,
  kind: 'ping',
  fields: { numPongBytes: field.u16, ignored: field.u16Bytes },
});

/** BOLT 1: a ping whose num_pong_bytes is 65532 or more gets no pong. */
export const PING_NO_REPLY_THRESHOLD = 65532;

export interface Pong extends WithUnknownTlvs {
  readonly type: 19;
  readonly kind: 'pong';
  ignored: Uint8Array;
}
export const pong = defineMessage<Pong>({
  type: 19,
  kind: 'pong',
  fields: { ignored: field.u16Bytes },
});

export interface PeerStorage extends WithUnknownTlvs {
  readonly type: 7;
  readonly kind: 'peer_storage';
  blob: Uint8Array;
}
export const peerStorage = defineMessage<PeerStorage>({
  type: 7,
  kind: 'peer_storage',
  fields: { blob: field.u16Bytes },
});

export interface PeerStorageRetrieval extends WithUnknownTlvs {
  readonly type: 9;
  readonly kind: 'peer_storage_retrieval';
  blob: Uint8Array;
}
export const peerStorageRetrieval = defineMessage<PeerStorageRetrieval>({
  type: 9,
  kind: 'peer_storage_retrieval',
  fields: { blob: field.u16Bytes },
});

/** Printable-ASCII text of an error/warning `data`, or undefined (BOLT 1: "SHOULD NOT print out data verbatim" otherwise). */
export function printableData(data: Uint8Array): string | undefined {
  if (!data.every((b) => b >= 32 && b <= 126)) return undefined;
  return String.fromCharCode(...data);
}

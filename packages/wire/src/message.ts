// The Message union and the type-number dispatch: encodeMessage / decodeMessage.

import * as channel from './channel.ts';
import type { MessageCodec } from './codec.ts';
import { WireError } from './errors.ts';
import * as gossip from './gossip.ts';
import * as htlc from './htlc.ts';
import * as itx from './interactive.ts';
import * as query from './query.ts';
import * as setup from './setup.ts';

/** Every message this package decodes. Discriminate on `kind` (or `type`). */
export type Message =
  | setup.Init
  | setup.ErrorMessage
  | setup.Warning
  | setup.Ping
  | setup.Pong
  | setup.PeerStorage
  | setup.PeerStorageRetrieval
  | channel.OpenChannel
  | channel.AcceptChannel
  | channel.FundingCreated
  | channel.FundingSigned
  | channel.ChannelReady
  | channel.Shutdown
  | channel.ClosingSigned
  | channel.ClosingComplete
  | channel.ClosingSig
  | channel.Stfu
  | htlc.UpdateAddHtlc
  | htlc.UpdateFulfillHtlc
  | htlc.UpdateFailHtlc
  | htlc.UpdateFailMalformedHtlc
  | htlc.CommitmentSigned
  | htlc.RevokeAndAck
  | htlc.UpdateFee
  | htlc.ChannelReestablish
  | htlc.StartBatch
  | itx.TxAddInput
  | itx.TxAddOutput
  | itx.TxRemoveInput
  | itx.TxRemoveOutput
  | itx.TxComplete
  | itx.TxSignatures
  | itx.TxInitRbf
  | itx.TxAckRbf
  | itx.TxAbort
  | itx.OpenChannel2
  | itx.AcceptChannel2
  | itx.SpliceInit
  | itx.SpliceAck
  | itx.SpliceLocked
  | gossip.AnnouncementSignatures
  | gossip.ChannelAnnouncement
  | gossip.NodeAnnouncement
  | gossip.ChannelUpdate
  | query.QueryShortChannelIds
  | query.ReplyShortChannelIdsEnd
  | query.QueryChannelRange
  | query.ReplyChannelRange
  | query.GossipTimestampFilter;

/**
 * A message whose type this package does not know. BOLT 1: the caller MUST ignore
 * it if `type` is odd and MUST close the connection if it is even.
 */
export interface UnknownMessage {
  readonly kind: 'unknown';
  readonly type: number;
  readonly payload: Uint8Array;
}

export type MessageKind = Message['kind'];
export type MessageOfKind<K extends MessageKind> = Extract<Message, { kind: K }>;

/** Every codec, in type order. */
export const MESSAGE_CODECS: readonly MessageCodec<Message>[] = [
  setup.warning,
  channel.stfu,
  setup.peerStorage,
  setup.peerStorageRetrieval,
  setup.init,
  setup.error,
  setup.ping,
  setup.pong,
  channel.openChannel,
  channel.acceptChannel,
  channel.fundingCreated,
  channel.fundingSigned,
  channel.channelReady,
  channel.shutdown,
  channel.closingSigned,
  channel.closingComplete,
  channel.closingSig,
  itx.openChannel2,
  itx.acceptChannel2,
  itx.txAddInput,
  itx.txAddOutput,
  itx.txRemoveInput,
  itx.txRemoveOutput,
  itx.txComplete,
  itx.txSignatures,
  itx.txInitRbf,
  itx.txAckRbf,
  itx.txAbort,
  itx.spliceLocked,
  itx.spliceInit,
  itx.spliceAck,
  htlc.startBatch,
  htlc.updateAddHtlc,
  htlc.updateFulfillHtlc,
  htlc.updateFailHtlc,
  htlc.commitmentSigned,
  htlc.revokeAndAck,
  htlc.updateFee,
  htlc.updateFailMalformedHtlc,
  htlc.channelReestablish,
  gossip.channelAnnouncement,
  gossip.nodeAnnouncement,
  gossip.channelUpdate,
  gossip.announcementSignatures,
  query.queryShortChannelIds,
  query.replyShortChannelIdsEnd,
  query.queryChannelRange,
  query.replyChannelRange,
  query.gossipTimestampFilter,
] as unknown as MessageCodec<Message>[];

const byType = new Map<number, MessageCodec<Message>>();
const byKind = new Map<string, MessageCodec<Message>>();
for (const c of MESSAGE_CODECS) {
  byType.set(c.type, c);
  byKind.set(c.kind, c);
}

/** Type number → kind, for every known message. */
export function messageKinds(): ReadonlyMap<number, string> {
  return new Map([...byType].map(([t, c]) => [t, c.kind]));
}

/** 2-byte type + payload (+ TLV extension). Throws WireError on a value that cannot be encoded. */
export function encodeMessage(msg: Message | UnknownMessage): Uint8Array {
  if (msg.kind === 'unknown') {
    if (!Number.isInteger(msg.type) || msg.type < 0 || msg.type > 0xffff)
      throw new WireError('invalid-value', 'message type out of range');
    const out = new Uint8Array(2 + msg.payload.length);
    out[0] = msg.type >> 8;
    out[1] = msg.type & 0xff;
    out.set(msg.payload, 2);
    return out;
  }
  const codec = byKind.get(msg.kind);
  if (!codec) throw new WireError('unknown-message', `no codec for ${String(msg.kind)}`);
  return codec.encode(msg);
}

/**
 * Decodes one message (as framed by the transport). An unknown type is returned as
 * UnknownMessage for the caller to apply the even/odd rule; a malformed known
 * message throws WireError, and nothing else.
 */
export function decodeMessage(bytes: Uint8Array): Message | UnknownMessage {
  if (bytes.length < 2) throw new WireError('truncated', 'message shorter than its 2-byte type');
  const type = (bytes[0]! << 8) | bytes[1]!;
  const codec = byType.get(type);
  if (!codec) return { kind: 'unknown', type, payload: bytes.slice(2) };
  return codec.decodePayload(bytes.subarray(2));
}

/** BOLT 1 "it's ok to be odd": whether an unknown message type may be ignored. */
export function isOddType(type: number | bigint): boolean {
  return BigInt(type) % 2n === 1n;
}

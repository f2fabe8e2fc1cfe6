// @lnkit/wire — BOLT 1/2/7/9 codecs. Pure functions, no I/O, no state.

export { decodeAddresses, encodeAddresses, formatAddress, type NodeAddress } from './address.ts';
export { bigSizeLength, decodeBigSize, encodeBigSize, MAX_U64 } from './bigsize.ts';
export { ByteReader, ByteWriter, bytesEqual, concatBytes } from './bytes.ts';
export {
  type BaseMessage,
  defineMessage,
  type FieldCodec,
  field,
  type MessageCodec,
  type WithExtraData,
} from './codec.ts';
export { WireError, type WireErrorCode } from './errors.ts';
export {
  type FeatureContext,
  type FeatureName,
  type FeatureProblem,
  Features,
  featureForBit,
  featureProblems,
  KNOWN_FEATURES,
  type KnownFeature,
  knownFeature,
  validateFeatures,
} from './features.ts';
export {
  decodeMessage,
  encodeMessage,
  isOddType,
  type Message,
  type MessageKind,
  type MessageOfKind,
  messageKinds,
  type UnknownMessage,
} from './message.ts';
export {
  formatShortChannelId,
  parseShortChannelId,
  type ShortChannelIdParts,
  scidBlock,
  scidOutputIndex,
  scidParts,
  scidTxIndex,
  shortChannelId,
} from './scid.ts';
export {
  type ErrorMessage,
  error,
  type Init,
  init,
  initFeatures,
  type PeerStorage,
  type PeerStorageRetrieval,
  PING_NO_REPLY_THRESHOLD,
  type Ping,
  type Pong,
  peerStorage,
  peerStorageRetrieval,
  ping,
  pong,
  printableData,
  type Warning,
  warning,
} from './setup.ts';
export {
  decodeTlvs,
  decodeTruncated,
  encodeTlvs,
  encodeTruncated,
  readTlvStream,
  type TlvCodec,
  type TlvRecord,
  type TlvSchema,
  tlv,
  type WithUnknownTlvs,
  writeTlvStream,
} from './tlv.ts';

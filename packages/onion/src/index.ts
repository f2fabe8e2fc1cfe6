// @lnkit/onion — BOLT 4 onion routing: build, peel, failures, route blinding. Pure functions;
// the node key is reached only through the ECDH function the caller passes in.

export {
  ATTRIBUTION_LENGTH,
  type AttributedFailure,
  attributeFulfill,
  attributionFromWire,
  attributionToWire,
  createAttributedFailure,
  type VerifiedAttribution,
  verifyFailureAttribution,
  verifyFulfillAttribution,
  wrapAttributedFailure,
} from './attribution.ts';
export {
  type BlindedHop,
  type BlindedPath,
  type BlindedPathHopInput,
  type BlindedPayInfo,
  blindedForwardValues,
  blindedPayInfo,
  blindingTweak,
  type CreateBlindedPath,
  createBlindedPath,
  decodeEncryptedData,
  decryptRecipientData,
  type EncryptedData,
  encodeEncryptedData,
  nextPathKey,
  type PaymentConstraints,
  type PaymentRelay,
} from './blinding.ts';
export { curveBackend } from './curve.ts';
export { type FailureReply, OnionError, type OnionErrorCode } from './errors.ts';
export {
  type CreateFailureOptions,
  createFailurePacket,
  type DecryptedFailure,
  type DecryptFailureOptions,
  decryptFailurePacket,
  FAILURE_DECRYPT_ROUNDS,
  FAILURE_PAD_TO,
  failPeeledHtlc,
  failureFromMalformed,
  type HtlcFailureReply,
  type MalformedFailure,
  replyForOnionError,
  wrapFailurePacket,
} from './failure.ts';
export {
  BADONION,
  decodeFailureMessage,
  encodeFailureMessage,
  FAILURE_CODES,
  type FailureMessage,
  type FailureName,
  failureCode,
  failureFlags,
  failureName,
  NODE,
  PERM,
  parseFailureChannelUpdate,
  UPDATE,
} from './failure-messages.ts';
export {
  CUSTOM_RECORD_MIN_TYPE,
  decodeHopPayload,
  encodeHopPayload,
  type HopPayload,
  hopPayloadSize,
  PayloadProblem,
  type PaymentData,
  TLV_KEYSEND_PREIMAGE,
} from './payload.ts';
export {
  type BuildPaymentOnion,
  buildPaymentOnion,
  PAYMENT_ONION_LENGTH,
  type PaymentOnion,
  type PaymentOnionHop,
  type Recipient,
  type RouteHop,
  routePayloads,
} from './payment.ts';
export {
  type BlindedContext,
  type BlindedRole,
  type ForwardPayment,
  type IncomingHtlc,
  type NodeEcdh,
  type PeeledPayment,
  peelPaymentOnion,
  type ReceivePayment,
} from './peel.ts';
export {
  buildPacket,
  HOP_PAYLOADS_LENGTH,
  hopDataLength,
  type ParsedPacket,
  type PeeledPacket,
  type PeelPacket,
  parsePacket,
  peelOnionPacket,
  type SphinxBuild,
  sharedSecretsFor,
  type Unwrapped,
  unwrapPacket,
} from './sphinx.ts';

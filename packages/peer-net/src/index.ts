export { Connection, type ConnectionOptions } from './connection.ts';
export { PeerNetError, type PeerNetErrorCode } from './errors.ts';
export { describeFeatures, type FeatureInfo, LNKIT_INIT_FEATURES } from './features.ts';
export {
  CipherState,
  type FrameSealer,
  type FrameSealRequest,
  HandshakeInitiator,
  HandshakeResponder,
  hkdf,
  MAX_MESSAGE_SIZE,
  MessageDecryptor,
  MessageEncryptor,
  type NodeKeyEcdh,
  nodeKeyEcdh,
  type TransportKeys,
} from './noise.ts';
export {
  type ConnectOptions,
  type PeerEvent,
  type PeerInfo,
  PeerManager,
  type PeerManagerOptions,
  type PeerMessage,
} from './peer-manager.ts';
export { connectionWarning, PeerSession, type SessionEffect, type SessionOptions } from './session.ts';

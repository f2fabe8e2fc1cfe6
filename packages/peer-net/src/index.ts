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
  type ConnectionId,
  type ConnectionRecord,
  type ConnectRequest,
  type ConnectResult,
  type DirectoryEffect,
  type Peer,
  type PeerAddress,
  PeerDirectory,
  type PeerDirectoryOptions,
  type Persistence,
} from './peer-directory.ts';
export {
  type ConnectionStats,
  type ConnectOptions,
  type PeerEvent,
  type PeerInfo,
  PeerManager,
  type PeerManagerOptions,
  type PeerMessage,
  type PeerState,
} from './peer-manager.ts';
export { peerManagerActor } from './peer-net.module.ts';
export {
  checkReconnectPolicy,
  DEFAULT_RECONNECT_POLICY,
  failuresAfterDrop,
  type ReconnectPolicy,
  redialDelayMs,
} from './reconnect-policy.ts';
export {
  connectionWarning,
  PeerSession,
  type SessionCounters,
  type SessionEffect,
  type SessionOptions,
} from './session.ts';

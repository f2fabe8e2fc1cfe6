export {
  Connection,
  type ConnectionOptions,
  DEFAULT_MAX_QUEUE_BYTES,
  SOCKET_WRITE_BUFFER_BYTES,
} from './connection.ts';
export {
  type Admission,
  addressGroup,
  DEFAULT_INBOUND_LIMITS,
  DEFAULT_MAX_DIALS_IN_FLIGHT,
  DialSlots,
  InboundAdmission,
  type InboundLimits,
  type InboundRefusal,
} from './connection-limits.ts';
export { PeerNetError, type PeerNetErrorCode } from './errors.ts';
export { describeFeatures, type FeatureInfo, LNKIT_INIT_FEATURES } from './features.ts';
export {
  DEFAULT_MISBEHAVIOUR_LOG_INTERVAL_MS,
  type LogDecision,
  LogLimiter,
  logMisbehaviour,
} from './log-limiter.ts';
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
  type PeerLimits,
  PeerManager,
  type PeerManagerOptions,
  type PeerMessage,
  type PeerNetCounters,
  type PeerNetStats,
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
  DEFAULT_PING_LIMITS,
  DEFAULT_SEND_STALL_TIMEOUT_MS,
  PeerSession,
  type PingLimits,
  type SessionCounters,
  type SessionEffect,
  type SessionOptions,
} from './session.ts';

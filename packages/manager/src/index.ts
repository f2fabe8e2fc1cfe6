// @lnkit/manager — the ChannelManager: BOLT 2 channel state machines and the actor around them.

export {
  ANNOUNCEMENT_DEPTH,
  type AnnouncementSignaturePair,
  type AnnouncementState,
  unsignedChannelAnnouncement,
} from './announcement.ts';
export type { Broadcaster, BroadcastResult } from './broadcaster.ts';
export { type ChannelActorConfig, type ChannelServices, channelActor } from './channel.actor.ts';
export { type ChannelContext, step } from './channel.ts';
export { htlcDeadlineText } from './channel-effects.ts';
export { channelManagerActor } from './channel-manager.actor.ts';
export {
  CHANNEL_MESSAGE_TYPES,
  type ChannelKeysSource,
  ChannelManager,
  type ChannelManagerOptions,
  type CloseChannelOptions,
  type ClosingChannel,
  type OpenChannelOptions,
  type OpenedChannel,
  type OwnChannelGossip,
} from './channel-manager.ts';
export type {
  ChannelClosedEvent,
  ChannelEffect,
  ChannelEvent,
  ChannelInput,
  ChannelMessage,
  ChannelPendingEvent,
  ChannelPhase,
  ChannelReadyEvent,
  ChannelState,
  ClosureReason,
  Commitments,
  ForceCloseState,
  FundingConfirmation,
  FundingInBlock,
  LocalChannelKeys,
  Step,
} from './channel-state.ts';
export { type ChannelStatus, type ChannelSummary, summarize } from './channel-summary.ts';
export {
  type ChannelType,
  channelTypeFeatures,
  channelTypeName,
  type NegotiatedChannelType,
  parseChannelType,
} from './channel-type.ts';
export {
  checkAcceptChannel,
  checkOpenChannel,
  type FeerateBounds,
  type PeerFeatures,
  type Refusal,
} from './checks.ts';
export {
  type ChannelConfig,
  type ChannelLimits,
  channelConfig,
  DEFAULT_CHANNEL_CONFIG,
  DEFAULT_CHANNEL_LIMITS,
  FUNDING_TIMEOUT_BLOCKS,
} from './config.ts';
export { fundingDepth } from './confirmation.ts';
export { ChannelDirectory } from './directory.ts';
export { ManagerError, type ManagerErrorCode } from './errors.ts';
export {
  type AcceptChannelParams,
  acceptChannel,
  type OpenChannelParams,
  openChannel,
} from './establish.ts';
export { MANAGER_INIT_FEATURES, peerFeatures } from './features.ts';
export { type ConfirmationTarget, FEERATE_FLOOR_PER_KW, type FeeEstimator } from './fee-estimator.ts';
export { canForceClose, forceClose, onFundingSpent } from './force-close.ts';
export {
  DEFAULT_INTERCEPT_TIMEOUT_MS,
  type ForwardChannelMetrics,
  type ForwardChannels,
  type ForwardEvent,
  Forwarder,
  type ForwardView,
  INTERCEPT_FAILURES,
  type InterceptedHtlc,
  type InterceptFailure,
  type InterceptOptions,
  type InterceptResolution,
  type RouteOutcome,
} from './forward/forwarder.ts';
export {
  DEFAULT_PEER_FORWARD_LIMITS,
  type PeerForwardLimits,
  peerLimitsProblem,
} from './forward/peer-limits.ts';
export {
  DEFAULT_FORWARD_POLICY,
  type ForwardPolicy,
  forwardFeeMsat,
  MIN_CLTV_EXPIRY_DELTA,
  type PolicyChange,
} from './forward/policy.ts';
export {
  FORWARDS_DB,
  type ForwardRecord,
  type ForwardStatus,
  type ForwardsStore,
  LmdbForwardsStore,
  MemoryForwardsStore,
} from './forward/store.ts';
export type { FundingRequest, FundingWallet } from './funding-wallet.ts';
export {
  LmdbMonitorPersister,
  MONITOR_UPDATES_DB,
  type MonitorPersister,
  type PersistCompletion,
} from './monitor-persister.ts';
export { networkOfChain } from './payments/network.ts';
export {
  type CreatedInvoice,
  DEFAULT_PAYMENT_RETRY,
  type PaymentChannels,
  type PaymentEvent,
  type PaymentOutcome,
  type PaymentRetry,
  type PaymentRoute,
  type PaymentRouteQuery,
  type PaymentRouter,
  Payments,
  type PaymentView,
} from './payments/payments.ts';
export { decideReceive, type ReceiveDecision, type StoredInvoice } from './payments/receive.ts';
export {
  LmdbPaymentsStore,
  MemoryPaymentsStore,
  PAYMENTS_DB,
  type PaymentRecord,
  type PaymentStatus,
  type PaymentsStore,
} from './payments/store.ts';
export type { PeerLink, PeerLinkEvent, PeerLinkInfo } from './peer-link.ts';
export { type ChannelHandle, ChannelHosts, type ChannelHostsOptions } from './remote-channel.ts';
export { type RestoreInput, type RestoreResult, restoreChannel } from './restore.ts';
export { isValidShutdownScript } from './shutdown-script.ts';
export {
  CHANNEL_SNAPSHOT_DB,
  type ChannelSnapshot,
  type ChannelSnapshotStore,
  type CloseSnapshot,
  decodeChannelSnapshot,
  encodeChannelSnapshot,
  type ForceCloseSnapshot,
  LmdbChannelSnapshotStore,
  snapshotOf,
} from './snapshot.ts';

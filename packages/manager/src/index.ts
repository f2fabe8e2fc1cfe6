// @lnkit/manager — the ChannelManager: BOLT 2 channel state machines and the actor around them.
export { type ChannelContext, step } from './channel.ts';
export type {
  ChannelEffect,
  ChannelEvent,
  ChannelInput,
  ChannelMessage,
  ChannelPhase,
  ChannelState,
  ClosureReason,
  Commitments,
  FundingConfirmation,
  FundingInBlock,
  LocalChannelKeys,
  Step,
} from './channel-state.ts';
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
export { ManagerError, type ManagerErrorCode } from './errors.ts';
export {
  type AcceptChannelParams,
  acceptChannel,
  type OpenChannelParams,
  openChannel,
} from './establish.ts';
export type {
  ChannelClosedStep,
  ChannelMonitorUpdate,
  ChannelOpened,
  ChannelSideParams,
  CommitmentData,
  HolderCommitmentData,
  MonitorUpdateStep,
  OutPointData,
} from './monitor-update.ts';
export { isValidShutdownScript } from './shutdown-script.ts';

// @lnkit/monitor — ChannelMonitor (one per channel, the source of truth), its numbered updates,
// the MonitorStore that persists them, and the ChainMonitor that shows every monitor the chain.
export { type ChainStep, monitorBlockConnected, monitorBlockDisconnected } from './chain.ts';
export type { ChainMonitorActorConfig } from './chain-monitor.actor.ts';
export { chainMonitorActor } from './chain-monitor.module.ts';
export { ChainMonitor, type ChainMonitorOptions } from './chain-monitor.ts';
export { type ClaimBroadcaster, Claimer, type EnforcementOptions } from './claim-broadcast.ts';
export {
  type BlockResolution,
  type ClaimableBalance,
  type ClaimEvent,
  claimableBalance,
  type PendingBalance,
  type ResolutionState,
  resolveBlock,
  startResolution,
  type TrackStep,
  trackBlock,
  trackDisconnect,
} from './claim-tracker.ts';
export {
  type ChainResolution,
  type ClaimOptions,
  type ClaimPlan,
  type ClaimSource,
  type ClaimToSign,
  claimsToBroadcast,
  commitmentKeysOf,
  disconnectResolution,
  type FeeInputSigner,
  type HolderHtlcTransaction,
  type PendingOutput,
  type ResolvedOutput,
  resolveCommitment,
  resolveSpend,
  SECURITY_DELAY,
  type SignedClaim,
  type SpendResult,
  signClaim,
} from './claims/index.ts';
export {
  channelParameters,
  commitmentData,
  commitmentNumberOf,
  finalizeHolderCommitment,
  fundingKeyOf,
  type HolderCommitmentToSign,
  holderCommitmentData,
  holderCommitmentToSign,
} from './commitment.ts';
export { MonitorError, type MonitorErrorCode } from './errors.ts';
export { classifyFundingSpend, spendsFunding } from './funding-spend.ts';
export {
  applyMonitorUpdate,
  createMonitor,
  preimageFor,
  revocationSecret,
  signerStateOf,
} from './monitor.ts';
export {
  ARCHIVED_MONITORS_DB,
  MONITORS_DB,
  type MonitorKv,
  MonitorStore,
  type MonitorStoreOptions,
} from './monitor-store.ts';
export { type DescribedOutput, describeCommitmentOutputs, type OutputKind } from './outputs.ts';
export type { MonitorPersister, PersistCompletion } from './persister.ts';
export {
  decodeMonitor,
  decodeMonitorUpdate,
  encodeMonitor,
  encodeMonitorUpdate,
  MONITOR_RECORD_KIND,
  MONITOR_RECORD_VERSION,
} from './records.ts';
export { decodeResolution, encodeResolution } from './resolution-records.ts';
export { MonitorSyncListener } from './sync-listener.ts';
export {
  ANTI_REORG_DELAY,
  type BestBlock,
  type ChannelClosedStep,
  type ChannelInfo,
  type ChannelMonitor,
  type ChannelMonitorUpdate,
  type ChannelOpened,
  type ChannelParameters,
  type ChannelSideParams,
  type ClaimableOutput,
  type ClaimKind,
  type CommitmentData,
  type CommitmentSecretStep,
  type CounterpartyCommitmentStep,
  type FundingKey,
  type FundingSpend,
  type FundingSpendKind,
  type HolderCommitmentData,
  type HolderCommitmentStep,
  type HtlcData,
  type MonitorEvent,
  type MonitorUpdateStep,
  type MonitorUpdateStepKind,
  type OutPointData,
  type PaymentPreimageStep,
  type RevokedCommitmentHtlcs,
} from './types.ts';

// @lnkit/monitor — ChannelMonitor (one per channel, the source of truth), its numbered updates,
// the MonitorStore that persists them, and the ChainMonitor that shows every monitor the chain.
export { type ChainStep, monitorBlockConnected, monitorBlockDisconnected } from './chain.ts';
export {
  channelFundingScript,
  channelObscuringFactor,
  commitmentNumberOf,
  finalizeHolderCommitment,
  fundingKeyOf,
  type HolderCommitmentToSign,
  holderCommitment,
  holderCommitmentToSign,
  monitoredCommitment,
  unsignedCommitmentTx,
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
export * from './types.ts';

// BOLT 2 normal operation: the HTLC ledger, its limits, the commitments it builds, the pure
// machine that moves it, and retransmission on channel_reestablish.
export {
  buildCommitment,
  type CommitmentSpec,
  checkHolderSignatures,
  commitmentRecord,
  commitmentSpec,
  counterpartyCommitmentToSign,
  funderChargeMsat,
  type HtlcChannelParams,
} from './build.ts';
export {
  applyMove,
  balancesOf,
  type CommitmentSide,
  emptyLedger,
  type FeeUpdate,
  type FeeUpdateState,
  feerateOf,
  findHtlc,
  type HtlcLedger,
  type HtlcRemoval,
  type HtlcState,
  hasChanges,
  htlcsOf,
  type LedgerEvent,
  type LedgerHtlc,
  type OfferedHtlcState,
  placeIn,
  type ReceivedHtlcState,
  reverseUncommittedRemote,
} from './ledger.ts';
export {
  type AddRequest,
  CLTV_EXPIRY_LIMIT,
  checkOfferedAdd,
  checkOfferedFee,
  checkReceivedAdd,
  checkReceivedFee,
  dustExposureMsat,
  exceedsDustExposure,
  type FeeBounds,
  sendableMsat,
} from './limits.ts';
export { BADONION, type NormalStart, normalStep, settledForClose, startNormal } from './normal.ts';
export type {
  CommitmentPair,
  CounterpartyCommitment,
  HolderCommitment,
  HtlcEvent,
  NormalContext,
  NormalEffect,
  NormalFailure,
  NormalInput,
  NormalMessage,
  NormalState,
  NormalStep,
  OutboxEntry,
  SentCommitment,
  SentRevocation,
} from './normal-state.ts';
export { planRetransmission, type RetransmissionPlan, reestablishMessage } from './retransmit.ts';

export { Transaction } from 'bitcoinjs-lib';
export {
  buildClosingTransaction,
  buildLegacyClosingTransaction,
  type ClosingParams,
  closingSighash,
  type LegacyClosingParams,
} from './closing.ts';
export {
  buildCommitmentTransaction,
  type CommitmentHtlc,
  type CommitmentKeys,
  type CommitmentOutput,
  type CommitmentOutputKind,
  type CommitmentParams,
  type CommitmentTransaction,
  commitmentTxid,
  compareOutputs,
  deriveCommitmentKeys,
  type OutPoint,
  obscuringFactor,
} from './commitment.ts';
export { TxError, type TxErrorCode } from './errors.ts';
export {
  ANCHOR_OUTPUT_SAT,
  type ChannelType,
  commitmentFeeSat,
  commitmentWeight,
  htlcSuccessFeeSat,
  htlcTimeoutFeeSat,
  isHtlcTrimmed,
} from './fees.ts';
export {
  buildFundingTransaction,
  type FundingTransaction,
  type FundingTransactionParams,
  fundingScriptPubKey,
} from './funding.ts';
export { buildHtlcTransactions, type HtlcTransaction } from './htlc.ts';
export {
  anchorScript,
  fundingScript,
  type HtlcScriptKeys,
  offeredHtlcScript,
  p2wpkh,
  p2wsh,
  receivedHtlcScript,
  toLocalScript,
  toRemoteAnchorsScript,
} from './scripts.ts';
export {
  type CommitmentSignaturesCheck,
  commitmentSighash,
  encodeSignature,
  finalizeCommitment,
  finalizeFundingSpend,
  finalizeHtlcTransaction,
  htlcSighash,
  htlcSighashType,
  type ReceivedCommitmentSignatures,
  SIGHASH_ALL,
  SIGHASH_SINGLE_ANYONECANPAY,
  signCounterpartyCommitment,
  signHolderCommitment,
  type VerifyOptions,
  verifyCounterpartySignatures,
} from './sign.ts';

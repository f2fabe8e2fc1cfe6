export { Transaction } from 'bitcoinjs-lib';
export {
  buildClaimTransaction,
  CLAIM_INPUT_WEIGHT,
  type ClaimInput,
  type ClaimTransaction,
  type ClaimTransactionParams,
  type ClaimWitnessKind,
  claimInputWeight,
  claimSequence,
  claimSighashes,
  claimTransactionWeight,
  claimWitnessWeight,
  dustLimitSatFor,
  finalizeClaimTransaction,
} from './claim.ts';
export {
  ChannelKeysClaimSigner,
  type ClaimKey,
  type ClaimSigner,
  type ClaimSignRequest,
  claimPrivateKey,
} from './claim-signer.ts';
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
  ANCHORS_HTLC_SUCCESS_WEIGHT,
  ANCHORS_HTLC_TIMEOUT_WEIGHT,
  addHtlcFeeInput,
  aggregateHtlcTransactions,
  type FeeInput,
  type FundedHtlcTransaction,
  feeInputSighash,
  finalizeFeeInput,
} from './htlc-fee-input.ts';
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
  htlcWitness,
  type ReceivedCommitmentSignatures,
  SIGHASH_ALL,
  SIGHASH_SINGLE_ANYONECANPAY,
  signCounterpartyCommitment,
  signHolderCommitment,
  type VerifyOptions,
  verifyCounterpartySignatures,
} from './sign.ts';

// On-chain enforcement (BOLT 5): what the holder claims once a commitment confirms, and the
// signed transactions that claim it.
export { type ClaimPlan, claimsToBroadcast } from './plan.ts';
export { commitmentKeysOf, holderDelayedScript, resolveCommitment } from './resolve.ts';
export { type FeeInputSigner, signClaim } from './sign.ts';
export { disconnectResolution, resolveSpend, type SpendResult } from './spends.ts';
export {
  type ChainResolution,
  type ClaimOptions,
  type ClaimSource,
  type ClaimToSign,
  type HolderHtlcTransaction,
  type PendingOutput,
  type ResolvedOutput,
  SECURITY_DELAY,
  type SignedClaim,
} from './types.ts';

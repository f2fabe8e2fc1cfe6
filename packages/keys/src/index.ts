export { type ClaimKeyName, type ClaimSpend, WalletKeyPaths } from './claim-policy.ts';
export {
  derivePrivateKey,
  derivePublicKey,
  deriveRevocationPrivateKey,
  deriveRevocationPublicKey,
  perCommitmentPointFromSecret,
} from './derivation.ts';
export { KeysError, type KeysErrorCode } from './errors.ts';
export { KeysManager, type KeysManagerOptions, nodeSecretFromSeed } from './keys-manager.ts';
export {
  createSeed,
  loadOrCreateSeed,
  readSeed,
  readSeedFile,
  SEED_FILE_NAME,
  SEED_LENGTH,
  type SeedResult,
} from './seed.ts';
export {
  CounterpartyCommitmentSecrets,
  generateFromSeed,
  MAX_SECRET_INDEX,
  secretIndex,
} from './shachain.ts';
export {
  type ChannelKeyHolder,
  type ChannelKeys,
  type ChannelPublicKeys,
  type ChannelSigner,
  type CommitmentSignatures,
  type CommitmentSignRequest,
  type CounterpartyCommitmentSignRequest,
  DefaultChannelSigner,
  type DefaultChannelSignerOptions,
  PolicyChannelSigner,
  type SignerState,
} from './signer.ts';
export { ChannelSignerPool, type ChannelSignerPoolOptions, type PooledNodeKey } from './signer-pool.ts';
export { type PooledClaimRequest, PooledClaimSigner, type WalletPathOf } from './signer-pool-claims.ts';

export { addressFromScript, scriptFromAddress, witnessProgram } from './address.ts';
export {
  type Coin,
  type Selection,
  type SelectionRequest,
  selectAll,
  selectCoins,
} from './coin-selection.ts';
export { WalletError, type WalletErrorCode } from './errors.ts';
export { DEFAULT_GAP_LIMIT, type KeychainState } from './keychain-state.ts';
export { AccountKeys, CHANGE, type Keychain, p2wpkhScript, p2wpkhScriptCode, RECEIVE } from './keys.ts';
export { type NetworkParams, networkParams, type RegtestPrefix, type WalletNetwork } from './network.ts';
export { WALLET_DBS } from './records.ts';
export {
  type BuiltTransaction,
  type FeeInputCoin,
  type FundingRequest,
  type SendRequest,
  Wallet,
  type WalletOptions,
} from './wallet.ts';
export {
  type ChainTip,
  COINBASE_MATURITY,
  FORGET_SPENT_DEPTH,
  type OwnedOutput,
  type Reservation,
  type WalletBalance,
  WalletState,
} from './wallet-state.ts';
export {
  dustLimitSat,
  feeForWeight,
  P2WPKH_INPUT_WEIGHT,
  P2WPKH_OUTPUT_WEIGHT,
  transactionWeight,
} from './weights.ts';

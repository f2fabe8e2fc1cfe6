export { addressFromScript, scriptFromAddress, witnessProgram } from './address.ts';
export { WalletError, type WalletErrorCode } from './errors.ts';
export { AccountKeys, CHANGE, type Keychain, p2wpkhScript, p2wpkhScriptCode, RECEIVE } from './keys.ts';
export { type NetworkParams, networkParams, type RegtestPrefix, type WalletNetwork } from './network.ts';

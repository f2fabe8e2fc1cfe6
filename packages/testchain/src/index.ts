export { RpcErrorCode, TestChainError } from './errors.ts';
export {
  type FundedOutput,
  SEGWIT_ACTIVE_HEIGHT,
  startTestChain,
  TestChain,
  type TestChainOptions,
} from './testchain.ts';

/**
 * Broadcaster (guide step 3, BroadcasterInterface): the shape of @lnkit/chain-sync's, which
 * keeps rebroadcasting until the transaction confirms.
 */
export type BroadcastResult =
  | { txid: string; accepted: true }
  | { txid: string; accepted: false; rpcCode?: number; reason: string };

export interface Broadcaster {
  broadcastTransactions(txs: Uint8Array[]): Promise<BroadcastResult[]>;
}

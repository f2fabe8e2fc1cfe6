/**
 * FundingWallet: what the manager asks of the on-chain wallet when it opens a channel. The
 * wallet of @lnkit/wallet implements it: `fundingTransaction` builds and signs a transaction
 * paying `amountSat` to the funding output, with change, and keeps its coins reserved;
 * `release` gives them back when the channel will never broadcast it (refused, failed, a peer
 * that went away). The reservation is the wallet's own; the manager only hands it back.
 */
import type { Transaction } from '@lnkit/tx';

export interface FundingRequest {
  /** The P2WSH script of the 2-of-2 funding output. */
  outputScript: Uint8Array;
  amountSat: bigint;
  feerateSatPerKw: bigint;
}

export interface FundingWallet<Reservation = unknown> {
  /** Signed, not broadcast: the channel broadcasts it once its monitor is durable. */
  fundingTransaction(request: FundingRequest): Promise<{ tx: Transaction; reservation: Reservation }>;
  release(reservation: Reservation): Promise<unknown>;
}

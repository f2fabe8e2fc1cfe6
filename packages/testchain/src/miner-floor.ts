/**
 * A miner feerate floor, to model a busy block market: blocks leave out the transactions whose
 * package feerate is below the floor, and those stay in the mempool until the floor drops or a
 * child pays for them (CPFP).
 */
import type { BcoinBlockTemplate, BcoinMempool, BcoinMempoolEntry } from './bcoin.ts';

/**
 * Takes out of a template, as bcoin's `assemble` filled it, every transaction whose package
 * feerate is below `floorSatPerKw`, and every descendant of one (a child is not valid in a block
 * without its parent), then rebuilds the coinbase and merkle tree for what is left.
 *
 * The package feerate is the one bcoin's miner ranks by: the higher of the transaction's own
 * feerate and that of it with all its mempool descendants. `assemble` puts parents before
 * children, so one pass sees every parent's fate before its children.
 */
export function leaveOutBelowFloor(
  attempt: BcoinBlockTemplate,
  mempool: BcoinMempool,
  floorSatPerKw: number,
): void {
  const leftOut = new Set<string>();
  const kept = attempt.items.filter((item) => {
    const entry = mempool.getEntry(item.hash);
    const parentLeftOut = item.tx.inputs.some(({ prevout }) => leftOut.has(prevout.hash));
    if (!parentLeftOut && entry !== undefined && meetsFloor(entry, floorSatPerKw)) return true;
    leftOut.add(item.hash);
    // Undo what assemble counted for it.
    attempt.weight -= item.tx.getWeight();
    attempt.sigops -= item.sigops;
    attempt.fees -= item.fee;
    return false;
  });
  if (leftOut.size === 0) return;
  attempt.items = kept;
  attempt.refresh();
}

/**
 * The comparison bcoin's entry rates make (getDeltaRate, getDescRate), without their rounding to
 * whole sat/kvB: fee / (4 × vsize) × 1000 ≥ floor sat/kw, i.e. fee × 250 ≥ floor × vsize.
 */
function meetsFloor(entry: BcoinMempoolEntry, floorSatPerKw: number): boolean {
  return (
    entry.deltaFee * 250 >= floorSatPerKw * entry.size ||
    entry.descFee * 250 >= floorSatPerKw * entry.descSize
  );
}

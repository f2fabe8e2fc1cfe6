/**
 * BIP 125 replace-by-fee, as bitcoind's mempool applies it (opt-in RBF, bitcoind 0.12 to 27).
 * bcoin 1.0.2 refuses every transaction that spends an outpoint a mempool transaction already
 * spends; these are bitcoind's checks of such a transaction, with its reject reasons and
 * messages. TestChain (testchain.ts) runs them, then evicts what they name and adds the new one.
 */
import type { BcoinMempool, BcoinMempoolEntry, BcoinTX } from './bcoin.ts';
import { RpcErrorCode, TestChainError } from './errors.ts';

/** bitcoind's MAX_REPLACEMENT_CANDIDATES: a replacement may evict at most this many (rule 5). */
export const MAX_REPLACEMENT_CANDIDATES = 100;
/** bitcoind's default -incrementalrelayfee (sat per 1000 vbytes): what a replacement pays for its own relay (rule 4). */
export const INCREMENTAL_RELAY_FEE_SAT_PER_KVB = 1_000;
/** BIP 125: an input with an nSequence at or below this opts its transaction in to replacement. */
const MAX_BIP125_RBF_SEQUENCE = 0xfffffffd;

/**
 * Whether `tx` signals replaceability itself. Not bcoin's `tx.isRBF()`: that answers false for
 * every version-2 transaction (Lightning's are), which bitcoind does not. Like bitcoind (since
 * CVE-2021-31876 was left as is), a transaction that only inherits the signal from an unconfirmed
 * ancestor is not replaceable.
 */
export function signalsReplaceability(tx: BcoinTX): boolean {
  return tx.inputs.some((input) => input.sequence <= MAX_BIP125_RBF_SEQUENCE);
}

/** The mempool transactions spending any outpoint `tx` spends (each once). */
export function directConflicts(mempool: BcoinMempool, tx: BcoinTX): BcoinMempoolEntry[] {
  const found = new Map<string, BcoinMempoolEntry>();
  for (const { prevout } of tx.inputs) {
    const spender = mempool.getSpent(prevout.hash, prevout.index);
    if (spender) found.set(spender.hash('hex'), spender);
  }
  return [...found.values()];
}

/**
 * Rule 1: every direct conflict must signal. bitcoind checks this before it even looks up the
 * coins, and says no more than `txn-mempool-conflict`.
 */
export function requireReplaceable(conflicts: readonly BcoinMempoolEntry[]): void {
  if (!conflicts.every((conflict) => signalsReplaceability(conflict.tx))) {
    throw new TestChainError(RpcErrorCode.verifyRejected, 'txn-mempool-conflict');
  }
}

/**
 * bitcoind's remaining replacement checks of `replacement` (not in the mempool yet; its coins
 * are known), in bitcoind's order: it must not spend an output of what it replaces, must pay a
 * higher feerate than each direct conflict (rule 6), evict at most 100 transactions (rule 5),
 * add no unconfirmed input (rule 2), and pay at least the fees of everything it evicts (rule 3)
 * plus its own relay at the incremental relay feerate (rule 4).
 *
 * Returns every transaction it evicts, descendants before their ancestors: evicted in that order,
 * bcoin keeps the descendant totals of the ancestors left behind right (its `evictEntry` of a
 * parent drops the children without updating their other parents).
 */
export function checkReplacement(
  mempool: BcoinMempool,
  replacement: BcoinMempoolEntry,
  conflicts: readonly BcoinMempoolEntry[],
): BcoinMempoolEntry[] {
  const txid = replacement.txid();
  const conflictIds = new Set(conflicts.map((conflict) => conflict.hash('hex')));

  // Spending what it replaces would leave it without its inputs.
  for (const ancestor of mempool.getAncestors(replacement)) {
    if (conflictIds.has(ancestor.hash('hex'))) {
      throw refused(
        'bad-txns-spends-conflicting-tx',
        `${txid} spends conflicting transaction ${ancestor.txid()}`,
      );
    }
  }

  // Rule 6, with bitcoind's CFeeRate arithmetic: sat/kvB, rounded down.
  const newRate = satPerKvB(replacement.fee, replacement.size);
  for (const conflict of conflicts) {
    const oldRate = satPerKvB(conflict.deltaFee, conflict.size);
    if (newRate <= oldRate) {
      throw refused(
        'insufficient fee',
        `rejecting replacement ${txid}; new feerate ${formatFeeRate(newRate)} <= old feerate ${formatFeeRate(oldRate)}`,
      );
    }
  }

  // Rule 5. bitcoind counts each conflict with its descendants, so a descendant shared by two
  // conflicts counts twice: it errs on the side of refusing.
  const evicted = descendantsFirst(mempool, conflicts);
  let candidates = 0;
  for (const conflict of conflicts) candidates += descendantsFirst(mempool, [conflict]).length;
  if (candidates > MAX_REPLACEMENT_CANDIDATES) {
    throw refused(
      'too many potential replacements',
      // bitcoind's message really ends in a newline.
      `rejecting replacement ${txid}; too many potential replacements (${candidates} > ${MAX_REPLACEMENT_CANDIDATES})\n`,
    );
  }

  // Rule 2: only the unconfirmed parents the conflicts already had may stay unconfirmed inputs,
  // so a replacement never needs new low-feerate ancestors mined first.
  const parentsOfConflicts = new Set(
    conflicts.flatMap((conflict) => conflict.tx.inputs.map((i) => i.prevout.hash)),
  );
  replacement.tx.inputs.forEach(({ prevout }, index) => {
    if (!parentsOfConflicts.has(prevout.hash) && mempool.hasEntry(prevout.hash)) {
      throw refused(
        'replacement-adds-unconfirmed',
        `replacement ${txid} adds unconfirmed input, idx ${index}`,
      );
    }
  });

  // Rules 3 and 4, with the modified fees (after prioritisetransaction) of what it evicts.
  const evictedFees = evicted.reduce((sum, entry) => sum + entry.deltaFee, 0);
  if (replacement.fee < evictedFees) {
    throw refused(
      'insufficient fee',
      `rejecting replacement ${txid}, less fees than conflicting txs; ${formatMoney(replacement.fee)} < ${formatMoney(evictedFees)}`,
    );
  }
  const additional = replacement.fee - evictedFees;
  const relayFee = feeAt(INCREMENTAL_RELAY_FEE_SAT_PER_KVB, replacement.size);
  if (additional < relayFee) {
    throw refused(
      'insufficient fee',
      `rejecting replacement ${txid}, not enough additional fees to relay; ${formatMoney(additional)} < ${formatMoney(relayFee)}`,
    );
  }
  return evicted;
}

/** `roots` and all their in-mempool descendants, each once, every one after its descendants. */
function descendantsFirst(mempool: BcoinMempool, roots: readonly BcoinMempoolEntry[]): BcoinMempoolEntry[] {
  const order: BcoinMempoolEntry[] = [];
  const seen = new Set<string>();
  const visit = (entry: BcoinMempoolEntry): void => {
    const hash = entry.hash('hex');
    if (seen.has(hash)) return;
    seen.add(hash);
    entry.tx.outputs.forEach((_, index) => {
      const child = mempool.getSpent(hash, index);
      if (child) visit(child);
    });
    order.push(entry);
  };
  for (const root of roots) visit(root);
  return order;
}

/** bitcoind's sendrawtransaction message for a refused transaction: `reason, detail`. */
function refused(reason: string, detail: string): TestChainError {
  return new TestChainError(RpcErrorCode.verifyRejected, `${reason}, ${detail}`);
}

/** CFeeRate(fee, size): sat per 1000 vbytes, rounded down. */
function satPerKvB(feeSat: number, vsize: number): number {
  return vsize > 0 ? Math.floor((feeSat * 1000) / vsize) : 0;
}

/** CFeeRate::GetFee: rounded up, and at least 1 sat for a positive rate. */
function feeAt(rateSatPerKvB: number, vsize: number): number {
  const fee = Math.ceil((rateSatPerKvB * vsize) / 1000);
  return fee === 0 && rateSatPerKvB > 0 && vsize > 0 ? 1 : fee;
}

/** bitcoind's CFeeRate::ToString: `0.00001000 BTC/kvB`. */
function formatFeeRate(rateSatPerKvB: number): string {
  return `${Math.floor(rateSatPerKvB / 1e8)}.${String(rateSatPerKvB % 1e8).padStart(8, '0')} BTC/kvB`;
}

/** bitcoind's FormatMoney: BTC with the trailing zeros cut, down to two decimals (`0.0000011`, `1.00`). */
function formatMoney(sat: number): string {
  const abs = Math.abs(sat);
  const fraction = String(abs % 1e8)
    .padStart(8, '0')
    .replace(/0+$/, '')
    .padEnd(2, '0');
  return `${sat < 0 ? '-' : ''}${Math.floor(abs / 1e8)}.${fraction}`;
}

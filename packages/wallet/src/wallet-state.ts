/**
 * The wallet's pure core: the outputs that pay it, what spends them, the coins reserved for
 * pending fundings, its keychains and the last block it has seen. Fed blocks and unconfirmed
 * transactions; answers balances and spendable coins. No keys (scripts come from a function),
 * no I/O: every change is recorded, and the Wallet around it persists `takeChanges()` before it
 * answers.
 *
 * Reorgs: each output remembers the height that confirmed it and the height of its spend, so a
 * disconnected block turns them back to unconfirmed (the transaction is most likely back in the
 * mempool), except a coinbase, which no other block can confirm: its outputs are dropped, and
 * every unconfirmed transaction that spent them with them. A transaction confirmed in a block
 * wins over an unconfirmed one spending the same output: the unconfirmed one is dropped, with
 * its outputs and their own spenders, and its other inputs are free again.
 */
import type { Transaction } from 'bitcoinjs-lib';
import { WalletError } from './errors.ts';
import {
  DEFAULT_GAP_LIMIT,
  EMPTY_KEYCHAIN,
  handOut,
  type KeychainState,
  markUsed,
  ScriptIndex,
  watchedEnd,
} from './keychain-state.ts';
import type { Keychain } from './keys.ts';

/** Consensus: a coinbase output is spendable in a block 100 blocks above its own. */
export const COINBASE_MATURITY = 100;
/**
 * A spent output is forgotten once its spend has this many confirmations: a reorg deeper than
 * that would not bring it back (none that deep has happened since 2013 on mainnet).
 */
export const FORGET_SPENT_DEPTH = 100;

export interface OwnedOutput {
  /** Display-order txid. */
  readonly txid: string;
  readonly vout: number;
  readonly valueSat: bigint;
  readonly keychain: Keychain;
  readonly keyIndex: number;
  readonly coinbase: boolean;
  /** The height of the block that confirmed its transaction; undefined while unconfirmed. */
  readonly confirmedHeight?: number;
  /** The transaction seen spending it (in a block or unconfirmed). */
  readonly spentByTxid?: string;
  /** The height of the block that confirmed that spend. */
  readonly spentHeight?: number;
}

/** Coins set aside for a transaction the wallet built and signed but the network has not seen. */
export interface Reservation {
  /** The transaction's display-order txid (also the reservation's id). */
  readonly txid: string;
  /** `txid:vout` of each input. */
  readonly inputs: readonly string[];
  /** The signed transaction. */
  readonly rawTx: Uint8Array;
  /** The output it was built for (the funding output, or the payment). */
  readonly outputIndex: number;
  readonly feeSat: bigint;
}

export interface ChainTip {
  readonly hashHex: string;
  readonly height: number;
}

export interface WalletBalance {
  /** Confirmed, mature and unspent (reserved coins included). */
  readonly confirmedSat: bigint;
  /** Outputs of transactions not confirmed yet (incoming payments, our own change). */
  readonly unconfirmedSat: bigint;
  /** Confirmed coinbase outputs not mature yet (100 blocks). */
  readonly immatureSat: bigint;
  /** Unspent coins set aside for pending fundings. */
  readonly reservedSat: bigint;
  /** What a new funding can spend now: confirmed, mature, not reserved. */
  readonly spendableSat: bigint;
}

export interface WalletChanges {
  /** Key `txid:vout` → the output, or undefined when it was removed. */
  readonly outputs: ReadonlyMap<string, OwnedOutput | undefined>;
  readonly reservations: ReadonlyMap<string, Reservation | undefined>;
  readonly keychains: ReadonlyMap<Keychain, KeychainState>;
  readonly tip: ChainTip | undefined;
}

export interface WalletStateInit {
  tip: ChainTip;
  outputs?: Iterable<OwnedOutput>;
  reservations?: Iterable<Reservation>;
  keychains?: readonly [KeychainState, KeychainState];
  /** The P2WPKH scriptPubKey of `keychain/index`. */
  scriptAt: (keychain: Keychain, index: number) => Uint8Array;
  gapLimit?: number;
}

export function outpointKey(txid: string, vout: number): string {
  return `${txid}:${vout}`;
}

function inputKey(hash: Uint8Array, index: number): string {
  return outpointKey(Buffer.from(hash).reverse().toString('hex'), index);
}

export class WalletState {
  private readonly outputs = new Map<string, OwnedOutput>();
  private readonly reservations = new Map<string, Reservation>();
  /** Reserved outpoint → reservation txid. */
  private readonly reservedBy = new Map<string, string>();
  private readonly keychains: [KeychainState, KeychainState];
  private readonly scripts: ScriptIndex;
  private readonly gapLimit: number;
  private currentTip: ChainTip;

  private readonly dirtyOutputs = new Set<string>();
  private readonly dirtyReservations = new Set<string>();
  private readonly dirtyKeychains = new Set<Keychain>();
  private tipDirty = false;

  constructor(init: WalletStateInit) {
    this.gapLimit = init.gapLimit ?? DEFAULT_GAP_LIMIT;
    if (!Number.isInteger(this.gapLimit) || this.gapLimit < 1 || this.gapLimit > 1000)
      throw new WalletError(
        'invalid-argument',
        `gapLimit must be an integer in [1, 1000]; got ${this.gapLimit}`,
      );
    this.currentTip = init.tip;
    this.keychains = init.keychains
      ? [init.keychains[0], init.keychains[1]]
      : [EMPTY_KEYCHAIN, EMPTY_KEYCHAIN];
    for (const o of init.outputs ?? []) this.outputs.set(outpointKey(o.txid, o.vout), o);
    for (const r of init.reservations ?? []) this.addReservation(r);
    this.scripts = new ScriptIndex(init.scriptAt);
    this.scripts.cover(0, watchedEnd(this.keychains[0], this.gapLimit));
    this.scripts.cover(1, watchedEnd(this.keychains[1], this.gapLimit));
  }

  get tip(): ChainTip {
    return this.currentTip;
  }

  keychain(chain: Keychain): KeychainState {
    return this.keychains[chain];
  }

  /** How many scripts are watched (both keychains). */
  get watchedScripts(): number {
    return this.scripts.size;
  }

  /** The owner of a scriptPubKey among the watched scripts. */
  ownerOf(script: Uint8Array): { keychain: Keychain; index: number } | undefined {
    return this.scripts.lookup(script);
  }

  // --- chain ---

  /** A block connected on top of the tip; true when it touched the wallet. */
  connectBlock(txs: readonly Transaction[], height: number, hashHex: string): boolean {
    let relevant = false;
    // A payment to an address past the watched window widens it; the block is read again so
    // that earlier transactions paying the new scripts (and their spends) are found too. Each
    // pass is idempotent.
    for (;;) {
      const watchedBefore = this.scripts.size;
      for (const tx of txs) {
        if (this.connectTransaction(tx, height)) relevant = true;
      }
      if (this.scripts.size === watchedBefore) break;
    }
    this.setTip({ hashHex, height });
    this.forgetDeepSpends(height);
    return relevant;
  }

  /** The tip block (at `height`) disconnected; `prevHashHex` becomes the tip. */
  disconnectBlock(height: number, prevHashHex: string): void {
    const orphanedCoinbases = new Set<string>();
    for (const [key, out] of this.outputs) {
      let next: OwnedOutput = out;
      if (out.confirmedHeight !== undefined && out.confirmedHeight >= height) {
        if (out.coinbase) orphanedCoinbases.add(out.txid);
        else next = withoutFields(next, 'confirmedHeight');
      }
      if (out.spentHeight !== undefined && out.spentHeight >= height)
        next = withoutFields(next, 'spentHeight');
      if (next !== out) this.putOutput(key, next);
    }
    for (const txid of orphanedCoinbases) this.dropTransaction(txid);
    this.setTip({ hashHex: prevHashHex, height: height - 1 });
  }

  /**
   * A transaction not in a block yet (the mempool, or one we broadcast). Ignored, false, when it
   * touches none of our outputs or scripts, is already confirmed, or spends an output of ours
   * that a confirmed transaction spends. It replaces an unconfirmed transaction spending the
   * same output (the mempool keeps one of them; the last one seen is the likelier).
   */
  addUnconfirmed(tx: Transaction): boolean {
    const txid = tx.getId();
    const spends: string[] = [];
    for (const input of tx.ins) {
      const key = inputKey(input.hash, input.index);
      const out = this.outputs.get(key);
      if (!out) continue;
      if (out.spentHeight !== undefined) return false; // confirmed: ours already, or a conflict with the chain
      spends.push(key);
    }
    for (let vout = 0; vout < tx.outs.length; vout++) {
      if (this.outputs.get(outpointKey(txid, vout))?.confirmedHeight !== undefined) return false;
    }
    for (const key of spends) {
      const spender = this.outputs.get(key)?.spentByTxid;
      if (spender !== undefined && spender !== txid) this.dropTransaction(spender);
      const out = this.outputs.get(key);
      if (out && out.spentByTxid !== txid) this.putOutput(key, { ...out, spentByTxid: txid });
    }
    let paysUs = false;
    for (;;) {
      const watchedBefore = this.scripts.size;
      tx.outs.forEach((output, vout) => {
        const owner = this.scripts.lookup(output.script);
        if (!owner) return;
        paysUs = true;
        const key = outpointKey(txid, vout);
        if (!this.outputs.has(key)) {
          this.putOutput(key, {
            txid,
            vout,
            valueSat: output.value,
            keychain: owner.keychain,
            keyIndex: owner.index,
            coinbase: false,
          });
        }
        this.noteUsed(owner.keychain, owner.index);
      });
      if (this.scripts.size === watchedBefore) break;
    }
    return spends.length > 0 || paysUs;
  }

  /**
   * Forgets an unconfirmed transaction (one that will never confirm: dropped from every
   * mempool, or replaced): its outputs and their spenders go, its inputs are free again.
   * False when the wallet knows no unconfirmed transaction or reservation with that txid, or
   * when the transaction is confirmed.
   */
  abandon(txid: string): boolean {
    let known = false;
    for (const out of this.outputs.values()) {
      if (out.txid === txid) {
        if (out.confirmedHeight !== undefined) return false;
        known = true;
      }
      if (out.spentByTxid === txid) {
        if (out.spentHeight !== undefined) return false;
        known = true;
      }
    }
    if (known) this.dropTransaction(txid);
    else if (this.reservations.has(txid)) {
      this.removeReservation(txid); // built and reserved, never seen: the same as release()
      return true;
    }
    return known;
  }

  // --- keychains ---

  /** The next index of `chain` to give out (BIP 44 gap limit: see keychain-state.ts). */
  nextIndex(chain: Keychain): number {
    const { index, next } = handOut(this.keychains[chain], this.gapLimit);
    this.setKeychain(chain, next);
    return index;
  }

  // --- coins ---

  /** Unspent, confirmed, mature, unreserved outputs with at least `minConfirmations`. */
  spendable(minConfirmations = 1): OwnedOutput[] {
    const out: OwnedOutput[] = [];
    for (const [key, o] of this.outputs) {
      if (o.spentByTxid !== undefined || this.reservedBy.has(key)) continue;
      if (o.confirmedHeight === undefined || !this.isMature(o)) continue;
      if (this.currentTip.height - o.confirmedHeight + 1 < minConfirmations) continue;
      out.push(o);
    }
    return out;
  }

  /**
   * Confirmed, mature, unreserved outputs no block spends: unspent, or spent by an unconfirmed
   * transaction the wallet did not build (what it builds keeps its coins reserved until it
   * confirms), which in a node is a claim that took the coin as its fee input.
   */
  feeInputCandidates(): OwnedOutput[] {
    const out: OwnedOutput[] = [];
    for (const [key, o] of this.outputs) {
      if (o.spentHeight !== undefined || this.reservedBy.has(key)) continue;
      if (o.confirmedHeight === undefined || !this.isMature(o)) continue;
      out.push(o);
    }
    return out;
  }

  /** Every output the wallet tracks, spent or not. */
  allOutputs(): OwnedOutput[] {
    return [...this.outputs.values()];
  }

  output(key: string): OwnedOutput | undefined {
    return this.outputs.get(key);
  }

  balance(): WalletBalance {
    let confirmedSat = 0n;
    let unconfirmedSat = 0n;
    let immatureSat = 0n;
    let reservedSat = 0n;
    let spendableSat = 0n;
    for (const [key, o] of this.outputs) {
      if (o.spentByTxid !== undefined) continue;
      const reserved = this.reservedBy.has(key);
      if (reserved) reservedSat += o.valueSat;
      if (o.confirmedHeight === undefined) unconfirmedSat += o.valueSat;
      else if (!this.isMature(o)) immatureSat += o.valueSat;
      else {
        confirmedSat += o.valueSat;
        if (!reserved) spendableSat += o.valueSat;
      }
    }
    return { confirmedSat, unconfirmedSat, immatureSat, reservedSat, spendableSat };
  }

  // --- reservations ---

  /** Sets coins aside for a built transaction; each must be ours, unspent and not reserved. */
  reserve(reservation: Reservation): void {
    if (this.reservations.has(reservation.txid))
      throw new WalletError('invalid-argument', `transaction ${reservation.txid} is already reserved`);
    for (const key of reservation.inputs) {
      const out = this.outputs.get(key);
      if (!out) throw new WalletError('invalid-argument', `input ${key} is not an output of this wallet`);
      if (out.spentByTxid !== undefined)
        throw new WalletError('invalid-argument', `input ${key} is already spent by ${out.spentByTxid}`);
      const holder = this.reservedBy.get(key);
      if (holder !== undefined)
        throw new WalletError('invalid-argument', `input ${key} is reserved for transaction ${holder}`);
    }
    this.addReservation(reservation);
    this.dirtyReservations.add(reservation.txid);
  }

  /** True when there was such a reservation. */
  release(txid: string): boolean {
    if (!this.reservations.has(txid)) return false;
    this.removeReservation(txid);
    return true;
  }

  reservation(txid: string): Reservation | undefined {
    return this.reservations.get(txid);
  }

  allReservations(): Reservation[] {
    return [...this.reservations.values()];
  }

  // --- persistence ---

  /** What changed since the last call (for the store), and forgets it. */
  takeChanges(): WalletChanges {
    const outputs = new Map<string, OwnedOutput | undefined>();
    for (const key of this.dirtyOutputs) outputs.set(key, this.outputs.get(key));
    const reservations = new Map<string, Reservation | undefined>();
    for (const txid of this.dirtyReservations) reservations.set(txid, this.reservations.get(txid));
    const keychains = new Map<Keychain, KeychainState>();
    for (const chain of this.dirtyKeychains) keychains.set(chain, this.keychains[chain]);
    const tip = this.tipDirty ? this.currentTip : undefined;
    this.dirtyOutputs.clear();
    this.dirtyReservations.clear();
    this.dirtyKeychains.clear();
    this.tipDirty = false;
    return { outputs, reservations, keychains, tip };
  }

  // --- internals ---

  private connectTransaction(tx: Transaction, height: number): boolean {
    let txid: string | undefined;
    let relevant = false;
    if (!tx.isCoinbase()) {
      for (const input of tx.ins) {
        const key = inputKey(input.hash, input.index);
        if (!this.outputs.has(key)) continue;
        txid ??= tx.getId();
        relevant = true;
        const previous = this.outputs.get(key)?.spentByTxid;
        if (previous !== undefined && previous !== txid) this.dropTransaction(previous);
        const out = this.outputs.get(key);
        if (out && (out.spentByTxid !== txid || out.spentHeight !== height))
          this.putOutput(key, { ...out, spentByTxid: txid, spentHeight: height });
        // Its coins are spent on chain: whatever was reserved with them can never confirm.
        const holder = this.reservedBy.get(key);
        if (holder !== undefined) this.removeReservation(holder);
      }
    }
    for (let vout = 0; vout < tx.outs.length; vout++) {
      const output = tx.outs[vout];
      if (!output) continue;
      const owner = this.scripts.lookup(output.script);
      if (!owner) continue;
      txid ??= tx.getId();
      relevant = true;
      const key = outpointKey(txid, vout);
      const existing = this.outputs.get(key);
      if (existing?.confirmedHeight !== height) {
        this.putOutput(key, {
          ...existing,
          txid,
          vout,
          valueSat: output.value,
          keychain: owner.keychain,
          keyIndex: owner.index,
          coinbase: tx.isCoinbase(),
          confirmedHeight: height,
        });
      }
      this.noteUsed(owner.keychain, owner.index);
    }
    return relevant;
  }

  /**
   * Removes an unconfirmed (or orphaned coinbase) transaction: its outputs, and transitively the
   * transactions spending them; the outputs it spent are unspent again.
   */
  private dropTransaction(txid: string): void {
    const pending = [txid];
    const dropped = new Set<string>();
    while (pending.length > 0) {
      const t = pending.pop() as string;
      if (dropped.has(t)) continue;
      dropped.add(t);
      for (const [key, out] of this.outputs) {
        if (out.txid === t) {
          this.removeOutput(key);
          if (out.spentByTxid !== undefined) pending.push(out.spentByTxid);
        } else if (out.spentByTxid === t) {
          this.putOutput(key, withoutFields(out, 'spentByTxid', 'spentHeight'));
        }
      }
      if (this.reservations.has(t)) this.removeReservation(t);
    }
  }

  private forgetDeepSpends(height: number): void {
    for (const [key, out] of this.outputs) {
      if (out.spentHeight !== undefined && height - out.spentHeight + 1 >= FORGET_SPENT_DEPTH)
        this.removeOutput(key);
    }
  }

  private isMature(o: OwnedOutput): boolean {
    // Spendable in the next block (tip + 1), as a mempool checks it.
    return (
      !o.coinbase ||
      (o.confirmedHeight !== undefined && this.currentTip.height + 1 - o.confirmedHeight >= COINBASE_MATURITY)
    );
  }

  private noteUsed(chain: Keychain, index: number): void {
    const before = this.keychains[chain];
    const after = markUsed(before, index);
    if (after !== before) {
      this.setKeychain(chain, after);
      this.scripts.cover(chain, watchedEnd(after, this.gapLimit));
    }
  }

  private setKeychain(chain: Keychain, state: KeychainState): void {
    this.keychains[chain] = state;
    this.dirtyKeychains.add(chain);
  }

  private setTip(tip: ChainTip): void {
    this.currentTip = tip;
    this.tipDirty = true;
  }

  private putOutput(key: string, out: OwnedOutput): void {
    this.outputs.set(key, out);
    this.dirtyOutputs.add(key);
  }

  private removeOutput(key: string): void {
    this.outputs.delete(key);
    this.dirtyOutputs.add(key);
    const holder = this.reservedBy.get(key);
    if (holder !== undefined) this.removeReservation(holder);
  }

  private addReservation(r: Reservation): void {
    this.reservations.set(r.txid, r);
    for (const key of r.inputs) this.reservedBy.set(key, r.txid);
  }

  private removeReservation(txid: string): void {
    const r = this.reservations.get(txid);
    if (!r) return;
    this.reservations.delete(txid);
    for (const key of r.inputs) if (this.reservedBy.get(key) === txid) this.reservedBy.delete(key);
    this.dirtyReservations.add(txid);
  }
}

function withoutFields(
  out: OwnedOutput,
  ...fields: ('confirmedHeight' | 'spentByTxid' | 'spentHeight')[]
): OwnedOutput {
  const copy: Record<string, unknown> = { ...out };
  for (const f of fields) delete copy[f];
  return copy as unknown as OwnedOutput;
}

/**
 * Filter (LDK guide step 5): the transactions and outputs the node cares about, registered by the
 * ChannelMonitors, for chain sources that do not hand over full blocks (Esplora-like) or to cut
 * full blocks down to what matters.
 */
import type { Transaction } from 'bitcoinjs-lib';

export interface WatchedOutput {
  /** Display-order txid of the transaction that created the output. */
  txidHex: string;
  vout: number;
  scriptPubKey: Uint8Array;
}

export interface Filter {
  /** Watch a transaction (display-order txid) paying to `scriptPubKey`. */
  registerTx(txidHex: string, scriptPubKey: Uint8Array): void;
  /** Watch an output: any transaction spending it is relevant. */
  registerOutput(output: WatchedOutput): void;
}

/** The default Filter: an in-memory set that can tell which transactions of a block are relevant. */
export class WatchedFilter implements Filter {
  private readonly txids = new Set<string>();
  private readonly scripts = new Set<string>();
  private readonly outpoints = new Map<string, WatchedOutput>();

  registerTx(txidHex: string, scriptPubKey: Uint8Array): void {
    this.txids.add(txidHex);
    this.scripts.add(Buffer.from(scriptPubKey).toString('hex'));
  }

  registerOutput(output: WatchedOutput): void {
    this.outpoints.set(`${output.txidHex}:${output.vout}`, output);
    this.scripts.add(Buffer.from(output.scriptPubKey).toString('hex'));
  }

  get registeredTxids(): string[] {
    return [...this.txids];
  }

  get registeredOutputs(): WatchedOutput[] {
    return [...this.outpoints.values()];
  }

  /** A transaction is relevant if it is registered, pays a watched script, or spends a watched output. */
  matches(tx: Transaction): boolean {
    if (this.txids.has(tx.getId())) return true;
    for (const out of tx.outs) if (this.scripts.has(Buffer.from(out.script).toString('hex'))) return true;
    for (const input of tx.ins) {
      if (this.outpoints.has(`${Buffer.from(input.hash).reverse().toString('hex')}:${input.index}`))
        return true;
    }
    return false;
  }

  /** The relevant transactions of a block with their position in it, as Confirm wants them. */
  filterBlock(txdata: Transaction[]): [number, Transaction][] {
    const out: [number, Transaction][] = [];
    txdata.forEach((tx, index) => {
      if (this.matches(tx)) out.push([index, tx]);
    });
    return out;
  }
}

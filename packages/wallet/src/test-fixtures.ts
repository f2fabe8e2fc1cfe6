/**
 * Helpers for the wallet's unit tests: transactions and blocks made with bitcoinjs-lib, on a
 * pretend chain that needs no node (the tests against a real one are in test/chain-tx).
 */
import { createHash } from 'node:crypto';
import type { BlockData, BlockHeaderData } from '@lnkit/chain-sync';
import { Transaction } from 'bitcoinjs-lib';

export interface TxOut {
  script: Uint8Array;
  valueSat: bigint;
}

let nonce = 0;

/** A transaction spending `inputs` (`txid:vout`, display-order txid) to `outputs`. */
export function makeTx(inputs: readonly string[], outputs: readonly TxOut[]): Transaction {
  const tx = new Transaction();
  tx.version = 2;
  for (const key of inputs) {
    const [txid, vout] = key.split(':') as [string, string];
    tx.addInput(Uint8Array.from(Buffer.from(txid, 'hex').reverse()), Number(vout));
  }
  for (const o of outputs) tx.addOutput(o.script, o.valueSat);
  return tx;
}

/** A coinbase paying `outputs`; unique (its scriptSig carries a counter, as BIP 34's height does). */
export function coinbaseTx(outputs: readonly TxOut[]): Transaction {
  const tx = new Transaction();
  tx.version = 2;
  const tag = Buffer.alloc(8);
  tag.writeUInt32BE(++nonce, 0);
  tx.addInput(new Uint8Array(32), 0xffff_ffff, 0xffff_ffff, tag);
  for (const o of outputs) tx.addOutput(o.script, o.valueSat);
  return tx;
}

/** A script that is not the wallet's (a P2WPKH of some other key hash). */
export function foreignScript(n = 1): Uint8Array {
  const s = new Uint8Array(22);
  s[1] = 0x14;
  s.fill(n & 0xff, 2);
  return s;
}

export const GENESIS = { hashHex: `${'00'.repeat(31)}01`, height: 0 };

/** A chain of pretend blocks: the hashes are made up, the heights and links are right. */
export class FakeChain {
  /** hashes[h] is the block at height h. */
  readonly hashes: string[] = [GENESIS.hashHex];

  get tip(): { hashHex: string; height: number } {
    return { hashHex: this.hashes[this.hashes.length - 1] as string, height: this.hashes.length - 1 };
  }

  /** The next block, with `txs` (a coinbase to nobody is added first when none is given). */
  next(txs: Transaction[] = []): BlockData {
    const height = this.hashes.length;
    const prevHashHex = this.tip.hashHex;
    const all = txs[0]?.isCoinbase()
      ? txs
      : [coinbaseTx([{ script: foreignScript(9), valueSat: 1n }]), ...txs];
    const hashHex = createHash('sha256')
      .update(`${prevHashHex}/${height}/${all.map((t) => t.getId()).join()}/${++nonce}`)
      .digest('hex');
    this.hashes.push(hashHex);
    return { header: header(hashHex, prevHashHex, height), txdata: all };
  }

  /** Removes the tip block and says how to disconnect it. */
  pop(): BlockHeaderData {
    const height = this.hashes.length - 1;
    const hashHex = this.hashes.pop() as string;
    return header(hashHex, this.tip.hashHex, height);
  }
}

function header(hashHex: string, prevHashHex: string, height: number): BlockHeaderData {
  return { hashHex, prevHashHex, height, header: new Uint8Array(80), time: 0 };
}

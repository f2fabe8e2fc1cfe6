/**
 * For this package's tests only: a key whose outputs (P2WPKH, or P2PKH for spends without a
 * witness) the tests spend, with bcoin's own signer (this package depends on nothing else that
 * signs). Not exported from index.ts.
 */
import { type BcoinTX, loadBcoin } from './bcoin.ts';
import { startTestChain, type TestChain } from './testchain.ts';

/** BIP 125: nSequence at or below 0xfffffffd signals replaceability. */
export const RBF_SEQUENCE = 0xfffffffd;
/** Not replaceable, yet not final either (locktime still applies): what bitcoind's wallet uses without RBF. */
export const NO_RBF_SEQUENCE = 0xfffffffe;

/** An output paying the wallet's script, to spend. */
export interface Coin {
  tx: BcoinTX;
  vout: number;
  value: number;
}

export interface Signed {
  hex: string;
  /** Display-order hex. */
  txid: string;
  vsize: number;
  feeSat: number;
  /** Output `vout` of this transaction, as a coin to spend. */
  output(vout: number): Coin;
}

export interface PayOptions {
  feeSat: number;
  /** The value left after the fee is split over this many outputs to the wallet's script (default 1). */
  outputs?: number;
  /** Of every input; RBF_SEQUENCE by default. */
  sequence?: number;
  /** Corrupts the first input's signature (for rejection tests). */
  badSignature?: boolean;
  /** Pay to the P2PKH script instead (spendable without a witness, e.g. before segwit activation). */
  legacy?: boolean;
}

export class TestWallet {
  private readonly bcoin = loadBcoin();
  private readonly key = this.bcoin.KeyRing.generate(true);
  /** P2WPKH: OP_0 <HASH160(public key)>. */
  readonly script: Uint8Array;
  /** P2PKH: OP_DUP OP_HASH160 <HASH160(public key)> OP_EQUALVERIFY OP_CHECKSIG. */
  readonly legacyScript: Uint8Array;

  constructor() {
    this.key.witness = true; // bcoin signs P2PKH coins with such a key too
    const keyHash = this.key.getKeyHash();
    this.script = new Uint8Array([0x00, 0x14, ...keyHash]);
    this.legacyScript = new Uint8Array([0x76, 0xa9, 0x14, ...keyHash, 0x88, 0xac]);
  }

  /** A coin of `valueSat` from the chain's own wallet (in the mempool until mined). */
  async fund(chain: TestChain, valueSat: number, options: { legacy?: boolean } = {}): Promise<Coin> {
    const funded = await chain.fundScript(options.legacy ? this.legacyScript : this.script, BigInt(valueSat));
    return { tx: this.bcoin.TX.fromRaw(Buffer.from(funded.rawTx)), vout: funded.vout, value: valueSat };
  }

  /** Signs a version-2 transaction (as Lightning's are) spending `coins` back to the wallet. */
  pay(coins: Coin[], options: PayOptions): Signed {
    const outputs = options.outputs ?? 1;
    const total = coins.reduce((sum, coin) => sum + coin.value, 0) - options.feeSat;
    const each = Math.floor(total / outputs);
    const mtx = new this.bcoin.MTX();
    mtx.version = 2;
    for (const coin of coins) mtx.addTX(coin.tx, coin.vout).sequence = options.sequence ?? RBF_SEQUENCE;
    const script = this.bcoin.Script.fromRaw(Buffer.from(options.legacy ? this.legacyScript : this.script));
    for (let i = 0; i < outputs; i++) mtx.addOutput(script, i === 0 ? total - each * (outputs - 1) : each);
    mtx.sign(this.key);
    const signature = mtx.inputs[0]?.witness.items[0];
    if (options.badSignature && signature) signature[10] = (signature[10] ?? 0) ^ 0x01; // inside the DER r
    const tx = mtx.toTX();
    return {
      hex: tx.toRaw().toString('hex'),
      txid: tx.txid(),
      vsize: tx.getVirtualSize(),
      feeSat: options.feeSat,
      output: (vout) => ({ tx, vout, value: tx.outputs[vout]?.value ?? 0 }),
    };
  }
}

/**
 * The tests' chain: started with segwit active before the file's tests, `count` confirmed coins
 * of 1,000,000 sat of `wallet`'s funded, stopped after them. `nextCoin` hands out one per use.
 */
export function fundedTestChain(
  wallet: TestWallet,
  count: number,
  hooks: { before: (fn: () => Promise<void>) => void; after: (fn: () => Promise<void>) => void },
): { readonly chain: TestChain; nextCoin(): Coin } {
  let chain: TestChain | undefined;
  const coins: Coin[] = [];
  hooks.before(async () => {
    chain = await startTestChain();
    await chain.activateSegwit();
    for (let i = 0; i < count; i++) coins.push(await wallet.fund(chain, 1_000_000));
    await chain.mine(1);
  });
  hooks.after(async () => {
    await chain?.stop();
  });
  return {
    get chain() {
      if (!chain) throw new Error('the test chain starts in before()');
      return chain;
    },
    nextCoin() {
      const coin = coins.shift();
      if (!coin) throw new Error('out of funded coins');
      return coin;
    },
  };
}

/**
 * A minimal segwit funding source for channel tests on the bcoin chain: one key, P2WPKH coins
 * sent to it by the chain and confirmed, and funding transactions built and signed from them.
 * The chain's own coins are P2PKH, and both LDK and lnkit refuse a funding transaction with a
 * non-witness input (its txid could change after the commitments were signed), hence this.
 * It has the FundingWallet shape of @lnkit/manager, and builds LDK's funding transactions too.
 * Test code only.
 */
import { randomBytes, secp } from '@lnkit/crypto';
import type { TestChain } from '@lnkit/testchain';
import { encodeSignature, p2wpkh, SIGHASH_ALL, Transaction } from '@lnkit/tx';
import { script as bscript, crypto as btcCrypto, opcodes as OPS } from 'bitcoinjs-lib';

interface Coin {
  txid: Uint8Array;
  vout: number;
  valueSat: bigint;
}

export class TestFunding {
  readonly #secret = randomBytes(32);
  readonly pubkey = secp.publicKey(this.#secret);
  readonly script = p2wpkh(this.pubkey);
  readonly #coins: Coin[] = [];
  /** Txids of the transactions it built, and released. */
  readonly built: string[] = [];
  readonly released: string[] = [];

  constructor(private readonly chain: TestChain) {}

  /** Sends `count` coins of `valueSat` to this key from the chain's wallet; mine a block after. */
  async addCoins(count: number, valueSat: bigint): Promise<void> {
    for (let i = 0; i < count; i++) {
      const f = await this.chain.fundScript(this.script, valueSat);
      this.#coins.push({
        txid: Uint8Array.from(Buffer.from(f.txid, 'hex')).reverse(),
        vout: f.vout,
        valueSat,
      });
    }
  }

  /** A signed transaction paying `amountSat` to `outputScript`, change back here. */
  async build(outputScript: Uint8Array, amountSat: bigint, feerateSatPerKw = 253n): Promise<Transaction> {
    // One P2WPKH input and two outputs weigh about 560; round up. bcoin refuses a transaction
    // paying less than its relay minimum per byte of its full size ("insufficient priority"):
    // at least 1,000 sat.
    let feeSat = (feerateSatPerKw * 600n) / 1000n + 1n;
    if (feeSat < 1_000n) feeSat = 1_000n;
    const i = this.#coins.findIndex((c) => c.valueSat >= amountSat + feeSat + 1000n);
    const coin = this.#coins[i];
    if (!coin) throw new Error(`insufficient funds for ${amountSat} sat in the test funding source`);
    this.#coins.splice(i, 1);
    const tx = new Transaction();
    tx.version = 2;
    tx.addInput(coin.txid, coin.vout, 0xfffffffd);
    tx.addOutput(outputScript, amountSat);
    tx.addOutput(this.script, coin.valueSat - amountSat - feeSat);
    const scriptCode = bscript.compile([
      OPS.OP_DUP,
      OPS.OP_HASH160,
      btcCrypto.hash160(this.pubkey),
      OPS.OP_EQUALVERIFY,
      OPS.OP_CHECKSIG,
    ]);
    const sighash = tx.hashForWitnessV0(0, scriptCode, coin.valueSat, SIGHASH_ALL);
    tx.setWitness(0, [encodeSignature(secp.sign(sighash, this.#secret), SIGHASH_ALL), this.pubkey]);
    // The change is not reused: a transaction that is never broadcast would leave a coin that
    // does not exist. Tests add one coin per channel.
    this.built.push(tx.getId());
    return tx;
  }

  /** @lnkit/manager's FundingWallet. */
  async fundingTransaction(r: {
    outputScript: Uint8Array;
    amountSat: bigint;
    feerateSatPerKw: bigint;
  }): Promise<{ tx: Transaction; reservation: string }> {
    const tx = await this.build(r.outputScript, r.amountSat, r.feerateSatPerKw);
    return { tx, reservation: tx.getId() };
  }

  async release(reservation: string): Promise<void> {
    this.released.push(reservation);
  }
}

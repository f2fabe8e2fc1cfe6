/**
 * The Wallet on a real store (lmdb in a temporary folder) and pretend blocks: what it builds
 * and signs, what it reserves, what survives reopening, and how it fails. The same flows
 * against a real bcoin node are in test/chain-tx/wallet.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { inspect } from 'node:util';
import type { Broadcaster, BroadcastResult } from '@lnkit/chain-sync';
import { nobleBackend, secp } from '@lnkit/crypto';
import { Store, StoreError } from '@lnkit/store';
import { HDKey } from '@scure/bip32';
import { script as bscript, Transaction } from 'bitcoinjs-lib';
import { scriptFromAddress } from './address.ts';
import { WalletError } from './errors.ts';
import { AccountKeys, CHANGE, p2wpkhScript, p2wpkhScriptCode, RECEIVE } from './keys.ts';
import { networkParams } from './network.ts';
import { WALLET_DBS } from './records.ts';
import { coinbaseTx, FakeChain, foreignScript, makeTx } from './test-fixtures.ts';
import { Wallet } from './wallet.ts';
import { outpointKey } from './wallet-state.ts';
import { dustLimitSat } from './weights.ts';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const SEED = new Uint8Array(32).fill(42);
const regtest = networkParams('regtest');
const keys = AccountKeys.fromSeed(SEED, regtest);
/** A P2WSH funding output (its witness script does not matter here). */
const P2WSH = Uint8Array.from([0x00, 0x20, ...new Uint8Array(32).fill(0xcd)]);

async function openStore(dir?: string): Promise<{ store: Store; dir: string }> {
  const d = dir ?? mkdtempSync(join(tmpdir(), 'lnkit-wallet-'));
  if (!dir) dirs.push(d);
  return { store: await Store.open(d, { schemaVersion: 1 }), dir: d };
}

/** A wallet on a pretend chain, with `coins` (sat) paid to it and confirmed. */
async function funded(coins: bigint[], seed = SEED) {
  const { store, dir } = await openStore();
  const chain = new FakeChain();
  const wallet = await Wallet.open(store, seed, { network: 'regtest', birthday: chain.tip });
  const txs = [];
  for (const [i, valueSat] of coins.entries()) {
    const script = await wallet.coinbaseScript();
    txs.push(makeTx([`${'ab'.repeat(32)}:${i}`], [{ script, valueSat }]));
  }
  await wallet.blockConnected(chain.next(txs), 1);
  return { store, dir, chain, wallet, txs };
}

function verifyInputs(tx: Transaction, spent: Map<string, { valueSat: bigint; publicKey: Uint8Array }>) {
  tx.ins.forEach((input, i) => {
    const key = outpointKey(Buffer.from(input.hash).reverse().toString('hex'), input.index);
    const coin = spent.get(key);
    assert.ok(coin, `input ${i} spends a coin of ours`);
    const [der, pubkey] = input.witness as [Uint8Array, Uint8Array];
    assert.deepEqual(pubkey, coin.publicKey);
    const { signature, hashType } = bscript.signature.decode(der);
    assert.equal(hashType, Transaction.SIGHASH_ALL);
    const script = p2wpkhScript(coin.publicKey);
    const digest = tx.hashForWitnessV0(i, p2wpkhScriptCode(script), coin.valueSat, Transaction.SIGHASH_ALL);
    assert.ok(secp.verify(signature, digest, coin.publicKey), `input ${i} signature verifies`);
  });
}

const accepting = (): Broadcaster & { sent: Uint8Array[] } => {
  const sent: Uint8Array[] = [];
  return {
    sent,
    async broadcastTransactions(txs) {
      sent.push(...txs);
      return txs.map((raw) => ({ txid: Transaction.fromBuffer(raw).getId(), accepted: true as const }));
    },
  };
};
const answering = (result: Omit<Extract<BroadcastResult, { accepted: false }>, 'txid'>): Broadcaster => ({
  async broadcastTransactions(txs) {
    return txs.map((raw) => ({ ...result, txid: Transaction.fromBuffer(raw).getId() }));
  },
});

test('newAddress gives BIP 84 receive addresses in order, and reopening goes on from there', async () => {
  const { store, dir } = await openStore();
  const wallet = await Wallet.open(store, SEED, { network: 'regtest' });
  assert.deepEqual(wallet.bestBlock, { hashHex: regtest.genesisHashHex, height: 0 }, 'no birthday: genesis');
  const a0 = await wallet.newAddress();
  const a1 = await wallet.newAddress();
  assert.deepEqual(scriptFromAddress(a0, regtest), keys.script(RECEIVE, 0));
  assert.deepEqual(scriptFromAddress(a1, regtest), keys.script(RECEIVE, 1));
  assert.match(a0, /^bcrt1q/);
  await wallet.close();
  await store.close();
  const again = await openStore(dir);
  const reopened = await Wallet.open(again.store, SEED, { network: 'regtest', regtestPrefix: 'rb' });
  const a2 = await reopened.newAddress();
  assert.match(a2, /^rb1q/);
  assert.deepEqual(scriptFromAddress(a2, regtest), keys.script(RECEIVE, 2), 'index 2, not 0 again');
  await again.store.close();
});

test('a funding transaction: signed P2WPKH inputs, the P2WSH output, change, the fee at the feerate', async () => {
  const { wallet, txs, store } = await funded([600_000n, 2_000_000n]);
  const built = await wallet.fundingTransaction({
    outputScript: P2WSH,
    amountSat: 1_500_000n,
    feerateSatPerKw: 2_000n,
  });
  const { tx } = built;
  assert.equal(tx.ins.length, 1, 'the largest coin covers it');
  assert.equal(tx.ins[0]?.sequence, 0xffff_fffd);
  assert.equal(tx.locktime, 1, 'anti fee sniping: the tip height');
  const funding = tx.outs[built.outputIndex];
  assert.deepEqual(funding?.script, P2WSH);
  assert.equal(funding?.value, 1_500_000n);
  const change = tx.outs[1 - built.outputIndex];
  assert.deepEqual(change?.script, keys.script(CHANGE, 0), 'change to the change keychain');
  assert.equal(change?.value, built.changeSat);
  assert.equal(2_000_000n - 1_500_000n - built.changeSat, built.feeSat);
  // The fee pays at least the feerate on the real weight (the estimate is an upper bound).
  assert.ok(built.feeSat * 1000n >= 2_000n * BigInt(tx.weight()));
  assert.ok(built.feeSat * 1000n < 2_000n * BigInt(tx.weight() + 8), 'and not much more');
  verifyInputs(
    tx,
    new Map([
      [
        outpointKey(txs[1]?.getId() as string, 0),
        { valueSat: 2_000_000n, publicKey: keys.publicKey(RECEIVE, 1) },
      ],
    ]),
  );
  assert.deepEqual(built.reservation.inputs, [outpointKey(txs[1]?.getId() as string, 0)]);
  assert.equal(built.reservation.txid, tx.getId());
  assert.deepEqual(wallet.balance(), {
    confirmedSat: 2_600_000n,
    unconfirmedSat: 0n,
    immatureSat: 0n,
    reservedSat: 2_000_000n,
    spendableSat: 600_000n,
  });
  await store.close();
});

test('reservations survive reopening; release frees the coins, also after reopening', async () => {
  const { wallet, store, dir } = await funded([1_000_000n]);
  const built = await wallet.fundingTransaction({
    outputScript: P2WSH,
    amountSat: 400_000n,
    feerateSatPerKw: 253n,
  });
  await store.close();
  let s = await openStore(dir);
  let w = await Wallet.open(s.store, SEED, { network: 'regtest' });
  assert.equal(w.balance().reservedSat, 1_000_000n);
  assert.deepEqual(
    w.reservations()[0]?.rawTx,
    new Uint8Array(built.tx.toBuffer()),
    'the signed transaction is kept',
  );
  await assert.rejects(
    w.fundingTransaction({ outputScript: P2WSH, amountSat: 400_000n, feerateSatPerKw: 253n }),
    (e) =>
      e instanceof WalletError && e.code === 'insufficient-funds' && /1000000 sat reserved/.test(e.message),
  );
  assert.equal(await w.release(built.reservation), true);
  assert.equal(await w.release(built.reservation.txid), false, 'once');
  await s.store.close();
  s = await openStore(dir);
  w = await Wallet.open(s.store, SEED, { network: 'regtest' });
  assert.equal(w.balance().spendableSat, 1_000_000n);
  const again = await w.fundingTransaction({
    outputScript: P2WSH,
    amountSat: 400_000n,
    feerateSatPerKw: 253n,
  });
  assert.deepEqual(
    again.reservation.inputs,
    built.reservation.inputs,
    'the same coin funds the next attempt',
  );
  assert.deepEqual(
    again.tx.outs[1 - again.outputIndex]?.script,
    keys.script(CHANGE, 1),
    'a new change address',
  );
  await s.store.close();
});

test('blocks, balances and the tip survive reopening', async () => {
  const { wallet, store, dir, chain } = await funded([700_000n]);
  const built = await wallet.fundingTransaction({
    outputScript: P2WSH,
    amountSat: 300_000n,
    feerateSatPerKw: 1000n,
  });
  await wallet.broadcast(built.tx, accepting());
  assert.equal(wallet.balance().unconfirmedSat, built.changeSat, 'change is unconfirmed');
  await wallet.blockConnected(chain.next([built.tx]), 2);
  const before = { balance: wallet.balance(), utxos: wallet.listUnspent(), tip: wallet.bestBlock };
  assert.deepEqual(before.balance.confirmedSat, built.changeSat);
  assert.equal(wallet.reservations().length, 0, 'confirmed: no longer reserved');
  await store.close();
  const s = await openStore(dir);
  const w = await Wallet.open(s.store, SEED, { network: 'regtest' });
  assert.deepEqual({ balance: w.balance(), utxos: w.listUnspent(), tip: w.bestBlock }, before);
  await w.blockConnected(chain.next(), 3);
  assert.equal(w.bestBlock.height, 3);
  await s.store.close();
});

test('broadcast: accepted is tracked; rejected releases the coins; not sent keeps them', async () => {
  const { wallet, store } = await funded([1_000_000n]);
  const build = () =>
    wallet.fundingTransaction({ outputScript: P2WSH, amountSat: 500_000n, feerateSatPerKw: 253n });

  let built = await build();
  await assert.rejects(
    wallet.broadcast(built.tx, answering({ accepted: false, rpcCode: -26, reason: 'min relay fee not met' })),
    (e) =>
      e instanceof WalletError &&
      e.code === 'broadcast-rejected' &&
      /-26: min relay fee not met/.test(e.message),
  );
  assert.equal(wallet.balance().reservedSat, 0n);
  assert.equal(wallet.balance().spendableSat, 1_000_000n);

  built = await build();
  await assert.rejects(
    wallet.broadcast(built.tx, answering({ accepted: false, reason: 'connection refused' })),
    (e) => e instanceof WalletError && e.code === 'broadcast-failed',
  );
  assert.equal(wallet.balance().reservedSat, 1_000_000n, 'the broadcaster will send it again');

  const txid = await wallet.broadcast(built.tx, accepting());
  assert.equal(txid, built.tx.getId());
  assert.equal(wallet.balance().confirmedSat, 0n, 'the coin is spent');
  assert.equal(wallet.balance().unconfirmedSat, built.changeSat);
  await store.close();
});

test('trackBroadcasts: what the node broadcasts for others is seen by the wallet', async () => {
  const { wallet, store } = await funded([1_000_000n]);
  const built = await wallet.sendTransaction({
    address: 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080',
    amountSat: 10_000n,
    feerateSatPerKw: 253n,
  });
  assert.deepEqual(
    Buffer.from(built.tx.outs[built.outputIndex]?.script as Uint8Array).toString('hex'),
    '0014751e76e8199196d454941c45d1b3a323f1433bd6',
  );
  const inner = accepting();
  const tracked = wallet.trackBroadcasts(inner);
  const [result] = await tracked.broadcastTransactions([built.tx.toBuffer()]);
  assert.equal(result?.accepted, true);
  assert.equal(inner.sent.length, 1);
  assert.equal(wallet.balance().unconfirmedSat, built.changeSat);
  await store.close();
});

test('a sweep sends every spendable coin, less the fee, without change', async () => {
  const { wallet, store } = await funded([100_000n, 50_000n, 25_000n]);
  const to = foreignScript(3);
  const built = await wallet.sendTransaction({ outputScript: to, amountSat: 'all', feerateSatPerKw: 1000n });
  assert.equal(built.tx.ins.length, 3);
  assert.equal(built.tx.outs.length, 1);
  assert.equal(built.changeSat, 0n);
  assert.equal(built.amountSat + built.feeSat, 175_000n);
  assert.ok(built.feeSat * 1000n >= 1000n * BigInt(built.tx.weight()));
  await store.close();
});

test('insufficient funds, dust and bad feerates are clear errors', async () => {
  const { wallet, store, chain } = await funded([100_000n]);
  // An immature coinbase too, so the message has something to explain.
  const immature = coinbaseTx([{ script: await wallet.coinbaseScript(), valueSat: 5_000_000n }]);
  await wallet.blockConnected(chain.next([immature]), 2);
  await assert.rejects(
    wallet.fundingTransaction({ outputScript: P2WSH, amountSat: 1_000_000n, feerateSatPerKw: 253n }),
    (e) => {
      assert.ok(e instanceof WalletError);
      assert.equal(e.code, 'insufficient-funds');
      assert.equal(e.details?.availableSat, 100_000n);
      assert.ok((e.details?.neededSat ?? 0n) > 1_000_000n);
      assert.match(
        e.message,
        /needed \d+ sat .* available 100000 sat .* 5000000 sat in immature coinbase outputs/,
      );
      return true;
    },
  );
  await assert.rejects(
    wallet.fundingTransaction({
      outputScript: P2WSH,
      amountSat: dustLimitSat(P2WSH) - 1n,
      feerateSatPerKw: 253n,
    }),
    (e) =>
      e instanceof WalletError &&
      e.code === 'dust-output' &&
      /under the dust limit of 330 sat/.test(e.message),
  );
  for (const feerateSatPerKw of [252n, 2_000_000n, 1000 as unknown as bigint]) {
    await assert.rejects(
      wallet.fundingTransaction({ outputScript: P2WSH, amountSat: 10_000n, feerateSatPerKw }),
      (e) => e instanceof WalletError && e.code === 'invalid-argument' && /feerateSatPerKw/.test(e.message),
    );
  }
  await assert.rejects(
    wallet.sendTransaction({
      address: 'tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx',
      amountSat: 10_000n,
      feerateSatPerKw: 253n,
    }),
    (e) => e instanceof WalletError && e.code === 'invalid-address',
  );
  await assert.rejects(
    wallet.sendTransaction({ amountSat: 10_000n, feerateSatPerKw: 253n }),
    (e) => e instanceof WalletError && e.code === 'invalid-argument',
  );
  await store.close();
});

test('a store of another seed or network is refused', async () => {
  const { store, dir } = await openStore();
  await Wallet.open(store, SEED, { network: 'regtest' });
  await assert.rejects(
    Wallet.open(store, new Uint8Array(32).fill(1), { network: 'regtest' }),
    (e) => e instanceof WalletError && e.code === 'wrong-wallet' && /another seed/.test(e.message),
  );
  await assert.rejects(
    Wallet.open(store, SEED, { network: 'testnet' }),
    (e) =>
      e instanceof WalletError &&
      e.code === 'wrong-wallet' &&
      /regtest wallet; this node runs on testnet/.test(e.message),
  );
  await store.close();
  assert.ok(dir);
});

test('a record from a newer lnkit that this one cannot read is refused, naming it', async () => {
  const { wallet, store, txs } = await funded([1_000n]);
  await wallet.close();
  const db = store.db(WALLET_DBS.outputs);
  const key = outpointKey(txs[0]?.getId() as string, 0);
  const bytes = db.get(key) as Uint8Array;
  await db.put(key, Uint8Array.of(2, 2, ...bytes.subarray(2)));
  await assert.rejects(
    Wallet.open(store, SEED, { network: 'regtest' }),
    (e) =>
      e instanceof StoreError &&
      e.code === 'record-too-new' &&
      /wallet-output record written by version 2/.test(e.message),
  );
  await store.close();
});

test('blocks that do not extend the tip are refused; the wallet is not moved', async () => {
  const { wallet, store, chain } = await funded([1_000n]);
  const block = chain.next();
  await assert.rejects(
    wallet.blockConnected(block, 3),
    (e) => e instanceof WalletError && e.code === 'invalid-argument',
  );
  await assert.rejects(
    wallet.blockConnected({ ...block, header: { ...block.header, prevHashHex: 'ff'.repeat(32) } }, 2),
    /does not extend the wallet's tip/,
  );
  const tip = chain.pop();
  await assert.rejects(wallet.blockDisconnected(tip, 2), /is not the wallet's tip/);
  assert.equal(wallet.bestBlock.height, 1);
  await store.close();
});

test('after a failed write the wallet refuses everything until reopened', async () => {
  const { wallet, store } = await funded([1_000n]);
  await store.close();
  await assert.rejects(wallet.newAddress(), (e) => e instanceof WalletError && e.code === 'store-failed');
  await assert.rejects(
    wallet.release('00'.repeat(32)),
    (e) => e instanceof WalletError && e.code === 'store-failed',
  );
  await wallet.close();
  await assert.rejects(wallet.newAddress(), (e) => e instanceof WalletError && e.code === 'closed');
});

test('the seed and the extended keys never show in JSON, inspect or errors', async () => {
  const { wallet, store } = await funded([1_000n]);
  const master = HDKey.fromMasterSeed(SEED);
  const secrets = [
    Buffer.from(SEED).toString('hex'),
    master.privateExtendedKey,
    master.derive("m/84'/1'/0'").privateExtendedKey,
    HDKey.fromMasterSeed(SEED, regtest.bip32Versions).derive("m/84'/1'/0'").privateExtendedKey,
  ];
  const texts = [JSON.stringify(wallet), inspect(wallet, { depth: 10, showHidden: true })];
  try {
    await wallet.fundingTransaction({ outputScript: P2WSH, amountSat: 10_000_000n, feerateSatPerKw: 253n });
  } catch (e) {
    texts.push(String(e), JSON.stringify(e), inspect(e));
    assert.match(JSON.stringify(e), /"code":"insufficient-funds".*"availableSat":"1000"/);
  }
  for (const text of texts)
    for (const s of secrets) assert.ok(!text.includes(s), `no secret in ${text.slice(0, 40)}`);
  await store.close();
});

/**
 * A transaction someone else builds spending `coin` at input 1 (a claim's fee input, its change
 * to `changeScript`), and its sighash.
 */
function feeInputSpend(
  coin: { txid: Uint8Array; vout: number; valueSat: bigint; pubkey: Uint8Array },
  feeSat = 2_000n,
  changeScript = foreignScript(5),
) {
  const tx = new Transaction();
  tx.version = 2;
  tx.addInput(new Uint8Array(32).fill(7), 0);
  tx.addInput(coin.txid, coin.vout, 0xffff_fffd);
  tx.addOutput(foreignScript(4), 1_000n);
  tx.addOutput(changeScript, coin.valueSat - feeSat);
  const scriptCode = p2wpkhScriptCode(p2wpkhScript(coin.pubkey));
  return { tx, sighash: tx.hashForWitnessV0(1, scriptCode, coin.valueSat, Transaction.SIGHASH_ALL) };
}

test('feeInputCoins: the confirmed coins no funding holds, largest first, each with its key; signInputSighash signs with it', async () => {
  const { wallet, store, txs } = await funded([300_000n, 900_000n, 500_000n]);
  // Not offered: a coin reserved for a funding, and one not confirmed yet.
  const funding = await wallet.fundingTransaction({
    outputScript: P2WSH,
    amountSat: 800_000n,
    feerateSatPerKw: 253n,
  });
  assert.deepEqual(funding.reservation.inputs, [outpointKey(txs[1]?.getId() as string, 0)]);
  await wallet.transactionSeen(
    makeTx([`${'cd'.repeat(32)}:0`], [{ script: await wallet.coinbaseScript(), valueSat: 700_000n }]),
  );

  const coins = wallet.feeInputCoins();
  assert.deepEqual(
    coins.map((c) => [Buffer.from(c.txid).reverse().toString('hex'), c.vout, c.valueSat]),
    [
      [txs[2]?.getId(), 0, 500_000n],
      [txs[0]?.getId(), 0, 300_000n],
    ],
  );
  // funded() paid coin i to receive key i.
  assert.deepEqual(coins[0]?.pubkey, keys.publicKey(RECEIVE, 2));
  assert.deepEqual(coins[1]?.pubkey, keys.publicKey(RECEIVE, 0));

  for (const coin of coins) {
    const { sighash } = feeInputSpend(coin);
    const signature = await wallet.signInputSighash(coin.pubkey, sighash);
    assert.equal(signature.length, 64, 'compact');
    assert.ok(nobleBackend.verify(signature, sighash, coin.pubkey), 'verifies (noble) against the sighash');
    assert.ok(!nobleBackend.verify(signature, sighash, keys.publicKey(RECEIVE, 1)), 'by that key only');
  }
  await store.close();
});

test("signInputSighash refuses a key that is not the wallet's, and malformed arguments", async () => {
  const { wallet, store } = await funded([100_000n]);
  const foreign = AccountKeys.fromSeed(new Uint8Array(32).fill(43), regtest).publicKey(RECEIVE, 0);
  const sighash = new Uint8Array(32).fill(1);
  await assert.rejects(
    wallet.signInputSighash(foreign, sighash),
    (e) =>
      e instanceof WalletError &&
      e.code === 'not-mine' &&
      e.message.includes(Buffer.from(foreign).toString('hex')),
  );
  const ours = keys.publicKey(RECEIVE, 0);
  await assert.rejects(
    wallet.signInputSighash(ours, new Uint8Array(31)),
    (e) => e instanceof WalletError && e.code === 'invalid-argument' && /32 bytes/.test(e.message),
  );
  await assert.rejects(
    wallet.signInputSighash(ours.subarray(1), sighash),
    (e) => e instanceof WalletError && e.code === 'invalid-argument',
  );
  await wallet.close();
  await assert.rejects(
    wallet.signInputSighash(ours, sighash),
    (e) => e instanceof WalletError && e.code === 'closed',
  );
  await store.close();
});

test('a coin a tracked claim spends as its fee input: the wallet spends it no more, the claim (replaced) takes it again', async () => {
  const { wallet, store, txs } = await funded([400_000n, 200_000n]);
  const [coin] = wallet.feeInputCoins();
  assert.ok(coin);
  const changeScript = await wallet.coinbaseScript();
  const claim = async (feeSat: bigint) => {
    const { tx, sighash } = feeInputSpend(coin, feeSat, changeScript);
    const signature = await wallet.signInputSighash(coin.pubkey, sighash);
    tx.setWitness(1, [bscript.signature.encode(signature, Transaction.SIGHASH_ALL), coin.pubkey]);
    const [r] = await wallet.trackBroadcasts(accepting()).broadcastTransactions([tx.toBuffer()]);
    assert.equal(r?.accepted, true);
  };
  await claim(2_000n);
  assert.equal(wallet.balance().unconfirmedSat, 400_000n - 2_000n, "the claim's change");
  assert.deepEqual(
    wallet.feeInputCoins().map((c) => c.valueSat),
    [400_000n, 200_000n],
    'still offered, for the claim to take again',
  );
  // Replaced at a higher fee: the replacement's change in place of the first's.
  await claim(5_000n);
  assert.equal(wallet.balance().unconfirmedSat, 400_000n - 5_000n);

  const sweep = await wallet.sendTransaction({
    outputScript: foreignScript(6),
    amountSat: 'all',
    feerateSatPerKw: 253n,
  });
  assert.deepEqual(
    sweep.tx.ins.map((i) => Buffer.from(i.hash).reverse().toString('hex')),
    [txs[1]?.getId()],
    "the wallet's own spend leaves the claim's coin alone",
  );
  await wallet.broadcast(sweep.tx, accepting());
  assert.deepEqual(
    wallet.feeInputCoins().map((c) => c.valueSat),
    [400_000n],
    'a coin a transaction of the wallet spends is not offered',
  );
  await store.close();
});

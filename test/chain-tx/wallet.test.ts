/**
 * The on-chain wallet against a real regtest full node (bcoin, which validates scripts and
 * signatures): the chain mines to the wallet, the wallet follows it through
 * synchronizeListeners over JSON-RPC, funds a P2WSH 2-of-2 output, and bcoin accepts the
 * transaction (or refuses it, and the wallet gets its coins back); a restart keeps everything,
 * and a reorg takes back what it removed. Run: node scripts/test.mjs test/chain-tx
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  BitcoindBroadcaster,
  BitcoindRpcClient,
  RpcBlockSource,
  synchronizeListeners,
} from '@lnkit/chain-sync';
import { randomBytes } from '@lnkit/crypto';
import { KeysManager } from '@lnkit/keys';
import { Store } from '@lnkit/store';
import { captureLogger } from '@lnkit/test-support';
import { SEGWIT_ACTIVE_HEIGHT, startTestChain, type TestChain } from '@lnkit/testchain';
import { fundingScriptPubKey } from '@lnkit/tx';
import { Wallet, WalletError } from '@lnkit/wallet';
import { Transaction } from 'bitcoinjs-lib';

let chain: TestChain;
let dataDir: string;
let store: Store;
let wallet: Wallet;
const seed = randomBytes(32);
const { logger } = captureLogger();

before(async () => {
  chain = await startTestChain();
  dataDir = mkdtempSync(join(tmpdir(), 'lnkit-wallet-chain-'));
  store = await Store.open(dataDir, { schemaVersion: 1, network: 'regtest' });
  // bcoin's addresses start with rb; the wallet gives them so the chain's tools can pay them.
  wallet = await Wallet.open(store, seed, { network: 'regtest', regtestPrefix: 'rb' });
});
after(async () => {
  await store?.close();
  await chain?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const rpc = () =>
  new BitcoindRpcClient({ url: chain.rpcUrl, auth: { user: chain.rpcUser, password: chain.rpcPassword } });
const source = () => new RpcBlockSource(rpc());
const broadcaster = () => new BitcoindBroadcaster(rpc(), { logger });
/** Brings the wallet to bcoin's tip, as the node's step 10 does (walking back a stale fork). */
const sync = async () => {
  await synchronizeListeners(source(), [wallet.atBlock()], logger);
  assert.equal(wallet.bestBlock.height, await chain.height());
};
const coinbaseValueSat = async (blockHash: string): Promise<bigint> => {
  const block = (await chain.rpc('getblock', [blockHash, true, true])) as {
    tx: { vout: { value: number }[] }[];
  };
  return BigInt(Math.round((block.tx[0]?.vout[0]?.value ?? 0) * 1e8));
};
/** A P2WSH 2-of-2 funding output between two fresh channel signers. */
const fundingOutput = () =>
  fundingScriptPubKey(
    new KeysManager(randomBytes(32)).createChannelSigner(0n).pubkeys.fundingPubkey,
    new KeysManager(randomBytes(32)).createChannelSigner(0n).pubkeys.fundingPubkey,
  );

let minedSat = 0n;

test('a coinbase mined to the wallet is immature for 100 blocks, then spendable', async () => {
  const [hash] = await chain.mine(1, await wallet.coinbaseScript());
  minedSat = await coinbaseValueSat(hash as string);
  assert.ok(minedSat > 0n);
  await sync();
  assert.equal(wallet.balance().immatureSat, minedSat);
  assert.equal(wallet.balance().confirmedSat, 0n);
  await chain.mine(99);
  await sync();
  assert.equal(wallet.balance().confirmedSat, minedSat, 'spendable in the next block');
  assert.equal(wallet.balance().immatureSat, 0n);
});

test('before segwit activates (height 432 on bcoin regtest) bcoin refuses the funding: its coins come back', async () => {
  assert.ok((await chain.height()) < SEGWIT_ACTIVE_HEIGHT);
  const built = await wallet.fundingTransaction({
    outputScript: fundingOutput(),
    amountSat: 1_000_000n,
    feerateSatPerKw: 253n,
  });
  assert.equal(wallet.balance().reservedSat, minedSat);
  await assert.rejects(
    wallet.broadcast(built.tx, broadcaster()),
    (e) => e instanceof WalletError && e.code === 'broadcast-rejected' && /no-witness-yet/.test(e.message),
  );
  assert.equal(wallet.balance().reservedSat, 0n, 'released');
  assert.equal(wallet.balance().spendableSat, minedSat);
  assert.equal(wallet.balance().unconfirmedSat, 0n, 'nothing tracked from a rejected transaction');
});

test('an unconfirmed payment to a wallet address, then its confirmation', async () => {
  await chain.activateSegwit();
  await sync();
  const address = await wallet.newAddress();
  assert.match(address, /^rb1q/);
  const paid = await chain.fundScript(await wallet.coinbaseScript(), 300_000n);
  assert.equal(await wallet.transactionSeen(paid.rawTx), true);
  assert.equal(wallet.balance().unconfirmedSat, 300_000n);
  await chain.mine(1);
  await sync();
  assert.equal(wallet.balance().unconfirmedSat, 0n);
  assert.equal(wallet.balance().confirmedSat, minedSat + 300_000n);
});

test('a funding transaction to a P2WSH 2-of-2: bcoin accepts it, balance and change follow its confirmation', async () => {
  const before = wallet.balance().confirmedSat;
  const outputScript = fundingOutput();
  const built = await wallet.fundingTransaction({
    outputScript,
    amountSat: 1_000_000n,
    feerateSatPerKw: 2_500n,
  });
  assert.ok(built.changeSat > 0n);
  const txid = await wallet.broadcast(built.tx, broadcaster());
  assert.equal(txid, built.tx.getId());
  assert.equal(wallet.balance().confirmedSat, before - minedSat, 'the coinbase coin is spent');
  assert.equal(wallet.balance().unconfirmedSat, built.changeSat);
  // bcoin computes the same fee and a feerate at least the one asked for.
  const entry = (await chain.rpc('getmempoolentry', [txid])) as {
    fee: number;
    vsize?: number;
    size?: number;
  };
  assert.equal(BigInt(Math.round(entry.fee * 1e8)), built.feeSat);
  assert.ok(built.feeSat * 1000n >= 2_500n * BigInt(built.tx.weight()));

  await chain.mine(1);
  await sync();
  assert.equal(wallet.balance().confirmedSat, before - 1_000_000n - built.feeSat);
  assert.equal(wallet.balance().unconfirmedSat, 0n);
  assert.equal(wallet.reservations().length, 0, 'confirmed: the reservation is done');
  const out = (await chain.rpc('gettxout', [txid, built.outputIndex])) as {
    value: number;
    confirmations: number;
    scriptPubKey: { hex: string };
  };
  assert.equal(out.confirmations, 1);
  assert.equal(BigInt(Math.round(out.value * 1e8)), 1_000_000n);
  assert.equal(out.scriptPubKey.hex, Buffer.from(outputScript).toString('hex'));
  // The change can itself be spent: a second funding from it is accepted too.
  const second = await wallet.fundingTransaction({
    outputScript: fundingOutput(),
    amountSat: 200_000n,
    feerateSatPerKw: 253n,
  });
  await wallet.broadcast(second.tx, broadcaster());
  await chain.mine(1);
  await sync();
});

test('a failed funding releases its inputs for the next one', async () => {
  const spendable = wallet.balance().spendableSat;
  const failed = await wallet.fundingTransaction({
    outputScript: fundingOutput(),
    amountSat: 100_000n,
    feerateSatPerKw: 253n,
  });
  assert.ok(wallet.balance().spendableSat < spendable);
  // The peer never sent funding_signed: the channel fails, the funding is never broadcast.
  assert.equal(await wallet.release(failed.reservation), true);
  assert.equal(wallet.balance().spendableSat, spendable);
  const next = await wallet.fundingTransaction({
    outputScript: fundingOutput(),
    amountSat: 100_000n,
    feerateSatPerKw: 253n,
  });
  assert.deepEqual(
    next.reservation.inputs,
    failed.reservation.inputs,
    'the same coins fund the next attempt',
  );
  await wallet.broadcast(next.tx, broadcaster());
  // The released one now conflicts with the broadcast one: a replacement (the wallet's
  // transactions signal BIP 125) paying no more, refused as bitcoind refuses it.
  await assert.rejects(
    chain.sendRawTransaction(failed.tx.toHex()),
    /insufficient fee, rejecting replacement/,
  );
  await chain.mine(1);
  await sync();
});

test('a restart (the store reopened) keeps balance, coins, reservations and the next address', async () => {
  const pending = await wallet.fundingTransaction({
    outputScript: fundingOutput(),
    amountSat: 50_000n,
    feerateSatPerKw: 253n,
  });
  const lastAddress = await wallet.newAddress();
  const before = {
    balance: wallet.balance(),
    utxos: wallet.listUnspent(),
    reservations: wallet.reservations(),
    tip: wallet.bestBlock,
  };
  await wallet.close();
  await store.close();
  store = await Store.open(dataDir, { schemaVersion: 1, network: 'regtest' });
  wallet = await Wallet.open(store, seed, { network: 'regtest', regtestPrefix: 'rb' });
  assert.deepEqual(
    {
      balance: wallet.balance(),
      utxos: wallet.listUnspent(),
      reservations: wallet.reservations(),
      tip: wallet.bestBlock,
    },
    before,
  );
  assert.notEqual(await wallet.newAddress(), lastAddress, 'the address index was kept');
  // The reserved funding is still valid after the restart: bcoin accepts it.
  await wallet.broadcast(Transaction.fromBuffer(pending.reservation.rawTx), broadcaster());
  await chain.mine(2);
  await sync();
  assert.equal(wallet.balance().unconfirmedSat, 0n);
});

test('a reorg that removes a block paying the wallet drops that coin; a payment goes back to unconfirmed', async () => {
  const before = wallet.balance();
  const [orphanHash] = await chain.mine(1, await wallet.coinbaseScript());
  const orphan = (await chain.rpc('getblock', [orphanHash, true, false])) as { tx: string[] };
  const orphanCoinbase = orphan.tx[0];
  const paid = await chain.fundScript(await wallet.coinbaseScript(), 400_000n);
  await chain.mine(1);
  await sync();
  assert.ok(wallet.listUnspent().some((o) => o.txid === orphanCoinbase));
  assert.ok(wallet.balance().immatureSat > before.immatureSat);
  assert.equal(wallet.balance().confirmedSat, before.confirmedSat + 400_000n);
  // Both blocks replaced by three empty ones: the coinbase is gone, the payment back in the mempool.
  await chain.reorg(2);
  await sync();
  assert.equal(wallet.balance().immatureSat, before.immatureSat, 'the coinbase that paid us is gone');
  assert.equal(wallet.balance().confirmedSat, before.confirmedSat);
  assert.equal(wallet.balance().unconfirmedSat, 400_000n, 'the payment is unconfirmed again');
  assert.ok(!wallet.listUnspent().some((o) => o.txid === orphanCoinbase));
  await chain.mine(1);
  await sync();
  assert.equal(
    wallet.balance().confirmedSat,
    before.confirmedSat + 400_000n,
    'confirmed again in the new chain',
  );
  assert.ok(wallet.listUnspent().some((o) => o.txid === paid.txid));
});

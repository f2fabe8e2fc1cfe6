/**
 * The funding output check of channel_announcement on a real regtest chain (bcoin, through its
 * bitcoind-style JSON-RPC: getblockhash, getblock, gettxout): a P2WSH 2-of-2 of the announced
 * bitcoin keys is accepted with its value as capacity; too few confirmations, another script, no
 * such output and a spent output are ignored (BOLT 7 "MUST ignore the message"); and when a block
 * spends a channel's output the channel is marked spent, then forgotten 72 blocks later.
 * Run: node scripts/test.mjs test/gossip
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { RpcBlockSource } from '@lnkit/chain-sync';
import { inThreadCrypto, nativeBackend } from '@lnkit/crypto';
import {
  CHANNEL_SPENT,
  ChainUtxoLookup,
  forgetSpent,
  fundingScriptPubKey,
  fundingSpent,
  GossipValidator,
  NetworkGraph,
  rpcUtxoSource,
  runBatch,
  spentOutpoints,
} from '@lnkit/gossip';
import {
  orderedNodes,
  REGTEST_CHAIN_HASH,
  signChannelAnnouncement,
  signChannelUpdate,
  testKey,
} from '@lnkit/gossip/testing';
import { startTestChain, type TestChain } from '@lnkit/testchain';
import { script as bscript, opcodes as OPS, Transaction } from 'bitcoinjs-lib';

let chain: TestChain;
let source: RpcBlockSource;
before(async () => {
  chain = await startTestChain({ rpcUser: 'u', rpcPassword: 'p' });
  await chain.activateSegwit();
  source = new RpcBlockSource({ url: chain.rpcUrl, auth: { user: 'u', password: 'p' } });
});
after(async () => {
  await chain?.stop();
});

const NODE_A = testKey(1);
const NODE_B = testKey(2);
const BTC_A = testKey(51);
const BTC_B = testKey(52);
const FUNDING_SAT = 1_000_000n;

/** The block position of a transaction, as a short_channel_id. */
async function scidOf(txid: string, vout: number): Promise<{ scid: bigint; height: number }> {
  const info = (await chain.rpc('getrawtransaction', [txid, true])) as { blockhash?: string };
  const hash = info.blockhash ?? (await chain.rpc('getbestblockhash'));
  const block = (await chain.rpc('getblock', [hash, 1])) as { height: number; tx: string[] };
  const index = block.tx.indexOf(txid);
  assert.ok(index > 0, 'the funding transaction is in the block');
  return {
    scid: (BigInt(block.height) << 40n) | (BigInt(index) << 16n) | BigInt(vout),
    height: block.height,
  };
}

function setup() {
  const graph = new NetworkGraph({ chainHash: REGTEST_CHAIN_HASH });
  const utxo = new ChainUtxoLookup(rpcUtxoSource(source, source.rpc), { bestBlockMaxAgeMs: 0 });
  const validator = new GossipValidator(graph);
  const run = async (...raws: Uint8Array[]) => {
    const r = await runBatch(
      validator,
      raws.map((raw) => ({ peer: 'p', raw })),
      { crypto: inThreadCrypto, utxo },
    );
    return raws.map((_, i) => r.batch.outcomeOf(i));
  };
  return { graph, run };
}

const announce = (scid: bigint) =>
  signChannelAnnouncement({ scid, nodeA: NODE_A, nodeB: NODE_B, bitcoinA: BTC_A, bitcoinB: BTC_B });

/** Spends a 2-of-2 funding output back to the chain's wallet, signed with both funding keys. */
function spendFunding(fundingTxid: string, vout: number): Uint8Array {
  const [k1, k2] =
    Buffer.compare(Buffer.from(BTC_A.publicKey), Buffer.from(BTC_B.publicKey)) < 0
      ? [BTC_A, BTC_B]
      : [BTC_B, BTC_A];
  const witnessScript = bscript.compile([
    OPS.OP_2,
    k1.publicKey,
    k2.publicKey,
    OPS.OP_2,
    OPS.OP_CHECKMULTISIG,
  ]);
  const tx = new Transaction();
  tx.version = 2;
  tx.addInput(Buffer.from(fundingTxid, 'hex').reverse(), vout);
  tx.addOutput(chain.walletScriptPubKey, FUNDING_SAT - 2_000n);
  const sighash = tx.hashForWitnessV0(0, witnessScript, FUNDING_SAT, Transaction.SIGHASH_ALL);
  const sig = (k: typeof BTC_A) =>
    bscript.signature.encode(nativeBackend.sign(sighash, k.privateKey), Transaction.SIGHASH_ALL);
  tx.setWitness(0, [new Uint8Array(0), sig(k1), sig(k2), witnessScript]);
  return tx.toBuffer();
}

test('funding outputs on a real chain: accepted with its capacity, or ignored; a spend removes the channel 72 blocks later', {
  timeout: 300_000,
}, async () => {
  const spk = fundingScriptPubKey(BTC_A.publicKey, 0, BTC_B.publicKey, 0);
  const funded = await chain.fundScript(spk, FUNDING_SAT);
  await chain.mine(1);
  const { scid, height } = await scidOf(funded.txid, funded.vout);

  // One confirmation: "does NOT have at least 6 confirmations ... SHOULD ignore".
  assert.deepEqual(await setup().run(announce(scid)), ['utxo-unconfirmed']);
  await chain.mine(5);

  // Another script at a second output; an output that does not exist.
  const other = await chain.fundScript(
    fundingScriptPubKey(testKey(60).publicKey, 0, testKey(61).publicKey, 0),
    50_000n,
  );
  await chain.mine(6);
  const otherScid = (await scidOf(other.txid, other.vout)).scid;
  const { graph, run } = setup();
  assert.deepEqual(await run(announce(otherScid), announce(scid + 7n), announce(scid)), [
    'utxo-script-mismatch',
    'utxo-missing',
    'accepted',
  ]);
  assert.equal(graph.channel(scid)!.capacitySat, FUNDING_SAT);
  const [n1] = orderedNodes({ nodeA: NODE_A, nodeB: NODE_B });
  assert.deepEqual(
    await run(
      signChannelUpdate({ scid, signer: n1, direction: 0, timestamp: Math.floor(Date.now() / 1000) }),
    ),
    ['accepted'],
  );

  // The channel closes: a block spends its funding output.
  const spendTxid = await chain.sendRawTransaction(
    Buffer.from(spendFunding(funded.txid, funded.vout)).toString('hex'),
  );
  const [spendBlockHash] = await chain.mine(1);
  const block = await source.getBlock(spendBlockHash!);
  assert.ok(block.txdata.some((tx) => tx.getId() === spendTxid));
  assert.equal(fundingSpent(graph, spentOutpoints(block), block.header.height), 1);
  const c = graph.channelIndex(scid);
  assert.ok(graph.channelFlagsAt(c) & CHANNEL_SPENT);
  assert.equal(forgetSpent(graph, block.header.height + 71), 0);
  assert.equal(forgetSpent(graph, block.header.height + 72), 1);
  assert.equal(graph.channel(scid), undefined);

  // And a node that hears of it now ignores it: "OR the output is spent: MUST ignore the message".
  assert.deepEqual(await setup().run(announce(scid)), ['utxo-spent']);
  assert.ok(height > 432);
});

/**
 * How a built node equips its ChainMonitor to claim on chain (step 6): the wallet's confirmed
 * coins pay the fees of zero-fee anchors claims, each signed inside the wallet by its own key (the
 * signatures are checked here and then spent on the bcoin chain); and a user's signer provider
 * signs the claims when it has claimSigner, while one without it is named at start.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { nobleBackend } from '@lnkit/crypto';
import { KeysManager, readSeed } from '@lnkit/keys';
import type { ChannelMonitor } from '@lnkit/monitor';
import { createRootLogger } from '@lnkit/runtime';
import { captureLogger, type LogLine, waitFor } from '@lnkit/test-support';
import {
  ChannelKeysClaimSigner,
  encodeSignature,
  type FeeInput,
  feeInputSighash,
  finalizeFeeInput,
  SIGHASH_ALL,
  Transaction,
} from '@lnkit/tx';
import { p2wpkhScript, p2wpkhScriptCode } from '@lnkit/wallet';
import type { NodeContext } from './context.ts';
import { type LnkitNode, NodeBuilder, type NodeSignerProvider } from './index.ts';
import { nodeConfig, useTestChain } from './test-fixtures.ts';

const { chain, dir } = useTestChain();
const silent = () =>
  createRootLogger({ level: (process.env.LNKIT_TEST_LOG as 'info' | undefined) ?? 'silent' });
const config = (name: string) => nodeConfig(chain(), dir(name));
/** The node's context, where step 6 leaves the options it gave the ChainMonitor. */
const ctxOf = (node: LnkitNode) => Reflect.get(node, 'ctx') as NodeContext;
const displayTxid = (internal: Uint8Array) => Buffer.from(internal).reverse().toString('hex');

const running: LnkitNode[] = [];
after(async () => {
  await Promise.all(running.map((n) => n.stop()));
});
async function start(builder: NodeBuilder): Promise<LnkitNode> {
  const node = await builder.build();
  running.push(node);
  return node;
}

test("feeInputs are the wallet's confirmed coins, largest first, with their keys; feeInputSigner's signatures spend them", async () => {
  await chain().activateSegwit();
  const node = await start(new NodeBuilder(config('fees')).withLogger(silent()));
  const small = await chain().fundScript(await node.coinbaseScript(), 300_000n);
  const large = await chain().fundScript(await node.coinbaseScript(), 800_000n);
  await chain().mine(1);
  // In the mempool, and not seen by the node: not offered.
  await chain().fundScript(await node.coinbaseScript(), 500_000n);
  await waitFor(() => node.wallet.balance().confirmedSat === 1_100_000n, { what: 'two coins confirmed' });

  const { feeInputs, feeInputSigner, claimSigner } = ctxOf(node).get('enforcement');
  assert.ok(feeInputs && feeInputSigner, 'the ChainMonitor has fee inputs and their signer');
  assert.ok(claimSigner, "and the signer pool's claim signer");
  const inputs = feeInputs();
  assert.deepEqual(
    inputs.map((i) => [displayTxid(i.txid), i.vout, i.valueSat]),
    [
      [large.txid, large.vout, 800_000n],
      [small.txid, small.vout, 300_000n],
    ],
  );
  // Each key is the one the coin's output pays (P2WPKH).
  for (const [i, funded] of [large, small].entries()) {
    const paid = Transaction.fromBuffer(Buffer.from(funded.rawTx)).outs[funded.vout]?.script;
    assert.deepEqual(p2wpkhScript((inputs[i] as FeeInput).pubkey), new Uint8Array(paid as Uint8Array));
  }

  // Both spent as the ChainMonitor spends a fee input, to the wallet: input 1 by @lnkit/tx's own
  // sighash and witness for fee inputs, input 0 likewise by hand.
  const [first, second] = inputs as [FeeInput, FeeInput];
  const tx = new Transaction();
  tx.version = 2;
  tx.addInput(first.txid, first.vout, 0xffff_fffd);
  tx.addInput(second.txid, second.vout, 0xffff_fffd);
  tx.addOutput(await node.coinbaseScript(), 1_100_000n - 1_000n);
  const sighashes = [
    new Uint8Array(
      tx.hashForWitnessV0(0, p2wpkhScriptCode(p2wpkhScript(first.pubkey)), first.valueSat, SIGHASH_ALL),
    ),
    feeInputSighash(tx, second),
  ];
  const signatures = [
    await feeInputSigner.signFeeInput(first, sighashes[0] as Uint8Array),
    await feeInputSigner.signFeeInput(second, sighashes[1] as Uint8Array),
  ];
  for (const [i, input] of [first, second].entries()) {
    assert.equal(signatures[i]?.length, 64, 'compact');
    assert.ok(
      nobleBackend.verify(signatures[i] as Uint8Array, sighashes[i] as Uint8Array, input.pubkey),
      `the signature of input ${i} verifies (noble) against its sighash and key`,
    );
  }
  tx.setWitness(0, [encodeSignature(signatures[0] as Uint8Array, SIGHASH_ALL), first.pubkey]);
  const signed = finalizeFeeInput(tx, second, signatures[1] as Uint8Array);
  const [result] = await ctxOf(node).get('broadcaster').broadcastTransactions([signed.toBuffer()]);
  assert.equal(result?.accepted, true, `the chain takes it: ${JSON.stringify(result)}`);
  // In the mempool: the wallet counts them spent, and offers them still, for that spend to take again.
  assert.equal(node.wallet.balance().confirmedSat, 0n);
  assert.deepEqual(
    feeInputs().map((i) => i.valueSat),
    [800_000n, 300_000n],
  );
  await chain().mine(1);
  // Confirmed: the coins are gone, and its output and the third coin are offered in their place.
  await waitFor(
    () => {
      const values = feeInputs().map((i) => i.valueSat);
      return values.length === 2 && values[0] === 1_099_000n && values[1] === 500_000n;
    },
    { what: 'the spend and the third coin confirmed' },
  );
});

test("a user's signer provider with claimSigner signs the claims; one without it is warned of at start", async () => {
  const name = 'own-signer';
  // The first start makes the data dir's seed; the user's signer is built from it.
  await (await new NodeBuilder(config(name)).withLogger(silent()).build()).stop();
  const found = readSeed(dir(name));
  assert.ok(found);
  const keys = new KeysManager(found.seed);
  const base = {
    nodeId: keys.nodeId,
    getSecureRandomBytes: () => keys.getSecureRandomBytes(),
    createChannelSigner: (index: bigint) => keys.createChannelSigner(index),
  };
  const signer = new ChannelKeysClaimSigner(keys.deriveChannelKeys(7n));
  const asked: { index: bigint; walletPathOf: (script: Uint8Array) => string | undefined }[] = [];
  const provider: NodeSignerProvider = {
    ...base,
    claimSigner: (index, walletPathOf) => {
      asked.push({ index, walletPathOf });
      return signer;
    },
  };
  const claimWarning = (lines: LogLine[]) => lines.find((l) => /no claimSigner/.test(String(l.msg)));

  const withClaims = captureLogger({ level: 'warn' });
  const node = await new NodeBuilder(config(name))
    .withLogger(withClaims.logger)
    .withSignerProvider(provider)
    .build();
  try {
    const { claimSigner } = ctxOf(node).get('enforcement');
    assert.ok(claimSigner, 'the ChainMonitor has a claim signer');
    const monitor = { info: { channelKeyIndex: 7n } } as ChannelMonitor;
    assert.equal(claimSigner(monitor), signer, "the provider's");
    assert.equal(asked.length, 1);
    assert.equal(asked[0]?.index, 7n, "asked for the monitor's channel key index");
    // The path of a wallet script, for a signer that checks every claim pays the wallet.
    assert.match(asked[0]?.walletPathOf(await node.coinbaseScript()) ?? '', /^m\/84'\/1'\/0'\/0\/\d+$/);
    assert.equal(asked[0]?.walletPathOf(new Uint8Array(22).fill(1)), undefined);
    assert.equal(claimWarning(withClaims.lines), undefined);
  } finally {
    await node.stop();
  }

  const without = captureLogger({ level: 'warn' });
  const unsigned = await start(
    new NodeBuilder(config(name)).withLogger(without.logger).withSignerProvider(base),
  );
  const warning = claimWarning(without.lines);
  assert.ok(warning, `warned at start: ${JSON.stringify(without.lines)}`);
  assert.equal(warning.level, 40, 'a warning');
  assert.match(String(warning.msg), /claimSigner\(channelKeyIndex, walletPathOf\)/, 'naming what is missing');
  assert.match(String(warning.msg), /on-chain claims will not be signed/);
  // No claim signer at all: the ChainMonitor says so for each channel with claims, not every block.
  assert.equal(ctxOf(unsigned).get('enforcement').claimSigner, undefined);
  assert.ok(ctxOf(unsigned).get('enforcement').feeInputs, 'the fee inputs are given all the same');
});

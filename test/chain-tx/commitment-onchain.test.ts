/**
 * On a real regtest chain (bcoin, which validates scripts and signatures): a funding transaction
 * built by lnkit and signed with a KeysManager wallet key, paying the 2-of-2 of two lnkit
 * channel signers, confirms; then a commitment transaction signed by both
 * channel signers spends it and confirms; its HTLC-timeout transaction is refused before its
 * locktime and accepted after. Run: node scripts/test.mjs test/chain-tx
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { randomBytes, sha256 } from '@lnkit/crypto';
import { type DefaultChannelSigner, KeysError, KeysManager } from '@lnkit/keys';
import { startTestChain, type TestChain } from '@lnkit/testchain';
import {
  buildCommitmentTransaction,
  buildFundingTransaction,
  buildHtlcTransactions,
  buildLegacyClosingTransaction,
  type ChannelType,
  type CommitmentHtlc,
  closingSighash,
  commitmentSighash,
  deriveCommitmentKeys,
  encodeSignature,
  finalizeCommitment,
  finalizeFundingSpend,
  finalizeHtlcTransaction,
  fundingScript,
  obscuringFactor,
  p2wpkh,
  SIGHASH_ALL,
  SIGHASH_SINGLE_ANYONECANPAY,
  signCounterpartyCommitment,
  signHolderCommitment,
} from '@lnkit/tx';
import { script as bscript, crypto as btcCrypto, opcodes as OPS } from 'bitcoinjs-lib';

let chain: TestChain;
before(async () => {
  chain = await startTestChain();
  await chain.activateSegwit();
});
after(async () => {
  await chain?.stop();
});

const FUNDING_SAT = 1_000_000n;

interface Channel {
  aliceKeys: KeysManager;
  alice: DefaultChannelSigner;
  bob: DefaultChannelSigner;
  fundingTxid: Uint8Array;
  fundingVout: number;
}

/** The BIP 143 script code of a P2WPKH input: the P2PKH script of its key. */
const p2wpkhScriptCode = (pubkey: Uint8Array) =>
  bscript.compile([
    OPS.OP_DUP,
    OPS.OP_HASH160,
    btcCrypto.hash160(pubkey),
    OPS.OP_EQUALVERIFY,
    OPS.OP_CHECKSIG,
  ]);

/**
 * Alice opens a channel to Bob. The chain pays a coin to Alice's wallet key; from it lnkit builds
 * the funding transaction (buildFundingTransaction: the 2-of-2 output and change, BIP 69 order),
 * Alice's KeysManager signs its input, and the full node accepts and confirms it.
 */
async function openChannel(channelIndex: bigint): Promise<Channel> {
  const aliceKeys = new KeysManager(randomBytes(32));
  const alice = aliceKeys.createChannelSigner(channelIndex);
  const bob = new KeysManager(randomBytes(32)).createChannelSigner(channelIndex);
  const walletPub = aliceKeys.walletPublicKey(channelIndex);
  const coinSat = FUNDING_SAT + 200_000n;
  const coin = await chain.fundScript(p2wpkh(walletPub), coinSat);
  await chain.mine(1);
  const funding = buildFundingTransaction({
    inputs: [{ txid: Uint8Array.from(Buffer.from(coin.txid, 'hex')).reverse(), vout: coin.vout }],
    fundingSat: FUNDING_SAT,
    localFundingPubkey: alice.pubkeys.fundingPubkey,
    remoteFundingPubkey: bob.pubkeys.fundingPubkey,
    change: { scriptPubKey: p2wpkh(walletPub), valueSat: coinSat - FUNDING_SAT - 2_000n },
  });
  const sighash = funding.tx.hashForWitnessV0(0, p2wpkhScriptCode(walletPub), coinSat, SIGHASH_ALL);
  funding.tx.setWitness(0, [
    encodeSignature(await aliceKeys.signWithWalletKey(channelIndex, sighash), SIGHASH_ALL),
    walletPub,
  ]);
  const fundingTxid = await chain.sendRawTransaction(funding.tx.toHex());
  assert.equal(fundingTxid, funding.tx.getId());
  await chain.mine(1);
  assert.equal(await confirmations(fundingTxid), 1, 'the funding transaction confirms');
  assert.equal(funding.tx.outs[funding.fundingOutputIndex]?.value, FUNDING_SAT);
  return {
    aliceKeys,
    alice,
    bob,
    fundingTxid: funding.tx.getHash(),
    fundingVout: funding.fundingOutputIndex,
  };
}

/** Alice's commitment `n`, co-signed: Bob signs it as the counterparty, Alice as the holder. */
async function aliceCommitment(
  ch: Channel,
  channelType: ChannelType,
  n: bigint,
  htlcs: CommitmentHtlc[],
  toLocalMsat: bigint,
) {
  const { alice, bob } = ch;
  const alicePoint = await alice.getPerCommitmentPoint(n);
  const commitment = buildCommitmentTransaction({
    channelType,
    fundingOutpoint: { txid: ch.fundingTxid, vout: ch.fundingVout },
    fundingSat: FUNDING_SAT,
    localFundingPubkey: alice.pubkeys.fundingPubkey,
    remoteFundingPubkey: bob.pubkeys.fundingPubkey,
    commitmentNumber: n,
    obscuringFactor: obscuringFactor(alice.pubkeys.paymentBasepoint, bob.pubkeys.paymentBasepoint),
    toLocalMsat,
    toRemoteMsat: FUNDING_SAT * 1000n - toLocalMsat - htlcs.reduce((s, h) => s + h.amountMsat, 0n),
    localIsFunder: true,
    feeratePerKw: 2500n,
    dustLimitSat: 546n,
    toSelfDelay: 144,
    keys: deriveCommitmentKeys({
      perCommitmentPoint: alicePoint,
      ownerDelayedPaymentBasepoint: alice.pubkeys.delayedPaymentBasepoint,
      ownerHtlcBasepoint: alice.pubkeys.htlcBasepoint,
      otherRevocationBasepoint: bob.pubkeys.revocationBasepoint,
      otherHtlcBasepoint: bob.pubkeys.htlcBasepoint,
      otherPaymentBasepoint: bob.pubkeys.paymentBasepoint,
    }),
    htlcs,
  });
  const htlcTxs = buildHtlcTransactions(commitment);
  const bobSigs = await signCounterpartyCommitment(bob, commitment, htlcTxs, alicePoint);
  await alice.validateHolderCommitment(n);
  const aliceSigs = await signHolderCommitment(alice, commitment, htlcTxs);
  return {
    commitment,
    htlcTxs,
    bobSigs,
    aliceSigs,
    signed: finalizeCommitment(commitment, aliceSigs.signature, bobSigs.signature),
  };
}

async function confirmations(txidHex: string): Promise<number> {
  const info = (await chain.rpc('getrawtransaction', [txidHex, true])) as { confirmations?: number };
  return info.confirmations ?? 0;
}

test('static_remotekey: commitment confirms; HTLC-timeout rejected before its locktime, accepted after', async () => {
  const ch = await openChannel(0n);
  const height = await chain.height();
  const cltvExpiry = height + 10;
  const offered: CommitmentHtlc = {
    direction: 'offered',
    amountMsat: 50_000_000n,
    paymentHash: sha256(randomBytes(32)),
    cltvExpiry,
  };
  const received: CommitmentHtlc = {
    direction: 'received',
    amountMsat: 30_000_000n,
    paymentHash: sha256(randomBytes(32)),
    cltvExpiry: height + 40,
  };
  const { commitment, signed, htlcTxs, aliceSigs, bobSigs } = await aliceCommitment(
    ch,
    'static_remotekey',
    0n,
    [offered, received],
    600_000_000n,
  );
  assert.equal(signed.outs.length, 4, 'to_local, to_remote and two HTLC outputs');

  // Control: the same commitment with a signature that is not Bob's is refused by the node.
  const forged = finalizeCommitment(commitment, aliceSigs.signature, aliceSigs.signature);
  await assert.rejects(
    chain.sendRawTransaction(forged.toHex()),
    (e: unknown) => (e as { code?: number }).code === -26,
  );

  const commitmentTxid = await chain.sendRawTransaction(signed.toHex());
  assert.equal(commitmentTxid, signed.getId());
  await chain.mine(1);
  assert.equal(await confirmations(commitmentTxid), 1);

  const i = htlcTxs.findIndex((h) => h.kind === 'htlc-timeout');
  const timeoutTx = htlcTxs[i];
  assert.ok(timeoutTx);
  const htlcTimeout = finalizeHtlcTransaction(
    timeoutTx,
    aliceSigs.htlcSignatures[i] as Uint8Array,
    bobSigs.htlcSignatures[i] as Uint8Array,
  );
  assert.equal(htlcTimeout.locktime, cltvExpiry);

  // Before cltv_expiry the full node refuses it as non-final (bitcoind code -26), up to and
  // including the last height at which the next block would still be below its locktime: the
  // tip at cltv_expiry - 1 (consensus: final once locktime < the including block's height).
  const refusedNonFinal = (e: unknown) => {
    const err = e as { code?: number; message?: string };
    return err.code === -26 && /final/i.test(err.message ?? '');
  };
  await assert.rejects(chain.sendRawTransaction(htlcTimeout.toHex()), refusedNonFinal);
  await chain.mine(cltvExpiry - 1 - (await chain.height()));
  assert.equal(await chain.height(), cltvExpiry - 1);
  await assert.rejects(chain.sendRawTransaction(htlcTimeout.toHex()), refusedNonFinal);
  // One block later the tip is cltv_expiry and the next block may include it.
  await chain.mine(1);
  const htlcTxid = await chain.sendRawTransaction(htlcTimeout.toHex());
  assert.equal(htlcTxid, htlcTimeout.getId());
  await chain.mine(1);
  assert.equal(await confirmations(htlcTxid), 1);
});

test('anchors: commitment confirms; the zero-fee HTLC-timeout, with a fee input added, only after its locktime', async () => {
  const ch = await openChannel(1n);
  const cltvExpiry = (await chain.height()) + 5;
  const offered: CommitmentHtlc = {
    direction: 'offered',
    amountMsat: 40_000_000n,
    paymentHash: sha256(randomBytes(32)),
    cltvExpiry,
  };
  const { commitment, signed, htlcTxs, aliceSigs, bobSigs } = await aliceCommitment(
    ch,
    'anchors_zero_fee_htlc_tx',
    0n,
    [offered],
    500_000_000n,
  );
  assert.equal(signed.outs.filter((o) => o.value === 330n).length, 2, 'two 330-sat anchors');
  const txid = await chain.sendRawTransaction(signed.toHex());
  await chain.mine(1);
  assert.equal(await confirmations(txid), 1);
  const htlcTx = htlcTxs[0];
  assert.ok(htlcTx);
  const htlcTimeout = finalizeHtlcTransaction(
    htlcTx,
    aliceSigs.htlcSignatures[0] as Uint8Array,
    bobSigs.htlcSignatures[0] as Uint8Array,
  );
  await assert.rejects(chain.sendRawTransaction(htlcTimeout.toHex()), (e: unknown) => {
    const err = e as { code?: number; message?: string };
    return err.code === -26 && /final/i.test(err.message ?? '');
  });

  // BOLT 5: Bob's SIGHASH_SINGLE|ANYONECANPAY signature lets Alice bring the fee herself: she
  // adds a wallet input and a change output, and signs the HTLC input again with SIGHASH_ALL.
  const walletPub = ch.aliceKeys.walletPublicKey(0n);
  const walletCoin = await chain.fundScript(p2wpkh(walletPub), 50_000n);
  await chain.mine(cltvExpiry - (await chain.height()));
  const bumped = htlcTx.tx.clone();
  bumped.addInput(
    Uint8Array.from(Buffer.from(walletCoin.txid, 'hex')).reverse(),
    walletCoin.vout,
    0xffffffff,
  );
  bumped.addOutput(p2wpkh(walletPub), 50_000n - 5_000n);
  const [aliceHtlcSig] = (
    await ch.alice.signHolderCommitment({
      commitmentNumber: 0n,
      commitmentSighash: commitmentSighash(commitment),
      htlcSighashes: [bumped.hashForWitnessV0(0, htlcTx.htlcWitnessScript, htlcTx.htlcValueSat, SIGHASH_ALL)],
    })
  ).htlcSignatures;
  bumped.setWitness(0, [
    new Uint8Array(0),
    encodeSignature(bobSigs.htlcSignatures[0] as Uint8Array, SIGHASH_SINGLE_ANYONECANPAY),
    encodeSignature(aliceHtlcSig as Uint8Array, SIGHASH_ALL),
    new Uint8Array(0),
    htlcTx.htlcWitnessScript,
  ]);
  const walletSighash = bumped.hashForWitnessV0(
    1,
    p2wpkhScriptCode(walletPub),
    walletCoin.valueSat,
    SIGHASH_ALL,
  );
  bumped.setWitness(1, [
    encodeSignature(await ch.aliceKeys.signWithWalletKey(0n, walletSighash), SIGHASH_ALL),
    walletPub,
  ]);
  const bumpedTxid = await chain.sendRawTransaction(bumped.toHex());
  await chain.mine(1);
  assert.equal(await confirmations(bumpedTxid), 1);
});

test('a revoked holder commitment is refused by the signer, with no key material in the error', async () => {
  const ch = await openChannel(2n);
  const first = await aliceCommitment(ch, 'static_remotekey', 0n, [], 700_000_000n);
  await aliceCommitment(ch, 'static_remotekey', 1n, [], 650_000_000n);
  const secret = await ch.alice.releaseCommitmentSecret(0n);
  await assert.rejects(
    signHolderCommitment(ch.alice, first.commitment, first.htlcTxs),
    (e: unknown) =>
      e instanceof KeysError &&
      e.code === 'revoked-state' &&
      !e.message.includes(Buffer.from(secret).toString('hex')),
  );
});

test('a closing transaction signed by both signers confirms', async () => {
  const ch = await openChannel(3n);
  const script = fundingScript(ch.alice.pubkeys.fundingPubkey, ch.bob.pubkeys.fundingPubkey);
  const tx = buildLegacyClosingTransaction({
    fundingOutpoint: { txid: ch.fundingTxid, vout: ch.fundingVout },
    localMsat: 700_000_000n,
    remoteMsat: 300_000_000n,
    localScriptPubKey: p2wpkh(ch.alice.pubkeys.paymentBasepoint),
    remoteScriptPubKey: p2wpkh(ch.bob.pubkeys.paymentBasepoint),
    localIsFunder: true,
    feeSat: 1_000n,
    dustLimitSat: 546n,
  });
  const sighash = closingSighash(tx, script, FUNDING_SAT);
  const signed = finalizeFundingSpend(
    tx,
    script,
    ch.alice.pubkeys.fundingPubkey,
    await ch.alice.signClosingTransaction(sighash),
    ch.bob.pubkeys.fundingPubkey,
    await ch.bob.signClosingTransaction(sighash),
  );
  const txid = await chain.sendRawTransaction(signed.toHex());
  await chain.mine(1);
  assert.equal(await confirmations(txid), 1);
});

/**
 * What the monitor's tests on a real regtest chain share: BOLT 3 Appendix C's HTLCs, a channel
 * funded on chain by the holder (the fixture's signers on the real funding outpoint), and a
 * monitor built from its updates.
 */
import { createHash, randomBytes } from 'node:crypto';
import { KeysManager } from '@lnkit/keys';
import type { TestChain } from '@lnkit/testchain';
import {
  buildFundingTransaction,
  type ChannelType,
  type CommitmentHtlc,
  encodeSignature,
  p2wpkh,
  SIGHASH_ALL,
} from '@lnkit/tx';
import { script as bscript, crypto as btcCrypto, opcodes as OPS } from 'bitcoinjs-lib';
import { applyMonitorUpdate, createMonitor } from '../monitor.ts';
import { ChannelFixture } from '../test-fixtures.ts';
import type { ChannelMonitor, ChannelMonitorUpdate, MonitorUpdateStep } from '../types.ts';

/**
 * BOLT 3 Appendix C "Commitment and HTLC Transaction Test Vectors": its five HTLCs (amounts,
 * preimages, expiries 500-504), directions from the commitment owner's view ("remote->local"
 * is received by the owner). Expiries are moved to `base + (expiry - 500)` on the test chain.
 */
export const APPENDIX_C_HTLCS = [
  { direction: 'received', amountMsat: 1_000_000n, cltvExpiry: 500, preimageByte: 0x00 },
  { direction: 'received', amountMsat: 2_000_000n, cltvExpiry: 501, preimageByte: 0x01 },
  { direction: 'offered', amountMsat: 2_000_000n, cltvExpiry: 502, preimageByte: 0x02 },
  { direction: 'offered', amountMsat: 3_000_000n, cltvExpiry: 503, preimageByte: 0x03 },
  { direction: 'received', amountMsat: 4_000_000n, cltvExpiry: 504, preimageByte: 0x04 },
] as const;
export const HTLC_TOTAL_MSAT = 12_000_000n;
export const FUNDING_SAT = 1_000_000n;

export const preimageOf = (byte: number) => new Uint8Array(32).fill(byte);
export const sha256 = (b: Uint8Array) => new Uint8Array(createHash('sha256').update(b).digest());

/** The Appendix C HTLCs of a commitment whose owner is `owner`, with expiries from `base`. */
export function appendixCHtlcs(owner: 'holder' | 'counterparty', base: number): CommitmentHtlc[] {
  return APPENDIX_C_HTLCS.map((h, i) => ({
    // The vectors' owner is the holder; for the counterparty's commitment each is the other way.
    direction:
      owner === 'holder'
        ? h.direction
        : h.direction === 'offered'
          ? ('received' as const)
          : ('offered' as const),
    amountMsat: h.amountMsat,
    paymentHash: sha256(preimageOf(h.preimageByte)),
    cltvExpiry: base + (h.cltvExpiry - 500),
    id: BigInt(i),
  }));
}

export const p2wpkhScriptCode = (pubkey: Uint8Array) =>
  bscript.compile([
    OPS.OP_DUP,
    OPS.OP_HASH160,
    btcCrypto.hash160(pubkey),
    OPS.OP_EQUALVERIFY,
    OPS.OP_CHECKSIG,
  ]);

/**
 * A channel of FUNDING_SAT funded on chain by the holder from a coin of its wallet key 0, the
 * funding mined: the fixture's signers on the real funding outpoint. With `atTip`, the fixture's
 * best block is the chain's tip after the funding (else the fixture's default).
 */
export async function fundOnChain(
  chain: TestChain,
  o: { channelType?: ChannelType; atTip?: boolean } = {},
): Promise<{ fx: ChannelFixture; holderSeed: Uint8Array }> {
  const channelType = o.channelType ?? 'static_remotekey';
  const holderSeed = new Uint8Array(randomBytes(32));
  const counterpartySeed = new Uint8Array(randomBytes(32));
  // The same seeds give the same signers: read the funding keys before the funding exists.
  const keys = new ChannelFixture({ holderSeed, counterpartySeed, channelType });
  const walletKeys = new KeysManager(holderSeed);
  const walletPub = walletKeys.walletPublicKey(0n);
  const coin = await chain.fundScript(p2wpkh(walletPub), FUNDING_SAT + 100_000n);
  await chain.mine(1);
  const funding = buildFundingTransaction({
    inputs: [{ txid: Uint8Array.from(Buffer.from(coin.txid, 'hex')).reverse(), vout: coin.vout }],
    fundingSat: FUNDING_SAT,
    localFundingPubkey: keys.holder.pubkeys.fundingPubkey,
    remoteFundingPubkey: keys.counterparty.pubkeys.fundingPubkey,
    change: { scriptPubKey: p2wpkh(walletPub), valueSat: 98_000n },
  });
  const sighash = funding.tx.hashForWitnessV0(0, p2wpkhScriptCode(walletPub), coin.valueSat, SIGHASH_ALL);
  funding.tx.setWitness(0, [
    encodeSignature(await walletKeys.signWithWalletKey(0n, sighash), SIGHASH_ALL),
    walletPub,
  ]);
  await chain.sendRawTransaction(funding.tx.toHex());
  await chain.mine(1);
  let bestBlock: { height: number; hashHex: string } | undefined;
  if (o.atTip) {
    const height = await chain.height();
    bestBlock = { height, hashHex: (await chain.rpc('getblockhash', [height])) as string };
  }
  const fx = new ChannelFixture({
    holderSeed,
    counterpartySeed,
    channelType,
    fundingSat: FUNDING_SAT,
    fundingOutpoint: { txid: new Uint8Array(funding.tx.getHash()), vout: funding.fundingOutputIndex },
    ...(bestBlock ? { bestBlock } : {}),
  });
  return { fx, holderSeed };
}

/** A monitor made of update 1 and then one update per group of steps. */
export function monitorOf(
  fx: ChannelFixture,
  first: ChannelMonitorUpdate,
  steps: MonitorUpdateStep[][],
): ChannelMonitor {
  let m = createMonitor(first, fx.bestBlock);
  let id = 2n;
  for (const s of steps)
    m = applyMonitorUpdate(m, { channelId: fx.info.channelId, updateId: id++, steps: s });
  return m;
}

/**
 * A confirmed transaction that spends outputs of a resolution moves it on (BOLT 5):
 * - the holder's HTLC-timeout / HTLC-success transaction: its output is the holder's after
 *   to_self_delay ("MUST resolve the output of that HTLC-timeout transaction");
 * - the counterparty's HTLC transaction on a revoked commitment: its output is taken with the
 *   revocation key ("MUST resolve the remote node's HTLC-timeout transaction by spending it
 *   using the revocation private key");
 * - any spend revealing an HTLC's preimage: the preimage, for the manager to fulfil the
 *   upstream HTLC ("MUST extract the payment preimage from the transaction input witness");
 * - every other spend (the holder's claims, the counterparty's): the output is resolved.
 */
import { p2wsh, type Transaction, toLocalScript } from '@lnkit/tx';
import { crypto as btcCrypto } from 'bitcoinjs-lib';
import { equal } from '../commitment.ts';
import type { ChannelMonitor } from '../types.ts';
import { commitmentKeysOf } from './resolve.ts';
import type { ChainResolution, PendingOutput } from './types.ts';

export interface SpendResult {
  resolution: ChainResolution;
  /** Preimages of the channel's HTLCs seen in the transaction's witnesses that the monitor did not hold. */
  preimages: Uint8Array[];
  /** Whether the transaction spent anything of the resolution (else the result is the same resolution). */
  relevant: boolean;
}

const reversedHex = (hash: Uint8Array) => Buffer.from(hash).reverse().toString('hex');

export function resolveSpend(
  resolution: ChainResolution,
  monitor: ChannelMonitor,
  tx: Transaction,
  height: number,
): SpendResult {
  const txid = tx.getId();
  const byId = new Map(resolution.pending.map((p) => [p.id, p]));
  const spentIds = new Set<string>();
  const added: PendingOutput[] = [];
  const resolved = [...resolution.resolved];
  const preimages: Uint8Array[] = [];
  const { channel } = monitor;

  tx.ins.forEach((input, index) => {
    const p = byId.get(`${reversedHex(input.hash)}:${input.index}`);
    if (!p) return;
    const witness = input.witness.map((w) => new Uint8Array(w));
    spentIds.add(p.id);
    const hash = p.htlc?.paymentHash;
    const preimage = hash && witness.find((w) => w.length === 32 && equal(btcCrypto.sha256(w), hash));
    if (preimage && ![...monitor.preimages, ...preimages].some((q) => equal(q, preimage)))
      preimages.push(preimage);
    // The holder's HTLC transaction (with a fee input or without): its output at the input's
    // index pays the holder's delayed script the HTLC's value less the pre-signed fee.
    const out = tx.outs[index];
    const holderHtlcTx =
      p.htlcTransaction !== undefined &&
      out !== undefined &&
      out.value === p.htlcTransaction.outputValueSat &&
      equal(new Uint8Array(out.script), p2wsh(p.htlcTransaction.outputWitnessScript));
    const byHolder = holderHtlcTx || spentByHolderClaim(p, witness);
    resolved.push({
      id: p.id,
      spentByTxidHex: txid,
      height,
      byHolder,
      output: p,
      ...(preimage ? { paymentPreimage: preimage } : {}),
    });
    if (holderHtlcTx && p.htlcTransaction) {
      const h = p.htlcTransaction;
      const delay = channel.holderToSelfDelay;
      added.push({
        id: `${txid}:${index}`,
        source: 'holder-htlc-transaction',
        txidHex: txid,
        vout: index,
        valueSat: h.outputValueSat,
        output: 'htlc-transaction-output',
        spendableAtHeight: height + Math.max(delay, 1),
        ...(p.htlc ? { htlc: p.htlc } : {}),
        input: {
          txid: new Uint8Array(tx.getHash()),
          vout: index,
          valueSat: h.outputValueSat,
          witness: 'to-local-delayed',
          witnessScript: h.outputWitnessScript,
          csvDelay: delay,
          anchors: h.anchors,
        },
        key: { kind: 'delayed-payment', perCommitmentPoint: resolution.perCommitmentPoint },
      });
    } else if (!byHolder && p.source === 'revoked-commitment' && p.output === 'htlc') {
      // Their second stage: HTLC transactions have their output at their input's index
      // (SIGHASH_SINGLE with anchors), paying their to_local script of that commitment.
      const keys = commitmentKeysOf(channel, 'counterparty', resolution.perCommitmentPoint);
      const script = toLocalScript(
        keys.revocationPubkey,
        channel.counterpartyToSelfDelay,
        keys.localDelayedPubkey,
      );
      if (out && equal(new Uint8Array(out.script), p2wsh(script)) && p.key)
        added.push({
          id: `${txid}:${index}`,
          source: 'revoked-htlc-transaction',
          txidHex: txid,
          vout: index,
          valueSat: out.value,
          output: 'htlc-transaction-output',
          spendableAtHeight: height + 1,
          deadlineHeight: height + channel.counterpartyToSelfDelay,
          ...(p.htlc ? { htlc: p.htlc } : {}),
          input: {
            txid: new Uint8Array(tx.getHash()),
            vout: index,
            valueSat: out.value,
            witness: 'to-local-revocation',
            witnessScript: script,
            csvDelay: 0,
            anchors: channel.channelType === 'anchors_zero_fee_htlc_tx',
          },
          key: p.key,
        });
    }
  });
  if (spentIds.size === 0) return { resolution, preimages, relevant: false };
  return {
    resolution: {
      ...resolution,
      pending: [...resolution.pending.filter((p) => !spentIds.has(p.id)), ...added],
      resolved,
    },
    preimages,
    relevant: true,
  };
}

/**
 * The resolution as it was before the block at `height` (BOLT 5 "MUST be prepared to resolve
 * outputs multiple times, in case of blockchain reorganizations"): spends confirmed at or
 * above it are undone (their outputs pending again, the second-stage outputs they made gone),
 * so the claims are made again on the new chain. Undefined when the commitment itself was in a
 * disconnected block: the funding output is unspent again.
 */
export function disconnectResolution(
  resolution: ChainResolution,
  height: number,
): ChainResolution | undefined {
  if (resolution.height >= height) return undefined;
  const undone = resolution.resolved.filter((r) => r.height >= height);
  if (undone.length === 0) return resolution;
  const undoneTxids = new Set(undone.map((r) => r.spentByTxidHex));
  // An output made by an undone spend (a second stage) goes with it, even if it was spent too.
  const restored = undone.map((r) => r.output).filter((p) => !undoneTxids.has(p.txidHex));
  return {
    ...resolution,
    pending: [...resolution.pending.filter((p) => !undoneTxids.has(p.txidHex)), ...restored],
    resolved: resolution.resolved.filter((r) => r.height < height),
  };
}

/**
 * Whether a spend took the path the holder's own claim takes: the second witness element
 * tells them apart (the counterparty's spends of the same outputs are HTLC transactions, five
 * elements, or a preimage claim of the holder's offered HTLC, which the holder never makes).
 */
function spentByHolderClaim(p: PendingOutput, witness: Uint8Array[]): boolean {
  if (!p.input) return false;
  const second = witness[1];
  switch (p.input.witness) {
    case 'to-remote':
    case 'to-remote-anchors':
      // Only the holder's payment key spends these.
      return true;
    case 'to-local-delayed':
    case 'received-htlc-timeout':
      return witness.length === 3 && second?.length === 0;
    case 'to-local-revocation':
      return witness.length === 3 && second?.length === 1 && second[0] === 1;
    case 'offered-htlc-revocation':
    case 'received-htlc-revocation':
      return witness.length === 3 && second !== undefined && equal(second, p.input.pubkey as Uint8Array);
    case 'offered-htlc-preimage':
      return witness.length === 3 && second?.length === 32;
    default:
      return false;
  }
}

/**
 * Pruning the network view (BOLT 7), as functions of the graph and the time or the chain:
 *
 * - stale channels: "if the `timestamp` of the latest `channel_update` in either direction is
 *   older than two weeks (1209600 seconds): MAY prune the channel". A direction whose update is
 *   older than that is dropped; a channel left with a direction missing goes once its
 *   announcement is older than that too ("The oldest `channel_update` is used to prune the
 *   channel since both sides need to be active in order for the channel to be usable"; the
 *   announcement's age spares a channel just announced and waiting for its updates). This is
 *   LDK's rule too.
 * - spent funding outputs, from the block stream: "once its funding output has been spent OR
 *   reorganized out: SHOULD forget a channel after a 72-block delay". A spend marks the channel
 *   spent at once (not routable, not relayed, its updates ignored unless disabling); it is
 *   removed 72 blocks later; a disconnected block takes its spends back.
 */
import type { BlockData } from '@lnkit/chain-sync';
import type { NetworkGraph } from './graph.ts';
import { CHANNEL_LIVE, EDGE_HAS_UPDATE, NO_INDEX } from './graph-view.ts';

export const STALE_AFTER_SEC = 1_209_600;
export const SPENT_FORGET_DELAY_BLOCKS = 72;

export interface PruneResult {
  readonly channels: number;
  readonly directions: number;
}

export function pruneStale(
  graph: NetworkGraph,
  nowSec: number,
  staleAfterSec = STALE_AFTER_SEC,
): PruneResult {
  const cutoff = nowSec - staleAfterSec;
  let channels = 0;
  let directions = 0;
  const limit = graph.columns().channelLimit;
  for (let c = 0; c < limit; c++) {
    if ((graph.channelFlagsAt(c) & CHANNEL_LIVE) === 0) continue;
    let missing = false;
    for (const dir of [0, 1] as const) {
      const e = c * 2 + dir;
      if ((graph.edgeFlagsAt(e) & EDGE_HAS_UPDATE) === 0) {
        missing = true;
        continue;
      }
      if (graph.edgeTimestampAt(e) < cutoff) {
        graph.removeDirection(c, dir);
        directions++;
        missing = true;
      }
    }
    if (missing && graph.channelReceivedAtSec(c) < cutoff) {
      graph.removeChannel(c);
      channels++;
    }
  }
  return { channels, directions };
}

/** 36 bytes per outpoint: txid (internal byte order, as a spending input names it) then vout (u32 BE). */
export const OUTPOINT_BYTES = 36;

/** The outpoints a block's transactions spend, packed (so they cross threads as one buffer). */
export function spentOutpoints(block: BlockData): Uint8Array {
  let n = 0;
  for (const tx of block.txdata) n += tx.ins.length;
  const out = new Uint8Array(n * OUTPOINT_BYTES);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const tx of block.txdata) {
    for (const input of tx.ins) {
      out.set(input.hash, at);
      view.setUint32(at + 32, input.index);
      at += OUTPOINT_BYTES;
    }
  }
  return out;
}

/** Marks the channels whose funding output is among `outpoints` (packed, see spentOutpoints) as spent at `height`; returns how many. */
export function fundingSpent(graph: NetworkGraph, outpoints: Uint8Array, height: number): number {
  let marked = 0;
  const view = new DataView(outpoints.buffer, outpoints.byteOffset, outpoints.byteLength);
  for (let at = 0; at + OUTPOINT_BYTES <= outpoints.length; at += OUTPOINT_BYTES) {
    const c = graph.channelIndexByOutpoint(outpoints.subarray(at, at + 32), view.getUint32(at + 32));
    if (c === NO_INDEX || graph.channelSpentAtHeight(c) !== 0) continue;
    graph.markSpent(c, height);
    marked++;
  }
  return marked;
}

/** Removes the channels spent at least `delayBlocks` before `tipHeight`; returns how many. */
export function forgetSpent(
  graph: NetworkGraph,
  tipHeight: number,
  delayBlocks = SPENT_FORGET_DELAY_BLOCKS,
): number {
  let removed = 0;
  const limit = graph.columns().channelLimit;
  for (let c = 0; c < limit; c++) {
    const spent = graph.channelSpentAtHeight(c);
    if (spent === 0 || (graph.channelFlagsAt(c) & CHANNEL_LIVE) === 0) continue;
    if (tipHeight - spent >= delayBlocks) {
      graph.removeChannel(c);
      removed++;
    }
  }
  return removed;
}

/** Block `height` was disconnected: the spends it held did not happen (yet). Returns how many channels came back. */
export function unspendFrom(graph: NetworkGraph, height: number): number {
  let back = 0;
  const limit = graph.columns().channelLimit;
  for (let c = 0; c < limit; c++) {
    const spent = graph.channelSpentAtHeight(c);
    if (spent !== 0 && spent >= height && (graph.channelFlagsAt(c) & CHANNEL_LIVE) !== 0) {
      graph.clearSpent(c);
      back++;
    }
  }
  return back;
}

/**
 * The reorg walk: from the block a consumer is at to the source's tip, which blocks to disconnect
 * (tip first) and which to connect (ascending). Both sides step back by `prevHashHex` until they
 * meet at the fork point, so a consumer on a stale fork comes back correctly.
 */
import type { BlockHeaderData, BlockSource } from './block-source.ts';
import { ChainSyncError } from './errors.ts';

export interface ChainDifference {
  /** The last block both chains share. */
  fork: BlockHeaderData;
  /** Blocks of the old chain to disconnect, highest first. */
  disconnected: BlockHeaderData[];
  /** Blocks of the new chain to connect, lowest first. */
  connected: BlockHeaderData[];
}

export async function findChainDifference(
  source: BlockSource,
  from: BlockHeaderData,
  to: BlockHeaderData,
): Promise<ChainDifference> {
  const disconnected: BlockHeaderData[] = [];
  const connected: BlockHeaderData[] = [];
  let oldSide = from;
  let newSide = to;
  while (oldSide.hashHex !== newSide.hashHex) {
    if (oldSide.height === 0 && newSide.height === 0) {
      throw new ChainSyncError(
        'no-common-ancestor',
        `${from.hashHex} and ${to.hashHex} share no genesis block`,
      );
    }
    if (newSide.height >= oldSide.height) {
      connected.push(newSide);
      newSide = await step(source, newSide);
    } else {
      disconnected.push(oldSide);
      oldSide = await step(source, oldSide);
    }
  }
  connected.reverse();
  return { fork: oldSide, disconnected, connected };
}

async function step(source: BlockSource, header: BlockHeaderData): Promise<BlockHeaderData> {
  const prev = await source.getHeader(header.prevHashHex);
  if (prev.height !== header.height - 1) {
    throw new ChainSyncError(
      'bad-response',
      `header ${prev.hashHex} has height ${prev.height}, expected ${header.height - 1}`,
    );
  }
  return prev;
}

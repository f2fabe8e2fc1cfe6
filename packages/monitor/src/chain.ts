/**
 * A monitor and the chain (LDK guide step 15, Listen): each block moves its best block and may
 * show the funding output spent; a disconnected block may undo that spend. Pure: state + block
 * → new state + events, and whether the change is worth persisting now.
 *
 * A spend is undone by a reorg only until it has ANTI_REORG_DELAY confirmations (BOLT 5 and
 * LDK: deeper reorgs are not handled, the spend is final from then on).
 */
import type { BlockHeaderData } from '@lnkit/chain-sync';
import type { Transaction } from '@lnkit/tx';
import { classifyFundingSpend, spendsFunding } from './funding-spend.ts';
import { ANTI_REORG_DELAY, type ChannelMonitor, type MonitorEvent } from './types.ts';

export interface ChainStep {
  monitor: ChannelMonitor;
  events: MonitorEvent[];
  /** The funding spend changed: persist the monitor now (a best block alone can wait). */
  spendChanged: boolean;
}

type HeaderRef = Pick<BlockHeaderData, 'hashHex' | 'prevHashHex'>;

/**
 * Block `height` connected. `txs` may be the whole block or only the transactions that spend
 * the funding output (the ChainMonitor passes those); a block at or below the best block the
 * monitor has already seen is ignored (synchronizeListeners and the stream may overlap).
 */
export function monitorBlockConnected(
  m: ChannelMonitor,
  header: HeaderRef,
  height: number,
  txs: readonly Transaction[],
): ChainStep {
  if (height <= m.bestBlock.height) return { monitor: m, events: [], spendChanged: false };
  const bestBlock = { hashHex: header.hashHex, height };
  const ids = { fundingKey: m.fundingKey, channelId: m.channel.channelId };
  if (!m.fundingSpend) {
    const spender = txs.find((tx) => spendsFunding(m, tx));
    if (!spender) return { monitor: { ...m, bestBlock }, events: [], spendChanged: false };
    const spend = classifyFundingSpend(m, spender, height, header.hashHex);
    return {
      monitor: { ...m, bestBlock, fundingSpend: spend },
      events: [{ type: 'FundingSpent', ...ids, ...spend }],
      spendChanged: true,
    };
  }
  const spend = m.fundingSpend;
  if (!spend.irrevocable && height - spend.height + 1 >= ANTI_REORG_DELAY) {
    return {
      monitor: { ...m, bestBlock, fundingSpend: { ...spend, irrevocable: true } },
      events: [{ type: 'FundingSpendIrrevocable', ...ids, txidHex: spend.txidHex, height: spend.height }],
      spendChanged: true,
    };
  }
  return { monitor: { ...m, bestBlock }, events: [], spendChanged: false };
}

/** Block `height` disconnected (a reorg): the best block steps back, and a recent spend in it is undone. */
export function monitorBlockDisconnected(m: ChannelMonitor, header: HeaderRef, height: number): ChainStep {
  if (height > m.bestBlock.height) return { monitor: m, events: [], spendChanged: false };
  const bestBlock = { hashHex: header.prevHashHex, height: height - 1 };
  const spend = m.fundingSpend;
  if (spend && !spend.irrevocable && spend.height >= height) {
    const { fundingSpend: _undone, ...rest } = m;
    return {
      monitor: { ...rest, bestBlock },
      events: [
        {
          type: 'FundingSpendReorged',
          fundingKey: m.fundingKey,
          channelId: m.channel.channelId,
          txidHex: spend.txidHex,
          height: spend.height,
        },
      ],
      spendChanged: true,
    };
  }
  return { monitor: { ...m, bestBlock }, events: [], spendChanged: false };
}

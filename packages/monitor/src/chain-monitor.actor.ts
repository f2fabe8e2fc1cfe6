/**
 * The ChainMonitor actor (LDK guide step 6): a thin shell around ChainMonitor. The channel
 * manager sends it every monitor update (`updateChannel`, answered with a PersistStatus), the
 * node feeds it the block stream (`blockConnected` with the block's raw transactions, as
 * chain-sync's stream carries them across threads, and `blockDisconnected`), and `events$`
 * says what the chain did to each channel.
 *
 * Placement: with `persister` (an object, which cannot cross threads) it runs in-process; with
 * `store` it opens the node's data dir itself and runs anywhere, a worker thread included.
 */
import type { BlockHeaderData } from '@lnkit/chain-sync';
import { defineActor } from '@lnkit/runtime';
import { Store } from '@lnkit/store';
import { Transaction } from '@lnkit/tx';
import { ChainMonitor, type ChainMonitorOptions } from './chain-monitor.ts';
import { MonitorStore, type MonitorStoreOptions } from './monitor-store.ts';
import type { MonitorPersister } from './persister.ts';
import type { BestBlock, ChannelMonitor, ChannelMonitorUpdate, FundingKey } from './types.ts';

export interface ChainMonitorActorConfig {
  /** Where the block stream will start: the tip step 10 synchronised every listener to. */
  bestBlock: BestBlock;
  /** The user's own persister, or lnkit's MonitorStore over the node's open Store (in-process only). */
  persister?: MonitorPersister;
  /** Or: the data dir to open, with the node's schema version (any placement). */
  store?: { dataDir: string; schemaVersion: number; network?: string; monitorStore?: MonitorStoreOptions };
  chainPersistIntervalBlocks?: number;
  /**
   * On-chain enforcement (in-process only: these are objects): the broadcaster, fee estimator,
   * destination and claim signer a closed channel's claims need (ChainMonitorOptions).
   */
  enforcement?: Pick<
    ChainMonitorOptions,
    'broadcaster' | 'feeEstimator' | 'destinationScript' | 'claimSigner' | 'feeInputs' | 'feeInputSigner'
  >;
}

type Header = Pick<BlockHeaderData, 'hashHex' | 'prevHashHex'>;

export default defineActor({
  name: 'chain-monitor',
  async create(ctx, config: ChainMonitorActorConfig) {
    let opened: Store | undefined;
    let persister = config.persister;
    if (!persister) {
      if (!config.store) throw new Error('the chain monitor needs a persister or a store to open');
      const { dataDir, schemaVersion, network, monitorStore } = config.store;
      opened = await Store.open(dataDir, { schemaVersion, ...(network ? { network } : {}) });
      persister = new MonitorStore(opened, monitorStore);
    }
    const cm = new ChainMonitor({
      persister,
      bestBlock: config.bestBlock,
      logger: ctx.logger,
      ...config.enforcement,
      ...(config.chainPersistIntervalBlocks
        ? { chainPersistIntervalBlocks: config.chainPersistIntervalBlocks }
        : {}),
    });
    return {
      /** Subscribe before anything is watched or fed: the stream is hot. */
      events$: () => cm.events$,
      watchChannel: (monitor: ChannelMonitor) => cm.watchChannel(monitor),
      updateChannel: (update: ChannelMonitorUpdate) => cm.updateChannel(update),
      /** The manager's MonitorPersister: a refused update is a `failed` answer. */
      persist: (update: ChannelMonitorUpdate) => cm.persist(update),
      /** Our HTLCs the chain settled against their payees (final): what the manager fails at start. */
      htlcsFailedOnChain: () => cm.htlcsFailedOnChain(),
      /** HTLCs to us claimed on chain (final): what the manager counts as received at start. */
      htlcsClaimedOnChain: () => cm.htlcsClaimedOnChain(),
      /** A preimage for a closed channel's HTLC: claimed on chain with it. */
      providePaymentPreimage: (channelId: Uint8Array, preimage: Uint8Array) =>
        cm.providePaymentPreimage(channelId, preimage),
      completed$: () => cm.completed$,
      channelMonitorUpdated: (fundingKey: FundingKey, updateId: bigint) =>
        cm.channelMonitorUpdated(fundingKey, updateId),
      blockConnected: (header: Header, height: number, rawTxs: Uint8Array[]) =>
        cm.blockConnected(
          header,
          height,
          rawTxs.map((raw) => Transaction.fromBuffer(Buffer.from(raw))),
        ),
      blockDisconnected: (header: Header, height: number) => cm.blockDisconnected(header, height),
      monitor: (fundingKeyOrChannelId: string) => cm.monitor(fundingKeyOrChannelId),
      monitors: () => cm.monitors(),
      bestBlock: () => cm.bestBlock,
      /** Closed channels' outputs on chain: pending (claimable from which height) and claimed. */
      claimableBalances: () => cm.claimableBalances(),
      /** Resolves once what is queued is done, the claims' broadcasts included. */
      settled: () => cm.settled(),
      stop: async () => {
        await cm.stop();
        await opened?.close();
      },
    };
  },
  async stop(api) {
    await api.stop();
  },
});

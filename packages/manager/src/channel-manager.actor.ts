/**
 * The ChannelManager as a runtime actor. Its options hold live objects (the keys, the
 * persister, the wallet, the peer link), so it runs in the thread that made them:
 * `spawnLocal(channelManagerActor, { config })`, as the node's step 9 does. Its channels are
 * in-thread actors inside it. (In a worker of its own, the same options would be actor refs —
 * the peer actor's ref already is a PeerLink — and the keys a ChannelSignerPool.)
 */
import { defineActor } from '@lnkit/runtime';
import type { Transaction } from '@lnkit/tx';
import { concat, from, type Observable } from 'rxjs';
import {
  ChannelManager,
  type ChannelManagerOptions,
  type CloseChannelOptions,
  type OpenChannelOptions,
  type OwnChannelGossip,
} from './channel-manager.ts';
import type { ChannelEvent } from './channel-state.ts';
import type { ForwardEvent, InterceptResolution } from './forward/forwarder.ts';
import type { PolicyChange } from './forward/policy.ts';
import type { PaymentEvent } from './payments/payments.ts';

export const channelManagerActor = defineActor({
  name: 'channel-manager',
  // openChannel waits for the peer's answers and the wallet (seconds): queued, it would hold
  // every other call that long. The manager orders its own inputs in its serial queue.
  // sendPayment and keysend wait for the payment's outcome (the peer's round trips).
  concurrent: ['openChannel', 'sendPayment', 'keysend'],
  async create(_ctx, options: ChannelManagerOptions) {
    const manager = new ChannelManager(options);
    // What start() says (a channel not resumed) comes before anyone can subscribe, as the ref
    // exists only once create returns: kept for the first subscriber to events$.
    let early: ChannelEvent[] | undefined = [];
    const keeping = manager.events$.subscribe((e) => early?.push(e));
    await manager.start();
    return {
      openChannel: (nodeId: string, amountSat: bigint, opts?: OpenChannelOptions) =>
        manager.openChannel(nodeId, amountSat, opts),
      listChannels: () => manager.listChannels(),
      /** Cooperative by default; `{ force: true }` broadcasts our commitment and answers its txid. */
      closeChannel: (channelIdHex: string, options?: CloseChannelOptions) =>
        manager.closeChannel(channelIdHex, options),
      /** The last block the manager handled (its snapshot's after a restart): where the chain sync resumes it. */
      bestBlock: () => manager.bestBlock,
      blockConnected: (
        block: { txdata: readonly Transaction[]; header?: { hashHex: string } | undefined },
        height: number,
      ) => manager.blockConnected(block, height),
      blockDisconnected: (header: unknown, height: number) => manager.blockDisconnected(header, height),
      idle: () => manager.idle(),
      /** Payments over a direct channel (payments/README.md); a refusal rejects with a ManagerError. */
      sendPayment: (bolt11: string, opts?: { amountMsat?: bigint; paymentId?: string }) =>
        manager.payments.sendPayment(bolt11, opts),
      keysend: (nodeIdHex: string, amountMsat: bigint, opts?: { paymentId?: string }) =>
        manager.payments.keysend(nodeIdHex, amountMsat, opts),
      createInvoice: (
        amountMsat: bigint | null,
        opts?: { description?: string; expirySeconds?: number; minFinalCltvExpiryDelta?: number },
      ) => manager.payments.createInvoice(amountMsat, opts),
      listInvoices: () => manager.payments.listInvoices(),
      listPayments: () => manager.payments.listPayments(),
      paymentEvents$: (): Observable<PaymentEvent> => manager.payments.events$,
      /** Forwards (forward/README.md), oldest first; `sinceSeconds`: those created from then on. */
      listForwards: (sinceSeconds?: number) => manager.forwards.listForwards(sinceSeconds),
      /** The HTLCs the interceptor holds now. */
      listIntercepted: () => manager.forwards.listIntercepted(),
      /** The operator's answer for a held HTLC: resume, fail (BOLT 4 name) or settle (preimage). */
      resolveIntercepted: (id: string, r: InterceptResolution) => manager.forwards.resolveIntercepted(id, r),
      /** Forwards counted by outgoing channel (the node's Prometheus metrics). */
      forwardMetrics: () => manager.forwards.metrics(),
      /** The channel host threads (none when every channel is in the manager's thread), with how many channels each holds. */
      channelThreads: () => manager.channelThreads(),
      /** setfees: one channel's (channel id hex) or every channel's (`all`) fees, delta and limits; durable. */
      setPolicy: (channel: string, change: PolicyChange) => manager.setPolicy(channel, change),
      forwardEvents$: (): Observable<ForwardEvent> => manager.forwards.events$,
      /** Public channels as they become announced: their gossip, for the node to broadcast. */
      announcements$: (): Observable<OwnChannelGossip> => manager.announcements$,
      /** A public channel disabled (its peer away) or enabled again: the new channel_update. */
      channelUpdates$: (): Observable<OwnChannelGossip> => manager.channelUpdates$,
      /** Every announced channel's gossip, our channel_update signed now. */
      ownGossip: (nowSeconds?: number) => manager.ownGossip(nowSeconds),
      /**
       * The ChainMonitor's PaymentPreimageLearnt: the forwards offered on that channel are
       * fulfilled upstream, and our own payment of that hash succeeded.
       */
      preimageLearnt: (channelId: Uint8Array, paymentHash: Uint8Array, preimage: Uint8Array) => {
        manager.forwards.preimageLearnt(channelId, paymentHash, preimage);
        manager.payments.preimageLearnt(paymentHash, preimage);
      },
      /** The ChainMonitor's HtlcFailedOnChain: our payment or the forward over that HTLC fails. */
      htlcFailedOnChain: (channelId: Uint8Array, htlcId: bigint, paymentHash: Uint8Array) =>
        manager.htlcFailedOnChain(channelId, htlcId, paymentHash),
      /** The ChainMonitor's HtlcClaimedOnChain: the HTLC to us is received (PaymentClaimed). */
      htlcClaimedOnChain: (channelId: Uint8Array, htlcId: bigint) =>
        manager.htlcClaimedOnChain(channelId, htlcId),
      events$: (): Observable<ChannelEvent> => {
        const held = early ?? [];
        early = undefined;
        keeping.unsubscribe();
        return concat(from(held), manager.events$);
      },
      stop: () => manager.stop(),
    };
  },
  async stop(api) {
    await api.stop();
  },
});

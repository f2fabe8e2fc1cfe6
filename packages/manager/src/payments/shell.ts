/** Payments for a ChannelManager: the node key's invoice signer and ECDH, the chain's network. */
import { compactSigner, type RouteHint } from '@lnkit/invoice';
import type { Logger } from '@lnkit/runtime';
import { networkOfChain } from './network.ts';
import {
  type PaymentChannels,
  type PaymentEvent,
  type PaymentRetry,
  type PaymentRouter,
  Payments,
} from './payments.ts';
import type { PaymentsStore } from './store.ts';

export interface PaymentKeys {
  readonly nodeId: Uint8Array;
  signWithNodeKey?(digest: Uint8Array): Promise<Uint8Array>;
  ecdhWithNodeKey?(publicKey: Uint8Array): Promise<Uint8Array>;
}

export function createPayments(o: {
  keys: PaymentKeys;
  chainHash: Uint8Array;
  channels: PaymentChannels;
  logger: Logger;
  store?: PaymentsStore | undefined;
  /** Where each payment event is made durable first (payments.ts). */
  eventSink?: ((event: PaymentEvent) => Promise<void>) | undefined;
  router?: PaymentRouter | undefined;
  retry?: PaymentRetry | undefined;
  routeHints?: (() => RouteHint[]) | undefined;
  mppTimeoutMs?: number | undefined;
}): Payments {
  const { keys } = o;
  const sign = keys.signWithNodeKey?.bind(keys);
  const ecdh = keys.ecdhWithNodeKey?.bind(keys);
  return new Payments({
    channels: o.channels,
    nodeId: keys.nodeId,
    network: networkOfChain(o.chainHash),
    signInvoice: sign ? compactSigner(sign, keys.nodeId) : undefined,
    ecdh,
    logger: o.logger.child({ component: 'payments' }),
    store: o.store,
    eventSink: o.eventSink,
    router: o.router,
    retry: o.retry,
    routeHints: o.routeHints,
    mppTimeoutMs: o.mppTimeoutMs,
  });
}

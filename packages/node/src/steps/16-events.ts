/**
 * Step 16, the event handler: the node's durable event log (event-log.ts) and the node's own
 * handling of each event in it. The log is opened before the ChannelManager (step 9), which
 * writes every event it reports to it before anything hears of it; this step's handler then
 * takes each event in order, logs it at info, does what the node itself must do with it (today
 * nothing more: the manager settles its fundings itself, claims what its invoices are paid and
 * handles the HTLCs a PendingHTLCsForwardable names at once), and marks it handled.
 *
 * Events written but not handled before a crash are still pending at the next start: the
 * handler takes them first, before any new one, so none is lost and their order holds.
 */
import type { Subscription } from 'rxjs';
import type { NodeComponent } from '../component.ts';
import type { NodeContext } from '../context.ts';
import { NodeEventLog as Log, type NodeEventLog, type NodeEventRecord } from '../event-log.ts';

export function eventsStep(): NodeComponent {
  let log: NodeEventLog | undefined;
  let live: Subscription | undefined;
  return {
    step: 16,
    name: 'event handler',
    async start(ctx) {
      const storage = ctx.get('storage');
      log = new Log(ctx.get('store'), { durably: (write) => storage.untilDurable(write) });
      const l = log;
      let last = 0;
      let queue = Promise.resolve();
      const handle = (e: NodeEventRecord) => {
        if (e.seq <= last) return;
        last = e.seq;
        queue = queue.then(() => handleEvent(ctx, l, e));
      };
      // Subscribed first: an event written while the pending ones are read is not missed.
      live = l.stream$.subscribe(handle);
      const pending = await l.pending();
      if (pending.length)
        ctx.log.info(
          { events: pending.length },
          `${pending.length} event(s) from before the restart to handle`,
        );
      for (const e of pending) handle(e);
      ctx.set('eventLog', l);
    },
    async stop() {
      live?.unsubscribe();
      await log?.close();
    },
  };
}

async function handleEvent(ctx: NodeContext, log: NodeEventLog, e: NodeEventRecord): Promise<void> {
  const channel = typeof e.data.channelId === 'string' ? e.data.channelId : undefined;
  ctx.log.info({ seq: e.seq, event: e.kind, ...e.data }, describe(e, channel));
  try {
    await log.handled(e.seq);
  } catch (err) {
    // Still pending: it is handled again at the next start.
    ctx.log.warn({ seq: e.seq, err: (err as Error).message }, `event ${e.seq} could not be marked handled`);
  }
}

function describe(e: NodeEventRecord, channel: string | undefined): string {
  const d = e.data;
  switch (e.kind) {
    case 'ChannelPending':
      return `channel ${channel} with ${d.peer} is pending: its funding is ${d.fundingTxid}:${d.fundingOutputIndex}`;
    case 'ChannelReady':
      return `channel ${channel} with ${d.peer} is ready (${d.shortChannelId})`;
    case 'ChannelClosed':
      return `channel ${channel} with ${d.peer} closed: ${d.reasonText}`;
    case 'PaymentSent':
      return `payment ${d.paymentId} sent: ${d.amountMsat} msat (fee ${d.feeMsat} msat) for ${d.paymentHash}`;
    case 'PaymentFailed':
      return `payment ${d.paymentId} failed: ${d.reason}`;
    case 'PaymentClaimable':
      return `a payment of ${d.amountMsat} msat to us for ${d.paymentHash} is being claimed`;
    case 'PaymentClaimed':
      return `a payment of ${d.amountMsat} msat to us for ${d.paymentHash} is claimed`;
    case 'PendingHTLCsForwardable':
      // LDK's caller would call process_pending_htlc_forwards; the manager already took them.
      return `${d.htlcCount} HTLC(s) to us committed, handled at once by the channel manager`;
    default:
      return `event ${e.kind}`;
  }
}

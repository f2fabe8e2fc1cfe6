/**
 * Step 13, PeerManager: the peer-net actor (init, ping, message dispatch), in its own worker
 * thread by default. The node secret never reaches that thread, which parses peer input: the
 * actor is given the data dir, and a signer pool it starts reads `keys_seed` in its own worker
 * and does the BOLT 8 ECDH there. The node subscribes to its events before step 14 lets any
 * peer in (Eclair's "subscriptions before work").
 */
import { type PeerEvent, peerManagerActor } from '@lnkit/peer-net';
import type { Subscription } from 'rxjs';
import type { NodeComponent } from '../component.ts';
import type { PeerActor } from '../context.ts';
import { chainHash } from '../network.ts';

export function peerManagerStep(): NodeComponent {
  let peers: PeerActor | undefined;
  let events: Subscription | undefined;
  return {
    step: 13,
    name: 'peer manager',
    async start(ctx) {
      const cfg = ctx.config;
      peers = await ctx.supervisor.spawn(peerManagerActor, {
        name: 'peer-manager',
        ...ctx.actorOptions(),
        config: {
          nodeKeyDataDir: cfg.dataDir,
          chainHashes: [chainHash(cfg.network)],
          ...(cfg.peerTimers ? { options: cfg.peerTimers } : {}),
        },
      });
      events = peers.ref.events$().subscribe({
        next: (e: PeerEvent) => {
          if (e.type === 'connected')
            ctx.log.info({ peer: e.nodeId, address: e.address, inbound: e.inbound }, 'peer connected');
          else ctx.log.info({ peer: e.nodeId, reason: e.reason }, 'peer disconnected');
          ctx.events.next({ type: 'peer', event: e });
        },
        error: (err) => ctx.log.error({ err }, 'peer event stream failed'),
      });
      ctx.set('peers', peers);
    },
    async stop() {
      events?.unsubscribe();
      await peers?.stop();
    },
  };
}

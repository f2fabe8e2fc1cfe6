/**
 * Step 13, PeerManager: the peer-net actor (init, ping, message dispatch), in its own worker
 * thread by default. The node secret never reaches that thread, which parses peer input: the
 * actor is given the data dir, and a signer pool it starts reads `keys_seed` in its own worker
 * and does the BOLT 8 ECDH there. The node subscribes to its events before step 14 lets any
 * peer in (Eclair's "subscriptions before work"), and so do the message handlers earlier steps
 * gave (`ctx.peerHandlers`: step 12's gossip), whose init features are added to lnkit's.
 *
 * Peer connections and disconnections are logged, but anyone who can reach the port can make
 * inbound ones as fast as handshakes go: those are logged at info at most once per kind per
 * minute (with how many were held back), at debug otherwise. The node's own dials are few
 * and always logged.
 */
import { LNKIT_INIT_FEATURES, LogLimiter, type PeerEvent, peerManagerActor } from '@lnkit/peer-net';
import type { Logger } from '@lnkit/runtime';
import type { Subscription } from 'rxjs';
import type { NodeComponent } from '../component.ts';
import type { PeerActor } from '../context.ts';
import { NodeError } from '../errors.ts';
import { chainHash } from '../network.ts';

/** An operator sees inbound peers come and go within a minute, at most one line of each. */
export const INBOUND_PEER_LOG_INTERVAL_MS = 60_000;

export function peerManagerStep(): NodeComponent {
  let peers: PeerActor | undefined;
  let events: Subscription | undefined;
  const handlers: Subscription[] = [];
  return {
    step: 13,
    name: 'peer manager',
    async start(ctx) {
      const cfg = ctx.config;
      const features = ctx.peerHandlers.reduce(
        (f, h) => (h.initFeatures ? f.or(h.initFeatures) : f),
        LNKIT_INIT_FEATURES,
      );
      peers = await ctx.supervisor.spawn(peerManagerActor, {
        name: 'peer-manager',
        ...ctx.actorOptions(),
        config: {
          nodeKeyDataDir: cfg.dataDir,
          chainHashes: [chainHash(cfg.network)],
          featuresHex: Buffer.from(features.toMinimalBytes()).toString('hex'),
          ...(cfg.peerTimers || cfg.peerLimits ? { options: { ...cfg.peerTimers, ...cfg.peerLimits } } : {}),
        },
      });
      // The actor read keys_seed on its own: it must be the node step 7 checked.
      const actorNodeId = await peers.ref.nodeId();
      if (actorNodeId !== ctx.get('nodeId')) {
        throw new NodeError(
          'seed-mismatch',
          `the peer manager runs as node ${actorNodeId}, not ${ctx.get('nodeId')}: keys_seed in ${cfg.dataDir} changed while the node started`,
        );
      }
      const limiter = new LogLimiter(INBOUND_PEER_LOG_INTERVAL_MS);
      events = peers.ref.events$().subscribe({
        next: (e: PeerEvent) => {
          logPeerEvent(ctx.log, limiter, e);
          ctx.events.next({ type: 'peer', event: e });
        },
        error: (err) => ctx.log.error({ err }, 'peer event stream failed'),
      });
      for (const h of ctx.peerHandlers) handlers.push(h.attach(peers));
      ctx.set('peers', peers);
    },
    async stop() {
      for (const h of handlers) h.unsubscribe();
      events?.unsubscribe();
      await peers?.stop();
    },
  };
}

/** Outbound at info; inbound at info once per kind per interval, at debug otherwise. */
export function logPeerEvent(log: Logger, limiter: LogLimiter, e: PeerEvent, now = Date.now()): void {
  const fields =
    e.type === 'connected'
      ? { peer: e.nodeId, address: e.address, inbound: e.inbound }
      : { peer: e.nodeId, address: e.address, inbound: e.inbound, reason: e.reason };
  const msg = e.type === 'connected' ? 'peer connected' : 'peer disconnected';
  if (!e.inbound) {
    log.info(fields, msg);
    return;
  }
  const decision = limiter.note(`inbound-${e.type}`, now);
  if (decision.level === 'debug') log.debug(fields, msg);
  else
    log.info(
      decision.suppressed > 0 ? { ...fields, suppressedSinceLast: decision.suppressed } : fields,
      decision.suppressed > 0 ? `${msg} (${decision.suppressed} more inbound since the last such line)` : msg,
    );
}

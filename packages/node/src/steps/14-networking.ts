/**
 * Step 14, networking: the peer actor listens for inbound peers (unless `listen` is null), and
 * the persistent peers of the last run are dialled again; the PeerManager retries them with
 * backoff, so one that is down does not stop the start.
 */
import type { NodeComponent } from '../component.ts';
import { NodeError } from '../errors.ts';
import { PersistentPeers } from '../persistent-peers.ts';

export function networkingStep(): NodeComponent {
  return {
    step: 14,
    name: 'networking',
    async start(ctx) {
      const peers = ctx.get('peers');
      let listening: { host: string; port: number } | null = null;
      if (ctx.config.listen) {
        const { host, port } = ctx.config.listen;
        listening = await peers.ref.listen(host, port).catch((e: Error & { code?: string }) => {
          const why =
            e.code === 'EADDRINUSE' || /EADDRINUSE/.test(e.message)
              ? 'the address is already in use'
              : e.message;
          throw new NodeError('listen-failed', `cannot listen for peers on ${host}:${port}: ${why}`);
        });
        ctx.log.info(
          { nodeId: ctx.get('nodeId'), ...listening },
          `listening for peers on ${listening.host}:${listening.port}`,
        );
      }
      ctx.set('listening', listening);

      const persistent = new PersistentPeers(ctx.get('store'));
      ctx.set('persistentPeers', persistent);
      for (const { nodeId, address } of persistent.list()) {
        peers.ref
          .connect(nodeId, address.host, address.port, { persistent: true, remembered: true })
          .catch((err: Error) => {
            ctx.log.warn({ peer: nodeId, err: err.message }, 'persistent peer not reachable yet; will retry');
          });
      }
    },
  };
}

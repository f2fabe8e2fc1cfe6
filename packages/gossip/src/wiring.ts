/**
 * The plumbing between the gossip actor and the peer-net actor, and the chain listener that
 * feeds it spent outputs, so a node wires step 12 with two calls:
 *
 *   const sub = connectGossip(gossip.ref, peers.ref, log);   // before step 14 lets peers in
 *   ctx.chainListeners.push({ name: 'gossip', listener: gossipChainListener(gossip.ref) });
 *
 * Peer messages of the gossip types are batched (up to 20 ms or 1,000 messages) into one
 * `receive` call; each `send` the actor asks for is done message by message through the peer
 * actor and then acknowledged, which is how the gossip actor paces a graph dump to a peer's
 * outbound queue. The types are structural, so neither package imports the other.
 */
import type { ChainListener } from '@lnkit/chain-sync';
import type { Logger } from '@lnkit/runtime';
import { bufferTime, filter, type Observable, Subscription } from 'rxjs';
import type { GossipOutbound } from './gossip.actor.ts';
import { GOSSIP_MESSAGE_TYPES } from './gossip-sync.ts';
import { spentOutpoints } from './prune.ts';

/** The parts of the peer-net actor's ref this uses. */
export interface PeersLike {
  events$(): Observable<
    | { type: 'connected'; nodeId: string; features: { hex: string } }
    | { type: 'disconnected'; nodeId: string }
  >;
  messages$(types?: number[]): Observable<{ nodeId: string; type: number; raw: Uint8Array }>;
  send(nodeId: string, message: Uint8Array): Promise<void>;
  disconnect(nodeId: string): Promise<void>;
  listPeers?(): Promise<{ nodeId: string; features: { hex: string } }[]>;
}

/** The parts of the gossip actor's ref this uses. */
export interface GossipLike {
  receive(batch: { nodeId: string; raw: Uint8Array }[]): Promise<void>;
  peerConnected(nodeId: string, featuresHex: string): Promise<void>;
  peerDisconnected(nodeId: string): Promise<void>;
  outbound$(): Observable<GossipOutbound>;
  sent(id: number, error?: string): Promise<void>;
}

export function connectGossip(gossip: GossipLike, peers: PeersLike, logger?: Logger): Subscription {
  const log = logger?.child({ component: 'gossip-wiring' });
  const fail = (what: string) => (err: unknown) =>
    log?.warn({ err: (err as Error).message }, `gossip wiring: ${what}`);
  const sub = new Subscription();
  sub.add(
    peers.events$().subscribe({
      next: (e) => {
        if (e.type === 'connected')
          gossip.peerConnected(e.nodeId, e.features.hex).catch(fail('peerConnected'));
        else gossip.peerDisconnected(e.nodeId).catch(fail('peerDisconnected'));
      },
      error: fail('the peer event stream'),
    }),
  );
  sub.add(
    peers
      .messages$([...GOSSIP_MESSAGE_TYPES])
      .pipe(
        bufferTime(20, null, 1000),
        filter((b) => b.length > 0),
      )
      .subscribe({
        next: (batch) => {
          gossip.receive(batch.map((m) => ({ nodeId: m.nodeId, raw: m.raw }))).catch(fail('receive'));
        },
        error: fail('the peer message stream'),
      }),
  );
  sub.add(
    gossip.outbound$().subscribe({
      next: (o) => {
        if (o.kind === 'disconnect') {
          log?.info({ peer: o.nodeId, reason: o.reason }, 'gossip: disconnecting a peer');
          peers.disconnect(o.nodeId).catch(fail('disconnect'));
          return;
        }
        Promise.all(o.messages.map((m) => peers.send(o.nodeId, m))).then(
          () => gossip.sent(o.id).catch(fail('sent')),
          (e: unknown) => gossip.sent(o.id, (e as Error).message).catch(fail('sent')),
        );
      },
      error: fail('the gossip outbound stream'),
    }),
  );
  // Peers connected before this subscribed.
  peers
    .listPeers?.()
    .then((list) => {
      for (const p of list) gossip.peerConnected(p.nodeId, p.features.hex).catch(fail('peerConnected'));
    })
    .catch(fail('listPeers'));
  return sub;
}

/** The parts of the gossip actor's ref the chain listener uses. */
export interface GossipChainLike {
  blockConnected(height: number, spentOutpoints: Uint8Array): Promise<unknown>;
  blockDisconnected(height: number): Promise<unknown>;
}

/**
 * A chain listener (step 15 feeds it) that hands the gossip actor each block's spent outpoints:
 * BOLT 7 "SHOULD monitor the funding transactions in the blockchain, to identify channels that
 * are being closed".
 */
export function gossipChainListener(gossip: GossipChainLike): ChainListener {
  return {
    async blockConnected(block, height) {
      await gossip.blockConnected(height, spentOutpoints(block));
    },
    async blockDisconnected(_header, height) {
      await gossip.blockDisconnected(height);
    },
  };
}

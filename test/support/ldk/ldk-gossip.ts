/**
 * LDK's gossip side for interop tests: an LdkPeer whose routing handler is LDK's own
 * `P2PGossipSync` over a `NetworkGraph` (regtest), so it answers and asks BOLT 7 queries as an
 * LDK node does; and the glue that runs an lnkit GossipSync on a PeerManager in this thread.
 * Test code only.
 */
import type { GossipSync, GossipTransport } from '@lnkit/gossip';
import { GOSSIP_MESSAGE_TYPES } from '@lnkit/gossip';
import type { PeerManager } from '@lnkit/peer-net';
import * as ldk from 'lightningdevkit';
import type { Subscription } from 'rxjs';
import { initLdk, LdkPeer, type LdkPeerOptions } from './ldk-peer.ts';

export interface LdkGossipPeer {
  peer: LdkPeer;
  graph: ldk.NetworkGraph;
  /** Feeds signed gossip (type + payload) to LDK's P2PGossipSync as if a peer had sent it; returns how many it accepted. */
  feed(messages: Uint8Array[]): number;
  channels(): number;
  nodes(): number;
  /** Directions with an update, over every channel. */
  directions(): number;
}

export async function ldkGossipPeer(
  options: Omit<LdkPeerOptions, 'routingHandler'> = {},
): Promise<LdkGossipPeer> {
  await initLdk();
  const logger = ldk.Logger.new_impl({ log: () => {} });
  const graph = ldk.NetworkGraph.constructor_new(ldk.Network.LDKNetwork_Regtest, logger);
  const sync = ldk.P2PGossipSync.constructor_new(graph, ldk.Option_UtxoLookupZ.constructor_none(), logger);
  const handler = sync.as_RoutingMessageHandler();
  const peer = await LdkPeer.create({ ...options, routingHandler: handler });
  const readOnly = () => graph.read_only();
  return {
    peer,
    graph,
    feed(messages) {
      return feedLdkGossip(handler, messages);
    },
    channels: () => {
      const ro = readOnly();
      const n = ro.list_channels().length;
      ro.free();
      return n;
    },
    nodes: () => {
      const ro = readOnly();
      const n = ro.list_nodes().length;
      ro.free();
      return n;
    },
    directions: () => {
      const ro = readOnly();
      let n = 0;
      for (const scid of ro.list_channels()) {
        const c = ro.channel(scid);
        if (c?.get_one_to_two()) n++;
        if (c?.get_two_to_one()) n++;
      }
      ro.free();
      return n;
    },
  };
}

/**
 * Runs a GossipSync on a PeerManager in this thread: its gossip and query messages in, its
 * peers' connects and disconnects, and its sends out (each awaited, the PeerManager's own flow
 * control). What the node does across threads with connectGossip.
 */
export function attachGossip(pm: PeerManager): {
  transport: GossipTransport;
  attach(sync: GossipSync): Subscription[];
} {
  return {
    transport: {
      async send(peer, messages) {
        await Promise.all(messages.map((m) => pm.send(peer, m)));
      },
      disconnect(peer) {
        void pm.disconnect(peer);
      },
    },
    attach(sync) {
      return [
        pm.messagesOfType(...GOSSIP_MESSAGE_TYPES).subscribe((m) => sync.receive(m.nodeId, m.raw)),
        pm.events$.subscribe((e) => {
          if (e.type === 'connected') sync.peerConnected(e.nodeId, Buffer.from(e.features.hex, 'hex'));
          else sync.peerDisconnected(e.nodeId);
        }),
      ];
    },
  };
}

/**
 * Hands BOLT 7 messages (wire bytes with their type) to an LDK RoutingMessageHandler, as its
 * peer handler would; returns how many it applied.
 */
export function feedLdkGossip(handler: ldk.RoutingMessageHandler, messages: readonly Uint8Array[]): number {
  let ok = 0;
  for (const m of messages) {
    const type = (m[0]! << 8) | m[1]!;
    const body = m.subarray(2);
    let r: ldk.Result_boolLightningErrorZ | undefined;
    if (type === 256) {
      const p = ldk.ChannelAnnouncement.constructor_read(body);
      if (p instanceof ldk.Result_ChannelAnnouncementDecodeErrorZ_OK)
        r = handler.handle_channel_announcement(null, p.res);
    } else if (type === 258) {
      const p = ldk.ChannelUpdate.constructor_read(body);
      if (p instanceof ldk.Result_ChannelUpdateDecodeErrorZ_OK)
        r = handler.handle_channel_update(null, p.res);
    } else if (type === 257) {
      const p = ldk.NodeAnnouncement.constructor_read(body);
      if (p instanceof ldk.Result_NodeAnnouncementDecodeErrorZ_OK)
        r = handler.handle_node_announcement(null, p.res);
    }
    if (r instanceof ldk.Result_boolLightningErrorZ_OK) ok++;
  }
  return ok;
}

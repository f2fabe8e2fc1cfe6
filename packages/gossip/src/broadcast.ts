/**
 * BOLT 7's staggered broadcast: "Once the gossip message has been processed, it's added to a list
 * of outgoing messages, destined for the processing node's peers, replacing any older updates
 * from the origin node. This list of gossip messages will be flushed at regular intervals"
 * ("SHOULD flush outgoing gossip messages once every 60 seconds"). Pure: the GossipSync queues
 * what the validator accepted and calls `flush` on its timer with the peers and their filters.
 *
 * Rules kept here:
 * - a channel_announcement waits for its first channel_update ("If a channel_announcement has
 *   no corresponding channel_updates: MUST NOT send the channel_announcement"; "MUST consider
 *   whether to send the channel_announcement after receiving the first corresponding
 *   channel_update"), takes that update's timestamp for the filters, and goes first ("MUST send
 *   the channel_announcement prior to any corresponding channel_updates and node_announcements");
 * - a newer update of the same direction, or node_announcement of the same node, replaces the
 *   queued one;
 * - a peer gets nothing before its gossip_timestamp_filter ("MUST not send gossip it did not
 *   generate itself, until it receives gossip_timestamp_filter"), then only what its filter
 *   admits, and never what it sent us;
 * - what was removed from the graph meanwhile (pruned, spent) is not sent ("SHOULD NOT
 *   rebroadcast this channel_announcement").
 */
import type { NetworkGraph } from './graph.ts';
import { CHANNEL_LIVE, CHANNEL_SPENT, NODE_LIVE } from './graph-view.ts';
import type { RelayItem } from './validate.ts';

export interface TimestampFilter {
  readonly firstTimestamp: number;
  readonly timestampRange: number;
}

export interface BroadcastPeer {
  readonly id: string;
  /** Its gossip_timestamp_filter; none received yet: undefined. */
  readonly filter: TimestampFilter | undefined;
}

interface Queued {
  readonly raw: Uint8Array;
  readonly origin: string;
  readonly timestamp: number;
}

export interface StaggeredBroadcastOptions {
  /** Announcements kept waiting for a first update; the oldest go past this. Default 50,000. */
  maxWaiting?: number;
}

export class StaggeredBroadcast {
  private announcements = new Map<number, Queued>();
  private updates = new Map<number, Queued>();
  private nodes = new Map<number, Queued>();
  private readonly waiting = new Map<number, Queued>();
  private readonly maxWaiting: number;

  constructor(options: StaggeredBroadcastOptions = {}) {
    this.maxWaiting = options.maxWaiting ?? 50_000;
  }

  /** Messages queued for the next flush. */
  get size(): number {
    return this.announcements.size + this.updates.size + this.nodes.size;
  }

  queue(items: readonly RelayItem[]): void {
    for (const it of items) {
      if (it.type === 256) {
        this.waiting.set(it.index, { raw: it.raw, origin: it.origin, timestamp: 0 });
        if (this.waiting.size > this.maxWaiting)
          this.waiting.delete(this.waiting.keys().next().value as number);
      } else if (it.type === 258) {
        this.updates.set(it.index * 2 + it.direction, {
          raw: it.raw,
          origin: it.origin,
          timestamp: it.timestamp,
        });
        const ann = this.waiting.get(it.index);
        if (ann) {
          this.waiting.delete(it.index);
          this.announcements.set(it.index, { ...ann, timestamp: it.timestamp });
        }
      } else {
        this.nodes.set(it.index, { raw: it.raw, origin: it.origin, timestamp: it.timestamp });
      }
    }
  }

  /** What each peer gets from this flush, in order (announcements, updates, node announcements); clears the queue. */
  flush(graph: NetworkGraph, peers: Iterable<BroadcastPeer>): Map<string, Uint8Array[]> {
    const out = new Map<string, Uint8Array[]>();
    const channelLive = (c: number) =>
      (graph.channelFlagsAt(c) & (CHANNEL_LIVE | CHANNEL_SPENT)) === CHANNEL_LIVE;
    const lists: Queued[] = [];
    for (const [c, q] of this.announcements) if (channelLive(c)) lists.push(q);
    for (const [e, q] of this.updates) if (channelLive(e >>> 1)) lists.push(q);
    for (const [n, q] of this.nodes) if ((graph.nodeFlagsAt(n) & NODE_LIVE) !== 0) lists.push(q);
    this.announcements = new Map();
    this.updates = new Map();
    this.nodes = new Map();
    if (lists.length === 0) return out;
    for (const peer of peers) {
      const f = peer.filter;
      if (!f) continue;
      const end = f.firstTimestamp + f.timestampRange;
      const mine: Uint8Array[] = [];
      for (const q of lists) {
        if (q.origin === peer.id) continue;
        if (q.timestamp < f.firstTimestamp || q.timestamp >= end) continue;
        mine.push(q.raw);
      }
      if (mine.length > 0) out.set(peer.id, mine);
    }
    return out;
  }
}

/**
 * The channel directory (Eclair's Register): channel id, temporary channel id (per peer),
 * short channel id (real or alias) and node id → the channel's handle, so that nothing
 * outside the manager holds channel objects. Pure: the manager re-indexes a channel from its
 * state after every step.
 */
import type { ChannelState } from './channel-state.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

interface Entry<H> {
  handle: H;
  nodeId: string;
  keys: string[];
}

export class ChannelDirectory<H> {
  readonly #entries = new Map<number, Entry<H>>();
  readonly #byKey = new Map<string, number>();
  #next = 1;

  /** Adds a channel; returns its directory id. */
  add(handle: H, state: ChannelState): number {
    const id = this.#next++;
    this.#entries.set(id, { handle, nodeId: state.counterpartyNodeId, keys: [] });
    this.index(id, state);
    return id;
  }

  /** Re-reads the ids a channel is found by (its channel id, aliases and real scid appear as it goes). */
  index(id: number, state: ChannelState): void {
    const entry = this.#entries.get(id);
    if (!entry) return;
    for (const k of entry.keys) this.#byKey.delete(k);
    const keys = [
      `tmp:${state.counterpartyNodeId}:${hex(state.temporaryChannelId)}`,
      `scid:${state.localAlias}`,
    ];
    if (state.channelId) keys.push(`cid:${hex(state.channelId)}`);
    if (state.shortChannelId !== undefined) keys.push(`scid:${state.shortChannelId}`);
    entry.keys = keys;
    for (const k of keys) this.#byKey.set(k, id);
  }

  remove(id: number): void {
    const entry = this.#entries.get(id);
    if (!entry) return;
    for (const k of entry.keys) if (this.#byKey.get(k) === id) this.#byKey.delete(k);
    this.#entries.delete(id);
  }

  get(id: number): H | undefined {
    return this.#entries.get(id)?.handle;
  }

  #get(key: string): { id: number; handle: H } | undefined {
    const id = this.#byKey.get(key);
    const entry = id === undefined ? undefined : this.#entries.get(id);
    return entry && id !== undefined ? { id, handle: entry.handle } : undefined;
  }

  byChannelId(channelId: Uint8Array): { id: number; handle: H } | undefined {
    return this.#get(`cid:${hex(channelId)}`);
  }

  /** A channel before funding_created, by the peer that chose the temporary id (unique per peer only). */
  byTemporaryId(nodeId: string, temporaryChannelId: Uint8Array): { id: number; handle: H } | undefined {
    return this.#get(`tmp:${nodeId}:${hex(temporaryChannelId)}`);
  }

  /** By a real short_channel_id or one of our aliases. */
  byShortChannelId(scid: bigint): { id: number; handle: H } | undefined {
    return this.#get(`scid:${scid}`);
  }

  /** Whether `scid` is already used by a channel of this node (an alias must not collide). */
  hasShortChannelId(scid: bigint): boolean {
    return this.#byKey.has(`scid:${scid}`);
  }

  byNodeId(nodeId: string): { id: number; handle: H }[] {
    const out: { id: number; handle: H }[] = [];
    for (const [id, e] of this.#entries) if (e.nodeId === nodeId) out.push({ id, handle: e.handle });
    return out;
  }

  all(): { id: number; handle: H }[] {
    return [...this.#entries].map(([id, e]) => ({ id, handle: e.handle }));
  }

  get size(): number {
    return this.#entries.size;
  }
}

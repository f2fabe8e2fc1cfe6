/**
 * BOLT 7 gossip queries, the answering side, as pure functions of the graph: the replies to
 * `query_channel_range`, to `query_short_channel_ids`, and what a `gossip_timestamp_filter`
 * asks to be sent. Answers that may be long (a peer asking for the whole graph) are generators,
 * read from the message store as the sender drains them, so nothing builds 100,000 messages in
 * memory at once. The asking side is query-sync.ts.
 */
import {
  bytesEqual,
  type ChecksumPair,
  encodeMessage,
  QUERY_FLAG_CHANNEL_ANNOUNCEMENT,
  QUERY_FLAG_CHANNEL_UPDATE_1,
  QUERY_FLAG_CHANNEL_UPDATE_2,
  QUERY_FLAG_NODE_ANNOUNCEMENT_1,
  QUERY_FLAG_NODE_ANNOUNCEMENT_2,
  QUERY_OPTION_WANT_CHECKSUMS,
  QUERY_OPTION_WANT_TIMESTAMPS,
  type QueryChannelRange,
  type QueryShortChannelIds,
  replyChannelRange,
  replyShortChannelIdsEnd,
  scidBlock,
  type TimestampPair,
} from '@lnkit/wire';
import type { NetworkGraph } from './graph.ts';
import { CHANNEL_LIVE, CHANNEL_SPENT, EDGE_HAS_UPDATE, NO_INDEX, NODE_ANNOUNCED } from './graph-view.ts';

/** What fits in one 65,535-byte message: 8 bytes per scid, plus 8 per timestamp pair and 8 per checksum pair. */
export function maxScidsPerReply(wantTimestamps: boolean, wantChecksums: boolean): number {
  const per = 8 + (wantTimestamps ? 8 : 0) + (wantChecksums ? 8 : 0);
  // 2 type + 32 chain + 4 + 4 + 1 + 2 len + 1 encoding, and per TLV up to 1 + 3 + 1 bytes of header.
  return Math.floor((65_535 - 46 - 10) / per);
}

const U32_MAX = 0xffff_ffff;

/** Sorted live channels, cached per graph version (a range query over a big graph sorts once). */
const sortedCache = new WeakMap<NetworkGraph, { version: number; channels: number[]; blocks: Uint32Array }>();
function sortedChannels(graph: NetworkGraph): { channels: number[]; blocks: Uint32Array } {
  const hit = sortedCache.get(graph);
  if (hit && hit.version === graph.version()) return hit;
  const channels = graph.channelIndexesByScid();
  const blocks = new Uint32Array(channels.length);
  channels.forEach((c, i) => {
    blocks[i] = scidBlock(graph.shortChannelIdAt(c));
  });
  const entry = { version: graph.version(), channels, blocks };
  sortedCache.set(graph, entry);
  return entry;
}

/**
 * The reply_channel_range messages answering `query` (BOLT 7 "The receiver of
 * query_channel_range: MUST respond with one or more reply_channel_range").
 *
 * Replies are split at block boundaries, so no two cover the same block: the first starts at
 * the query's `first_blocknum`, each next one where the previous ended, and the last ends at
 * the query's end ("MUST have first_blocknum plus number_of_blocks equal or greater than the
 * query_channel_range first_blocknum plus number_of_blocks"). Spent channels are left out
 * ("SHOULD NOT rebroadcast this channel_announcement"). A chain this graph is not of gets one
 * empty reply with `sync_complete` 0, as LDK answers.
 */
export function replyChannelRanges(
  graph: NetworkGraph,
  query: QueryChannelRange,
  options: { maxScidsPerReply?: number } = {},
): Uint8Array[] {
  const first = query.firstBlocknum;
  const end = Math.min(U32_MAX, first + query.numberOfBlocks);
  const base = { type: 264, kind: 'reply_channel_range', chainHash: query.chainHash } as const;
  if (!bytesEqual(query.chainHash, graph.chainHash)) {
    return [
      encodeMessage({
        ...base,
        firstBlocknum: first,
        numberOfBlocks: query.numberOfBlocks,
        syncComplete: 0,
        encodedShortIds: { encoding: 'uncompressed', items: [] },
      }),
    ];
  }
  const flags = query.queryOptionFlags ?? 0n;
  const wantTimestamps = (flags & QUERY_OPTION_WANT_TIMESTAMPS) !== 0n;
  const wantChecksums = (flags & QUERY_OPTION_WANT_CHECKSUMS) !== 0n;
  const max = options.maxScidsPerReply ?? maxScidsPerReply(wantTimestamps, wantChecksums);
  const { channels, blocks } = sortedChannels(graph);
  // Binary search for the first channel at or after `first`.
  let lo = 0;
  let hi = blocks.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (blocks[mid]! < first) lo = mid + 1;
    else hi = mid;
  }
  const replies: Uint8Array[] = [];
  let start = first;
  let batch: number[] = [];
  /** Closes the reply covering `start .. endBlock - 1`; the next one starts at `nextStart`. */
  const flush = (final: boolean, endBlock: number, nextStart = endBlock) => {
    const scids = batch.map((c) => graph.shortChannelIdAt(c));
    const timestamps: TimestampPair[] = [];
    const checksums: ChecksumPair[] = [];
    for (const c of batch) {
      if (wantTimestamps)
        timestamps.push({
          timestampNodeId1: graph.edgeTimestampAt(c * 2),
          timestampNodeId2: graph.edgeTimestampAt(c * 2 + 1),
        });
      if (wantChecksums)
        checksums.push({
          checksumNodeId1: graph.edgeChecksumAt(c * 2),
          checksumNodeId2: graph.edgeChecksumAt(c * 2 + 1),
        });
    }
    replies.push(
      replyChannelRange.encode({
        ...base,
        firstBlocknum: start,
        numberOfBlocks: Math.max(1, endBlock - start),
        syncComplete: final ? 1 : 0,
        encodedShortIds: { encoding: 'uncompressed', items: scids },
        ...(wantTimestamps ? { timestamps: { encoding: 'uncompressed', items: timestamps } } : {}),
        ...(wantChecksums ? { checksums } : {}),
      }),
    );
    start = nextStart;
    batch = [];
  };
  let i = lo;
  while (i < channels.length && blocks[i]! < end) {
    // Take the whole block, or close the reply before it if it would not fit.
    let j = i;
    while (j < channels.length && blocks[j] === blocks[i]) j++;
    const inBlock: number[] = [];
    for (let k = i; k < j; k++) {
      if ((graph.channelFlagsAt(channels[k]!) & (CHANNEL_LIVE | CHANNEL_SPENT)) === CHANNEL_LIVE)
        inBlock.push(channels[k]!);
    }
    if (batch.length > 0 && batch.length + inBlock.length > max) flush(false, blocks[i]!);
    // A block with more channels than one reply holds is split (BOLT 7 "MAY split block contents").
    for (let k = 0; k < inBlock.length; k += max) {
      const part = inBlock.slice(k, k + max);
      // The block goes on in the next reply, which starts at it again ("MUST have first_blocknum
      // equal or greater than the previous first_blocknum").
      if (batch.length > 0 && batch.length + part.length > max) flush(false, blocks[i]! + 1, blocks[i]!);
      batch.push(...part);
    }
    i = j;
  }
  flush(true, end);
  return replies;
}

/** Why a query_short_channel_ids cannot be answered (BOLT 7: "MAY send a warning"). */
export type QueryProblem = 'unknown-encoding' | 'flags-mismatch';

export interface ShortChannelIdsAnswer {
  readonly problem?: QueryProblem;
  /** The messages to send, reply_short_channel_ids_end last. */
  readonly messages: Iterable<Uint8Array>;
}

/**
 * The answer to query_short_channel_ids: "MUST respond to each known short_channel_id" with
 * its channel_announcement and latest updates (or what `query_flags` asks), "MUST follow with
 * any node_announcements for each channel_announcement" (each node once per query: "SHOULD
 * avoid sending duplicate node_announcements"), then "MUST follow these responses with
 * reply_short_channel_ids_end" — `full_information` 0 for a chain this graph is not of.
 */
export function answerShortChannelIds(
  graph: NetworkGraph,
  query: QueryShortChannelIds,
): ShortChannelIdsAnswer {
  const end = (full: boolean) =>
    replyShortChannelIdsEnd.encode({
      type: 262,
      kind: 'reply_short_channel_ids_end',
      chainHash: query.chainHash,
      fullInformation: full ? 1 : 0,
    });
  if (!bytesEqual(query.chainHash, graph.chainHash)) return { messages: [end(false)] };
  const ids = query.encodedShortIds;
  // "if the first byte of encoded_short_ids is not a known encoding type: MAY send a warning".
  if (ids.encoding !== 'uncompressed') return { problem: 'unknown-encoding', messages: [end(false)] };
  const flagsList = query.queryFlags;
  if (flagsList && flagsList.encoding !== 'uncompressed')
    return { problem: 'unknown-encoding', messages: [end(false)] };
  // "if encoded_query_flags does not decode to exactly one flag per short_channel_id: MAY send a warning".
  if (flagsList && flagsList.items.length !== ids.items.length)
    return { problem: 'flags-mismatch', messages: [end(false)] };
  const flags = flagsList?.items;
  return {
    messages: (function* () {
      const sentNodes = new Set<number>();
      const nodeAnnouncement = function* (n: number) {
        if (sentNodes.has(n) || (graph.nodeFlagsAt(n) & NODE_ANNOUNCED) === 0) return;
        sentNodes.add(n);
        const raw = graph.messages.nodeAnnouncement(graph.nodeIdAt(n));
        if (raw) yield raw;
      };
      for (let k = 0; k < ids.items.length; k++) {
        const scid = ids.items[k]!;
        const c = graph.channelIndex(scid);
        if (c === NO_INDEX) continue;
        const f = flags
          ? flags[k]!
          : QUERY_FLAG_CHANNEL_ANNOUNCEMENT |
            QUERY_FLAG_CHANNEL_UPDATE_1 |
            QUERY_FLAG_CHANNEL_UPDATE_2 |
            QUERY_FLAG_NODE_ANNOUNCEMENT_1 |
            QUERY_FLAG_NODE_ANNOUNCEMENT_2;
        if (f & QUERY_FLAG_CHANNEL_ANNOUNCEMENT) {
          const stored = graph.messages.channel(scid);
          if (stored) yield stored.announcement;
        }
        for (const dir of [0, 1] as const) {
          const bit = dir === 0 ? QUERY_FLAG_CHANNEL_UPDATE_1 : QUERY_FLAG_CHANNEL_UPDATE_2;
          if ((f & bit) === 0n || (graph.edgeFlagsAt(c * 2 + dir) & EDGE_HAS_UPDATE) === 0) continue;
          const raw = graph.messages.update(scid, dir);
          if (raw) yield raw;
        }
        if (f & QUERY_FLAG_NODE_ANNOUNCEMENT_1) yield* nodeAnnouncement(graph.channelNodeAt(c, 0));
        if (f & QUERY_FLAG_NODE_ANNOUNCEMENT_2) yield* nodeAnnouncement(graph.channelNodeAt(c, 1));
      }
      yield end(true);
    })(),
  };
}

/**
 * What a gossip_timestamp_filter asks for: "all gossip messages whose timestamp is greater or
 * equal to first_timestamp, and less than first_timestamp plus timestamp_range". A
 * channel_announcement takes the timestamp of its updates ("MUST consider the timestamp of the
 * channel_announcement to be the timestamp of a corresponding channel_update"), is left out
 * without one ("If a channel_announcement has no corresponding channel_updates: MUST NOT send")
 * or once its output is spent ("SHOULD NOT send"), and goes before its updates and its nodes'
 * announcements ("MUST send the channel_announcement prior to any corresponding
 * channel_updates and node_announcements"). Node announcements in range whose channels were
 * not sent come last.
 */
export function* gossipInTimestampRange(
  graph: NetworkGraph,
  firstTimestamp: number,
  timestampRange: number,
): Generator<Uint8Array> {
  const end = firstTimestamp + timestampRange;
  const inRange = (t: number) => t >= firstTimestamp && t < end;
  const sentNodes = new Set<number>();
  const cols = graph.columns();
  for (let c = 0; c < cols.channelLimit; c++) {
    if ((graph.channelFlagsAt(c) & (CHANNEL_LIVE | CHANNEL_SPENT)) !== CHANNEL_LIVE) continue;
    const has0 = (graph.edgeFlagsAt(c * 2) & EDGE_HAS_UPDATE) !== 0 && inRange(graph.edgeTimestampAt(c * 2));
    const has1 =
      (graph.edgeFlagsAt(c * 2 + 1) & EDGE_HAS_UPDATE) !== 0 && inRange(graph.edgeTimestampAt(c * 2 + 1));
    if (!has0 && !has1) continue;
    const scid = graph.shortChannelIdAt(c);
    const stored = graph.messages.channel(scid);
    if (!stored) continue;
    yield stored.announcement;
    if (has0) {
      const u = graph.messages.update(scid, 0);
      if (u) yield u;
    }
    if (has1) {
      const u = graph.messages.update(scid, 1);
      if (u) yield u;
    }
    for (const n of [graph.channelNodeAt(c, 0), graph.channelNodeAt(c, 1)]) {
      if (sentNodes.has(n) || (graph.nodeFlagsAt(n) & NODE_ANNOUNCED) === 0) continue;
      if (!inRange(graph.nodeTimestampAt(n))) continue;
      sentNodes.add(n);
      const raw = graph.messages.nodeAnnouncement(graph.nodeIdAt(n));
      if (raw) yield raw;
    }
  }
  for (let n = 0; n < cols.nodeLimit; n++) {
    if (sentNodes.has(n) || (graph.nodeFlagsAt(n) & NODE_ANNOUNCED) === 0) continue;
    if (!inRange(graph.nodeTimestampAt(n))) continue;
    const raw = graph.messages.nodeAnnouncement(graph.nodeIdAt(n));
    if (raw) yield raw;
  }
}

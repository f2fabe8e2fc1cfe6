/**
 * A range sync with one peer, the asking side of BOLT 7's gossip queries, as a pure state
 * machine: `start()` gives the query_channel_range, each reply_channel_range is checked and its
 * short_channel_ids compared with the graph, then the missing (or, with timestamps, newer)
 * ones are asked for with query_short_channel_ids, one query at a time ("MUST NOT send
 * query_short_channel_ids if it has sent a previous query_short_channel_ids to this peer and
 * not received reply_short_channel_ids_end"). What comes back is ordinary gossip: it goes
 * through the validator like any other.
 *
 * Malformed replies (another chain, out of order, short_channel_ids outside the reply's own
 * range, timestamps that do not match the ids, a deprecated or unknown encoding, replies nobody
 * asked for) end the sync with `failed` and `warn: true`: the caller sends a warning and tries
 * another peer. Nothing a reply says reaches the graph directly.
 */
import {
  bytesEqual,
  encodeMessage,
  QUERY_FLAG_CHANNEL_ANNOUNCEMENT,
  QUERY_FLAG_CHANNEL_UPDATE_1,
  QUERY_FLAG_CHANNEL_UPDATE_2,
  QUERY_FLAG_NODE_ANNOUNCEMENT_1,
  QUERY_FLAG_NODE_ANNOUNCEMENT_2,
  QUERY_OPTION_WANT_CHECKSUMS,
  QUERY_OPTION_WANT_TIMESTAMPS,
  type ReplyChannelRange,
  type ReplyShortChannelIdsEnd,
  scidBlock,
} from '@lnkit/wire';
import type { NetworkGraph } from './graph.ts';
import { EDGE_HAS_UPDATE, NO_INDEX } from './graph-view.ts';

export interface RangeSyncOptions {
  /** Ask for timestamps and checksums (the peer offers gossip_queries_ex): then known channels with newer updates are fetched too. */
  extended?: boolean;
  firstBlocknum?: number;
  numberOfBlocks?: number;
  /** short_channel_ids per query_short_channel_ids. Default 4,000 (with flags, well inside 65,535 bytes). */
  scidsPerQuery?: number;
  /** More ids than this in the replies ends the sync (a peer flooding us). Default 1,000,000. */
  maxScids?: number;
  /** The time (seconds), for the checksum rule below. Default: the clock when constructed. */
  nowSec?: number;
}

export type SyncStep =
  | { readonly kind: 'send'; readonly message: Uint8Array }
  | { readonly kind: 'done'; readonly requested: number }
  | { readonly kind: 'failed'; readonly reason: string; readonly warn: boolean };

type State = 'idle' | 'ranges' | 'scids' | 'done' | 'failed';

const ALL =
  QUERY_FLAG_CHANNEL_ANNOUNCEMENT |
  QUERY_FLAG_CHANNEL_UPDATE_1 |
  QUERY_FLAG_CHANNEL_UPDATE_2 |
  QUERY_FLAG_NODE_ANNOUNCEMENT_1 |
  QUERY_FLAG_NODE_ANNOUNCEMENT_2;

export class RangeSync {
  private state: State = 'idle';
  private readonly first: number;
  private readonly count: number;
  private readonly extended: boolean;
  private readonly perQuery: number;
  private readonly maxScids: number;
  private previousFirst = -1;
  private seen = 0;
  private readonly wanted: bigint[] = [];
  private readonly wantedFlags: bigint[] = [];
  private next = 0;
  private readonly refreshBeforeSec: number;
  /** Replies received (for tests and logs). */
  replies = 0;

  constructor(
    private readonly graph: NetworkGraph,
    options: RangeSyncOptions = {},
  ) {
    this.first = options.firstBlocknum ?? 0;
    this.count = options.numberOfBlocks ?? 0xffff_ffff;
    this.extended = options.extended ?? false;
    this.perQuery = options.scidsPerQuery ?? 4000;
    this.maxScids = options.maxScids ?? 1_000_000;
    this.refreshBeforeSec = (options.nowSec ?? Math.floor(Date.now() / 1000)) - 7 * 86_400;
  }

  get status(): State {
    return this.state;
  }

  /** The query_channel_range to send. */
  start(): Uint8Array {
    if (this.state !== 'idle') throw new Error('range sync already started');
    this.state = 'ranges';
    return encodeMessage({
      type: 263,
      kind: 'query_channel_range',
      chainHash: this.graph.chainHash,
      firstBlocknum: this.first,
      numberOfBlocks: this.count,
      ...(this.extended
        ? { queryOptionFlags: QUERY_OPTION_WANT_TIMESTAMPS | QUERY_OPTION_WANT_CHECKSUMS }
        : {}),
    });
  }

  private fail(reason: string, warn = true): SyncStep[] {
    this.state = 'failed';
    return [{ kind: 'failed', reason, warn }];
  }

  onReplyChannelRange(m: ReplyChannelRange): SyncStep[] {
    if (this.state !== 'ranges') return this.fail('reply_channel_range without a query_channel_range');
    this.replies++;
    if (!bytesEqual(m.chainHash, this.graph.chainHash))
      return this.fail('reply_channel_range for another chain');
    const end = this.first + this.count;
    const replyEnd = m.firstBlocknum + m.numberOfBlocks;
    if (this.previousFirst < 0) {
      // "the first reply_channel_range message: MUST set first_blocknum less than or equal to
      // the first_blocknum in query_channel_range; MUST set first_blocknum plus number_of_blocks
      // greater than first_blocknum in query_channel_range".
      if (m.firstBlocknum > this.first || replyEnd <= this.first)
        return this.fail('first reply_channel_range does not start the queried range');
    } else if (m.firstBlocknum < this.previousFirst) {
      // "successive reply_channel_range message: MUST have first_blocknum equal or greater than the previous first_blocknum".
      return this.fail('reply_channel_range out of order');
    }
    this.previousFirst = m.firstBlocknum;
    if (m.encodedShortIds.encoding !== 'uncompressed')
      return this.fail(
        `reply_channel_range with encoding ${m.encodedShortIds.encodingType}, which must not be used`,
      );
    const ids = m.encodedShortIds.items;
    const stamps = m.timestamps;
    if (stamps && stamps.encoding !== 'uncompressed') return this.fail('timestamps in an unknown encoding');
    if (stamps && stamps.items.length !== ids.length) return this.fail('timestamps do not match the ids');
    if (m.checksums && m.checksums.length !== ids.length) return this.fail('checksums do not match the ids');
    this.seen += ids.length;
    if (this.seen > this.maxScids) return this.fail('too many short_channel_ids');
    for (let k = 0; k < ids.length; k++) {
      const scid = ids[k]!;
      const block = scidBlock(scid);
      if (block < m.firstBlocknum || block >= replyEnd)
        return this.fail('a short_channel_id outside its reply_channel_range');
      const flags = this.flagsFor(scid, stamps?.items[k], m.checksums?.[k]);
      if (flags !== 0n) {
        this.wanted.push(scid);
        this.wantedFlags.push(flags);
      }
    }
    // Done once the replies cover the query ("the final reply_channel_range message: MUST have
    // first_blocknum plus number_of_blocks equal or greater than the query_channel_range
    // first_blocknum plus number_of_blocks"); sync_complete alone is not trusted (old nodes set it on every reply).
    if (replyEnd < Math.min(end, 0xffff_ffff)) return [];
    this.state = 'scids';
    return this.nextQuery();
  }

  /** Query flags for one id: everything for an unknown channel; with timestamps, the newer updates of a known one. */
  private flagsFor(
    scid: bigint,
    stamps: { timestampNodeId1: number; timestampNodeId2: number } | undefined,
    sums: { checksumNodeId1: number; checksumNodeId2: number } | undefined,
  ): bigint {
    const c = this.graph.channelIndex(scid);
    if (c === NO_INDEX) return ALL;
    if (!stamps) return 0n;
    let f = 0n;
    const check = (dir: 0 | 1, theirs: number, sum: number | undefined, bit: bigint) => {
      const e = c * 2 + dir;
      const have = (this.graph.edgeFlagsAt(e) & EDGE_HAS_UPDATE) !== 0;
      if (theirs === 0) return;
      if (!have) {
        f |= bit;
        return;
      }
      if (theirs <= this.graph.edgeTimestampAt(e)) return;
      // A newer update that says the same (equal checksum) is not worth asking for — unless ours
      // is a week old: nodes re-sign an unchanged policy so that it is not pruned at two weeks.
      const ours = this.graph.edgeTimestampAt(e);
      if (
        sum !== undefined &&
        sum !== 0 &&
        ours > this.refreshBeforeSec &&
        sum === this.graph.edgeChecksumAt(e)
      )
        return;
      f |= bit;
    };
    check(0, stamps.timestampNodeId1, sums?.checksumNodeId1, QUERY_FLAG_CHANNEL_UPDATE_1);
    check(1, stamps.timestampNodeId2, sums?.checksumNodeId2, QUERY_FLAG_CHANNEL_UPDATE_2);
    return f;
  }

  private nextQuery(): SyncStep[] {
    if (this.next >= this.wanted.length) {
      this.state = 'done';
      return [{ kind: 'done', requested: this.wanted.length }];
    }
    const ids = this.wanted.slice(this.next, this.next + this.perQuery);
    const flags = this.wantedFlags.slice(this.next, this.next + this.perQuery);
    this.next += ids.length;
    // Flags only when they say less than "everything" (a peer without gossip_queries_ex
    // ignores the odd TLV anyway, and answers everything).
    const partial = flags.some((f) => f !== ALL);
    return [
      {
        kind: 'send',
        message: encodeMessage({
          type: 261,
          kind: 'query_short_channel_ids',
          chainHash: this.graph.chainHash,
          encodedShortIds: { encoding: 'uncompressed', items: ids },
          ...(partial ? { queryFlags: { encoding: 'uncompressed', items: flags } } : {}),
        }),
      },
    ];
  }

  onReplyShortChannelIdsEnd(m: ReplyShortChannelIdsEnd): SyncStep[] {
    if (this.state !== 'scids')
      return this.fail('reply_short_channel_ids_end without a query_short_channel_ids');
    if (!bytesEqual(m.chainHash, this.graph.chainHash))
      return this.fail('reply_short_channel_ids_end for another chain');
    // "a 0 does indicate that the sender should search elsewhere for additional data".
    if (m.fullInformation === 0) return this.fail('the peer has no full information for this chain', false);
    return this.nextQuery();
  }
}

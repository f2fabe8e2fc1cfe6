/**
 * What becomes of each gossip message, and what the peer that sent it hears. One table, so the
 * rules are in one place; validate.ts decides the outcome, the GossipSync performs the
 * reaction, and GossipCounters counts every outcome per message kind (the metrics of bad input).
 */

export const OUTCOMES = [
  'accepted',
  /** The same as what the graph has (or another copy in flight). */
  'duplicate',
  /** Older than what the graph has (BOLT 7: "SHOULD ignore the message"). */
  'stale',
  /** BOLT 7: "if the specified `chain_hash` is unknown to the receiver: MUST ignore the message". */
  'unknown-chain',
  /** channel_update for no known channel: "MUST ignore `channel_update`s that do NOT correspond to one of its own channels". */
  'unknown-channel',
  /** node_announcement of a node with no channel: "if `node_id` is NOT previously known from a `channel_announcement` message ... SHOULD ignore the message". */
  'unknown-node',
  /** channel_update of a spent channel without the disable bit: "MUST ignore `channel_update`s, unless they have the `disable` bit set to 1". */
  'channel-spent',
  /** "if the `timestamp` is unreasonably far in the future: MAY discard the `channel_update`". */
  'timestamp-in-future',
  /** Older than the two weeks after which the channel would be pruned anyway ("MAY ignore the channel"). */
  'timestamp-too-old',
  /** "if the `timestamp` is equal to the last-received ... if the fields below `timestamp` differ: MAY blacklist" (we only ignore it). */
  'same-timestamp-different',
  /** A channel_update with `dont_forward` set is for the channel peer only: "MUST NOT forward such a `channel_update` to other peers". */
  'dont-forward',
  /** channel_announcement with `node_id_1` = `node_id_2`: no channel. */
  'self-channel',
  /** "if `node_id_1` OR `node_id_2` are blacklisted: SHOULD ignore the message". */
  'blacklisted',
  /** The peer sent more than its rate limit allows (rate-limit.ts). */
  'rate-limited',
  /** A signature that does not verify. */
  'bad-signature',
  /** Cut short, a bad point, an address list its `addrlen` cannot hold. */
  'malformed',
  /** The funding output: no such block, transaction or output. */
  'utxo-missing',
  /** "OR the output is spent: MUST ignore the message". */
  'utxo-spent',
  /** "does NOT correspond to a P2WSH (using `bitcoin_key_1` and `bitcoin_key_2`)": MUST ignore. */
  'utxo-script-mismatch',
  /** "does NOT have at least 6 confirmations ... SHOULD ignore the message". */
  'utxo-unconfirmed',
  /** The chain source could not answer: ignored for now (it comes again in a later sync). */
  'utxo-unavailable',
  /**
   * A second valid channel_announcement for the same transaction with other node ids: "SHOULD
   * blacklist the previous message's `node_id_1` and `node_id_2`, as well as this `node_id_1`
   * and `node_id_2` AND forget any channels connected to them".
   */
  'conflicting-announcement',
] as const;

export type Outcome = (typeof OUTCOMES)[number];
export const OUTCOME_INDEX: Readonly<Record<Outcome, number>> = Object.freeze(
  Object.fromEntries(OUTCOMES.map((o, i) => [o, i])) as Record<Outcome, number>,
);

export const GOSSIP_KINDS = ['channel_announcement', 'node_announcement', 'channel_update'] as const;
export type GossipKind = (typeof GOSSIP_KINDS)[number];
/** GOSSIP_KINDS index of a message type (256, 257, 258). */
export const kindIndex = (type: number): number => type - 256;

/** What the sending peer hears: nothing, a BOLT 1 `warning`, or a warning and a disconnect. */
export type Reaction = 'none' | 'warn' | 'warn-and-close';

/**
 * BOLT 7's answers to bad input, by kind:
 * - channel_announcement, bad signature: "SHOULD send a `warning`. MAY close the connection.
 *   MUST ignore the message" → warn.
 * - node_announcement, bad signature or bad node_id: "SHOULD send a `warning`. MAY close the
 *   connection. MUST NOT process the message further" → warn; `addrlen` too short: "SHOULD
 *   send a `warning`. MAY close the connection" → warn.
 * - channel_update, bad signature: "SHOULD send a `warning` and close the connection" →
 *   warn-and-close.
 * Everything else is ignored silently (and counted).
 */
export function reactionTo(kind: GossipKind, outcome: Outcome): Reaction {
  if (outcome === 'bad-signature') return kind === 'channel_update' ? 'warn-and-close' : 'warn';
  if (outcome === 'malformed') return 'warn';
  return 'none';
}

/** Counts per kind and outcome, plus a few totals; plain numbers, cheap to bump on the hot path. */
export class GossipCounters {
  private readonly counts = GOSSIP_KINDS.map(() => new Float64Array(OUTCOMES.length));
  /** Messages that were not gossip (unknown type) or could not be read at all. */
  unreadable = 0;
  /** Signatures checked. */
  signaturesChecked = 0;
  /** Verification batches sent. */
  batches = 0;

  count(kind: number, outcome: number): void {
    this.counts[kind]![outcome]!++;
  }

  get(kind: GossipKind, outcome: Outcome): number {
    return this.counts[GOSSIP_KINDS.indexOf(kind)]![OUTCOME_INDEX[outcome]]!;
  }

  /** `{ channel_update: { accepted: 10, stale: 2 }, ... }`, zeros left out. */
  snapshot(): Record<GossipKind, Partial<Record<Outcome, number>>> & {
    unreadable: number;
    signaturesChecked: number;
    batches: number;
  } {
    const out = {} as Record<GossipKind, Partial<Record<Outcome, number>>>;
    GOSSIP_KINDS.forEach((k, i) => {
      const row: Partial<Record<Outcome, number>> = {};
      OUTCOMES.forEach((o, j) => {
        const n = this.counts[i]![j]!;
        if (n > 0) row[o] = n;
      });
      out[k] = row;
    });
    return {
      ...out,
      unreadable: this.unreadable,
      signaturesChecked: this.signaturesChecked,
      batches: this.batches,
    };
  }
}

/**
 * The scorer's knowledge as a versioned record (DESIGN.md: the `scorer` database, one snapshot
 * written by the background processor, step 17). The bounds are stored undecayed with the time
 * each was learned, so a scorer loaded later decays them from when they were true, not from when
 * the node restarted.
 */
import { defineRecord, fieldCodec as f, type NamedDb } from '@lnkit/store';
import {
  type LiquidityEntry,
  ProbabilisticScorer,
  type ProbabilisticScorerOptions,
} from './probabilistic-scorer.ts';

interface EntryRecord {
  shortChannelId: bigint;
  direction: number;
  lowerMsat: bigint;
  lowerAtMs: bigint;
  upperMsat?: bigint;
  upperAtMs: bigint;
}

export interface ScorerSnapshot {
  entries: EntryRecord[];
}

const entryCodec = f.struct<EntryRecord>('scorer entry', {
  shortChannelId: { type: 0, codec: f.u64 },
  direction: { type: 2, codec: f.u8 },
  lowerMsat: { type: 4, codec: f.tu64 },
  lowerAtMs: { type: 6, codec: f.tu64 },
  upperMsat: { type: 8, codec: f.tu64, optional: true },
  upperAtMs: { type: 10, codec: f.tu64 },
});

export const scorerSnapshotRecord = defineRecord<ScorerSnapshot>({
  kind: 'scorer',
  version: 1,
  minReadVersion: 1,
  fields: { entries: { type: 0, codec: f.list(entryCodec) } },
});

/** The store's database of the scorer's snapshot (DESIGN.md's `scorer`). */
export const SCORER_DB = 'scorer';

/** The key of the snapshot in the `scorer` database. */
export const SCORER_SNAPSHOT_KEY = 'probabilistic-scorer';

export function scorerSnapshot(scorer: ProbabilisticScorer): ScorerSnapshot {
  const entries: EntryRecord[] = [];
  for (const e of scorer.entries()) {
    entries.push({
      shortChannelId: e.shortChannelId,
      direction: e.direction,
      lowerMsat: e.lowerMsat,
      lowerAtMs: BigInt(Math.max(0, Math.round(e.lowerAtMs))),
      ...(e.upperMsat !== undefined ? { upperMsat: e.upperMsat } : {}),
      upperAtMs: BigInt(Math.max(0, Math.round(e.upperAtMs))),
    });
  }
  return { entries };
}

export function entriesOf(snapshot: ScorerSnapshot): LiquidityEntry[] {
  return snapshot.entries.map((e) => ({
    shortChannelId: e.shortChannelId,
    direction: (e.direction & 1) as 0 | 1,
    lowerMsat: e.lowerMsat,
    lowerAtMs: Number(e.lowerAtMs),
    upperMsat: e.upperMsat,
    upperAtMs: Number(e.upperAtMs),
  }));
}

/** Writes the scorer's snapshot (durable when it resolves: @lnkit/store). Drops what has decayed to nothing first. */
export async function saveScorer(
  db: NamedDb<Uint8Array>,
  scorer: ProbabilisticScorer,
  nowMs: number,
): Promise<void> {
  scorer.prune(nowMs);
  await db.put(SCORER_SNAPSHOT_KEY, scorerSnapshotRecord.encode(scorerSnapshot(scorer)));
}

/** A scorer with what `saveScorer` wrote (a fresh one if nothing was). Throws StoreError for a bad record. */
export function loadScorer(
  db: NamedDb<Uint8Array>,
  options: Omit<ProbabilisticScorerOptions, 'entries'> = {},
): ProbabilisticScorer {
  const bytes = db.get(SCORER_SNAPSHOT_KEY);
  const entries = bytes ? entriesOf(scorerSnapshotRecord.decode(bytes)) : [];
  return new ProbabilisticScorer({ ...options, entries });
}

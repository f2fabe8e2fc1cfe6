/**
 * A channel step's writes (channel.actor.ts): its snapshot is never behind a monitor update
 * that is durable, nor behind a commitment_signed or revoke_and_ack that left; with
 * `writesInIssueOrder` (snapshot and monitor updates in one lmdb Store, committed in issue
 * order) the monitor update is handed over while the snapshot's write is still under way, so
 * the two share a commit; without it the snapshot is durable first. Two managers keysend to
 * each other at once over an in-memory link, on lmdb.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { randomBytes } from '@lnkit/crypto';
import { KeysManager } from '@lnkit/keys';
import type { ChannelMonitorUpdate } from '@lnkit/monitor';
import { createRootLogger } from '@lnkit/runtime';
import { waitFor } from '@lnkit/test-support';
import type { HtlcChannelParams } from './htlc/build.ts';
import { decodeNormalState } from './htlc/normal-record.ts';
import { linkedPeers, type MemoryLink, openReadyChannel, startTestManager } from './manager-test-kit.ts';
import { type ChannelSnapshot, LmdbChannelSnapshotStore } from './snapshot.ts';

const logger = createRootLogger({ level: 'silent' });
const COMMITMENT_SIGNED = 132;
const REVOKE_AND_ACK = 133;
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

/** What one node saw of its own writes, checked as they happened. */
interface Watch {
  /** Snapshot writes issued and not yet durable. */
  pendingSnapshots: number;
  /** Persists handed over while a snapshot write was still under way. */
  persistsBesideSnapshot: number;
  persists: number;
  /** Where the snapshot on disk was behind what had become durable or left. */
  violations: string[];
}

async function node(keys: KeysManager, link: MemoryLink, writesInIssueOrder: boolean) {
  const watch: Watch = { pendingSnapshots: 0, persistsBesideSnapshot: 0, persists: 0, violations: [] };
  const send = link.send.bind(link);
  link.send = async (nodeId, raw) => {
    const type = Buffer.from(raw).readUInt16BE(0);
    if ((type === COMMITMENT_SIGNED || type === REVOKE_AND_ACK) && watch.pendingSnapshots > 0)
      watch.violations.push(`message ${type} sent with a snapshot write under way`);
    return send(nodeId, raw);
  };
  const m = await startTestManager({
    keys,
    link,
    logger,
    overrides: (store, lmdb) => {
      const snapshots = new LmdbChannelSnapshotStore(store);
      /** The monitor update id the snapshot on disk has reached (its next one, less one). */
      const onDisk = async (): Promise<bigint | undefined> => {
        const [s] = (await snapshots.load()).channels;
        return s?.normalState
          ? decodeNormalState(s.normalState, {} as HtlcChannelParams).nextMonitorUpdateId - 1n
          : undefined;
      };
      return {
        writesInIssueOrder,
        persister: {
          async persist(update: ChannelMonitorUpdate) {
            watch.persists++;
            if (watch.pendingSnapshots > 0) watch.persistsBesideSnapshot++;
            const status = await lmdb.persist(update);
            const at = await onDisk();
            // Normal operation's updates: the snapshot holds the state that made each one.
            if (at !== undefined && at < update.updateId)
              watch.violations.push(`monitor update ${update.updateId} durable, snapshot at ${at}`);
            return status;
          },
        },
        snapshot: {
          load: () => snapshots.load(),
          saveChannel: async (s: ChannelSnapshot, encoded?: Uint8Array) => {
            watch.pendingSnapshots++;
            try {
              await snapshots.saveChannel(s, encoded);
            } finally {
              watch.pendingSnapshots--;
            }
          },
          removeChannel: (id) => snapshots.removeChannel(id),
          saveBestBlock: (b) => snapshots.saveBestBlock(b),
        },
      };
    },
  });
  cleanups.push(m.close);
  return { ...m, watch };
}

async function payBothWays(writesInIssueOrder: boolean): Promise<[Watch, Watch]> {
  const [pa, pb] = linkedPeers(() => new KeysManager(randomBytes(32)));
  const a = await node(pa.keys, pa.link, writesInIssueOrder);
  const b = await node(pb.keys, pb.link, writesInIssueOrder);
  await openReadyChannel(a, b, 250_000n, 100_000_000n);
  const payments: Promise<{ status: string }>[] = [];
  for (let i = 0; i < 5; i++) {
    payments.push(a.manager.payments.keysend(b.nodeId, 1_000_000n + BigInt(i)));
    payments.push(b.manager.payments.keysend(a.nodeId, 2_000_000n + BigInt(i)));
  }
  for (const p of payments) assert.equal((await p).status, 'succeeded');
  const aMsat = 150_000_000n - 5_000_010n + 10_000_010n;
  await waitFor(
    () =>
      a.manager.listChannels()[0]?.localBalanceMsat === aMsat &&
      b.manager.listChannels()[0]?.localBalanceMsat === 250_000_000n - aMsat,
    { what: 'balances exact on both sides' },
  );
  return [a.watch, b.watch];
}

test('in issue order: each monitor update is handed over beside its step’s snapshot write, and the snapshot on disk is never behind a durable update or a signed message', async () => {
  const watches = await payBothWays(true);
  for (const w of watches) {
    assert.deepEqual(w.violations, []);
    assert.ok(w.persists > 10, `persists made (${w.persists})`);
    assert.ok(
      w.persistsBesideSnapshot > 0,
      `some persists shared their snapshot's commit (${w.persistsBesideSnapshot} of ${w.persists})`,
    );
  }
});

test('not in issue order (a persister elsewhere): the snapshot is durable before each monitor update is handed over', async () => {
  const watches = await payBothWays(false);
  for (const w of watches) {
    assert.deepEqual(w.violations, []);
    assert.ok(w.persists > 10, `persists made (${w.persists})`);
    assert.equal(w.persistsBesideSnapshot, 0);
  }
});

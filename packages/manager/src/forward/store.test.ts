/**
 * The forwards' books in lmdb: a record read back as written (optional fields present and
 * absent), updated in place by the same key, in upstream channel and HTLC id order, after the
 * store is closed and opened again (a restart).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { randomBytes } from '@lnkit/crypto';
import { Store } from '@lnkit/store';
import { type ForwardRecord, forwardKey, LmdbForwardsStore, MemoryForwardsStore } from './store.ts';

/** The fields set (an absent optional field and an undefined one are the same record). */
const defined = (r: object) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined));

const record = (over: Partial<ForwardRecord> = {}): ForwardRecord => ({
  inChannelId: new Uint8Array(32).fill(1),
  inHtlcId: 7n,
  outShortChannelId: (800_000n << 40n) | (3n << 16n) | 1n,
  outChannelId: new Uint8Array(32).fill(2),
  outHtlcId: 0n,
  paymentHash: randomBytes(32),
  amountInMsat: 5_001_000n,
  amountOutMsat: 5_000_000n,
  inCltvExpiry: 800_150,
  outCltvExpiry: 800_078,
  sharedSecret: randomBytes(32),
  status: 'offered',
  createdAt: 1_700_000_000,
  ...over,
});

test('LmdbForwardsStore: records survive a reopen, updated by key, in channel and HTLC id order', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lnkit-forwards-'));
  try {
    let store = await Store.open(dir, { schemaVersion: 1 });
    let books = new LmdbForwardsStore(store);
    const offered = record();
    // Refused before anything was offered: no downstream channel or HTLC id, no secret kept.
    const refused = record({
      inHtlcId: 2n,
      outChannelId: undefined,
      outHtlcId: undefined,
      sharedSecret: undefined,
      status: 'failed',
      failure: 'unknown_next_peer',
      resolvedAt: 1_700_000_005,
    });
    await books.save(offered);
    await books.save(refused);
    await books.save({
      ...offered,
      status: 'fulfilled',
      preimage: new Uint8Array(32).fill(9),
      sharedSecret: undefined,
    });
    await store.close();

    store = await Store.open(dir, { schemaVersion: 1 });
    books = new LmdbForwardsStore(store);
    const loaded = books.load();
    assert.equal(loaded.length, 2);
    const [first, second] = loaded;
    assert.deepEqual(defined(first ?? {}), defined(refused));
    assert.deepEqual(
      defined(second ?? {}),
      defined({
        ...offered,
        status: 'fulfilled',
        preimage: new Uint8Array(32).fill(9),
        sharedSecret: undefined,
      }),
    );
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('forwardKey orders a channel’s HTLC ids numerically; MemoryForwardsStore keeps copies', async () => {
  const id = new Uint8Array(32).fill(3);
  assert.ok(forwardKey(id, 2n) < forwardKey(id, 10n));
  assert.ok(forwardKey(id, 0xffn) < forwardKey(id, 0x100n));
  const mem = new MemoryForwardsStore();
  const r = record();
  await mem.save(r);
  r.status = 'failed';
  assert.equal(mem.load()[0]?.status, 'offered');
});

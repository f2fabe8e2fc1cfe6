/**
 * Seeded interleavings of the two cores: both sides add, commit, fulfill and fail at random,
 * messages are delivered one at a time in a random order of the two directions, persists are
 * held and completed late, the connection drops (with channel_reestablish). After every step:
 * no side failed the channel, and each side's commitments hold exactly the funding in msat.
 * At the end every HTLC is settled and both sides agree to the msat with what was paid.
 * A failure names its seed; `HTLC_SEED=n` replays one, `HTLC_SEEDS=n` runs seeds 1..n.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sha256 } from '@lnkit/crypto';
import type { CommitmentData } from '@lnkit/monitor';
import { balancesOf, htlcsOf } from './ledger.ts';
import { prng } from './sim.ts';
import {
  deliverOne,
  disconnect,
  type HtlcNode,
  htlcPair,
  preimageOf,
  pump,
  reconnect,
} from './test-harness.ts';

const FUNDING_MSAT = 1_000_000_000n;

/** Channel failures (a command refused for a limit or a link not reestablished yet is not one). */
const fatal = (n: HtlcNode) => n.failures.filter((f) => f.kind !== 'refused');

function checkConserved(n: HtlcNode, seed: number, op: number): void {
  for (const side of ['local', 'remote'] as const) {
    const b = balancesOf(n.state.ledger, side);
    const inFlight = htlcsOf(n.state.ledger, side).reduce((s, h) => s + h.amountMsat, 0n);
    assert.equal(
      b.toLocalMsat + b.toRemoteMsat + inFlight,
      FUNDING_MSAT,
      `seed ${seed} op ${op}: ${n.name} ${side}`,
    );
  }
}

interface RunStats {
  fulfilled: number;
  reestablished: number;
}

async function run(seed: number, ops: number): Promise<RunStats> {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const { a, b } = await htlcPair({ b: { maxAcceptedHtlcs: 8 }, a: { maxAcceptedHtlcs: 8 } });
  // Preimages by payment hash, and what was paid each way once fulfilled.
  const preimages = new Map<string, Uint8Array>();
  let counter = 0;
  let connected = true;
  let reestablished = 0;
  const paid = { a: 0n, b: 0n };
  const fulfilledSeen = new Set<string>();
  const noteFulfilled = (from: HtlcNode) => {
    for (const e of from.events)
      if (e.type === 'htlc-resolved' && e.direction === 'offered' && e.removal.kind === 'fulfill') {
        const key = `${from.name}:${e.id}`;
        if (fulfilledSeen.has(key)) continue;
        fulfilledSeen.add(key);
        if (from === a) paid.a += e.amountMsat;
        else paid.b += e.amountMsat;
      }
  };
  /** Received HTLCs ready to be settled by `n`. */
  const settleable = (n: HtlcNode) =>
    n.state.ledger.htlcs.filter((h) => h.state === 'rcvd-add-ack-revocation');
  const settle = async (n: HtlcNode, fulfill: boolean) => {
    const h = pick(settleable(n));
    if (!h) return;
    const preimage = preimages.get(Buffer.from(h.paymentHash).toString('hex')) as Uint8Array;
    if (fulfill) await n.input({ kind: 'fulfill-htlc', id: h.id, paymentPreimage: preimage });
    else await n.input({ kind: 'fail-htlc', id: h.id, reason: new Uint8Array(8) });
  };

  for (let op = 0; op < ops; op++) {
    const n = pick([a, b]);
    const r = rnd();
    if (r < 0.16) {
      if (connected) {
        const preimage = preimageOf(++counter % 250);
        const p = new Uint8Array(preimage);
        p[0] = counter & 0xff;
        p[1] = counter >> 8;
        preimages.set(Buffer.from(sha256(p)).toString('hex'), p);
        await n.add(BigInt(1_000 + Math.floor(rnd() * 5_000_000)), p);
      }
    } else if (r < 0.28) {
      if (connected) await n.input({ kind: 'commit' });
    } else if (r < 0.36) {
      if (connected) await settle(n, rnd() < 0.75);
    } else if (r < 0.72) {
      if (n.inbox.length > 0) await deliverOne(n);
    } else if (r < 0.8) {
      n.holdPersists = !n.holdPersists;
    } else if (r < 0.92) {
      if (n.held.length > 0) await n.complete([n.held[0] as bigint]);
    } else if (r < 0.96) {
      if (connected) {
        await disconnect(a, b);
        connected = false;
      }
    } else if (!connected) {
      await reconnect(a, b);
      connected = true;
      reestablished++;
    }
    for (const x of [a, b]) {
      assert.deepEqual(fatal(x), [], `seed ${seed} op ${op}: ${x.name} failed`);
      checkConserved(x, seed, op);
    }
  }

  // Drain: reconnect, let every persist through, settle everything, until quiet.
  if (!connected) await reconnect(a, b);
  a.holdPersists = b.holdPersists = false;
  for (let round = 0; round < 20; round++) {
    await a.complete();
    await b.complete();
    await pump(a, b);
    await a.input({ kind: 'commit' });
    await b.input({ kind: 'commit' });
    await pump(a, b);
    for (const x of [a, b]) while (settleable(x).length > 0) await settle(x, true);
    if (
      a.state.ledger.htlcs.length + b.state.ledger.htlcs.length === 0 &&
      a.inbox.length + b.inbox.length === 0
    )
      break;
  }
  noteFulfilled(a);
  noteFulfilled(b);
  assert.deepEqual([...fatal(a), ...fatal(b)], [], `seed ${seed}`);
  assert.equal(a.state.ledger.htlcs.length + b.state.ledger.htlcs.length, 0, `seed ${seed}: HTLCs left`);
  const expectA = 700_000_000n - paid.a + paid.b;
  assert.deepEqual(
    a.balances(),
    { toLocalMsat: expectA, toRemoteMsat: FUNDING_MSAT - expectA },
    `seed ${seed}`,
  );
  assert.deepEqual(
    b.balances(),
    { toLocalMsat: FUNDING_MSAT - expectA, toRemoteMsat: expectA },
    `seed ${seed}`,
  );
  // Both agree on both commitments.
  const last = (x: HtlcNode, kind: 'holder-commitment' | 'counterparty-commitment') =>
    (
      x.persisted
        .flatMap((u) => u.steps)
        .filter((s) => s.kind === kind)
        .at(-1) as { commitment: CommitmentData } | undefined
    )?.commitment.txid;
  assert.equal(last(a, 'holder-commitment'), last(b, 'counterparty-commitment'), `seed ${seed}`);
  assert.equal(last(b, 'holder-commitment'), last(a, 'counterparty-commitment'), `seed ${seed}`);
  return { fulfilled: fulfilledSeen.size, reestablished };
}

const only = process.env.HTLC_SEED;
const count = Number(process.env.HTLC_SEEDS ?? 12);
const seeds = only !== undefined ? [Number(only)] : Array.from({ length: count }, (_, i) => i + 1);

test(`interleavings of both sides with drops, late persists and reestablish (${seeds.length} seeds × 120 operations)`, async () => {
  const total = { fulfilled: 0, reestablished: 0 };
  for (const seed of seeds) {
    const r = await run(seed, 120);
    total.fulfilled += r.fulfilled;
    total.reestablished += r.reestablished;
  }
  // The runs did pay, and did reconnect in the middle of it (else they would prove little).
  assert.ok(total.fulfilled > seeds.length, `only ${total.fulfilled} HTLCs fulfilled`);
  assert.ok(total.reestablished > seeds.length / 2, `only ${total.reestablished} reestablishments`);
});

/**
 * Channels placed in channel hosts (remote-channel.ts): worker threads beside the manager's.
 * A line A–B–C in memory (lmdb monitors, snapshots and forwards), B's two channels each in its
 * own host thread: B forwards A's payments to C, many at once, failures come back decoded,
 * and B restarted from its data dir rebuilds its channels in new hosts and goes on. A and C
 * place their channels in a host too, so paying and being paid run there as well.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { inspect } from 'node:util';
import { threadId } from 'node:worker_threads';
import { sha256 } from '@lnkit/crypto';
import { createRootLogger } from '@lnkit/runtime';
import { waitFor } from '@lnkit/test-support';
import {
  channelWith,
  connectLinks,
  invoiceOf,
  LINE_FEE_MSAT,
  type LineNode,
  lineNode,
  openLine,
  routeThrough,
  stopLineNode,
} from './forward/forward-test-kit.ts';
import { ChannelHosts } from './remote-channel.ts';

const logger = createRootLogger({ level: 'silent' });
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

const CAPACITY_MSAT = 1_000_000_000n;
const FEE_MSAT = LINE_FEE_MSAT;
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

async function hostedNode(threads: number, from?: { seed: Uint8Array; dir: string }): Promise<LineNode> {
  return lineNode(logger, cleanups, undefined, from, { channelHosts: new ChannelHosts({ threads, logger }) });
}

const route = (a: LineNode, b: LineNode, c: LineNode, amountMsat: bigint) =>
  routeThrough(a, b, c, amountMsat);

/** A–B–C, ready: B's channels on two threads, A's and C's on one each. */
async function hostedLine(): Promise<{ a: LineNode; b: LineNode; c: LineNode }> {
  const a = await hostedNode(1);
  const b = await hostedNode(2);
  const c = await hostedNode(1);
  await openLine(
    [
      [a, b],
      [b, c],
    ],
    [a, b, c],
  );
  return { a, b, c };
}

const local = (n: LineNode, peer: LineNode) => channelWith(n, peer).localBalanceMsat;

test('B’s two channels step on two threads, neither the manager’s: B forwards 20 of A’s payments at once, C’s failure comes back decoded, balances exact', async () => {
  const { a, b, c } = await hostedLine();
  const threads = b.hosts?.threads() ?? [];
  assert.equal(threads.length, 2);
  assert.deepEqual(
    threads.map((t) => t.channels),
    [1, 1],
    'one channel in each host',
  );
  assert.notEqual(threads[0]?.threadId, threads[1]?.threadId);
  assert.ok(threads.every((t) => t.threadId !== threadId));

  const amount = 3_000_000n;
  const n = 20;
  const invoices = await Promise.all(Array.from({ length: n }, () => invoiceOf(c, amount)));
  const outcomes = await Promise.all(
    invoices.map(({ paymentHash, recipient }) =>
      a.manager.forwards.sendToRoute(route(a, b, c, amount), paymentHash, recipient),
    ),
  );
  outcomes.forEach((o, i) => {
    assert.equal(o.status, 'succeeded', inspect(o.failure));
    assert.equal(hex(sha256(o.preimage as Uint8Array)), hex(invoices[i]!.paymentHash));
  });
  const total = amount * BigInt(n);
  await waitFor(() => b.forwards.filter((e) => e.type === 'PaymentForwarded').length === n, {
    what: 'every forward said at B',
  });
  await waitFor(
    () =>
      local(a, b) === CAPACITY_MSAT - total - FEE_MSAT * BigInt(n) &&
      local(b, a) === total + FEE_MSAT * BigInt(n) &&
      local(b, c) === CAPACITY_MSAT - total &&
      local(c, b) === total,
    { what: 'every channel end settled exactly' },
  );
  assert.equal(c.payments.filter((e) => e.type === 'PaymentClaimed').length, n);

  // A payment C does not know: its failure crosses both of B's threads back to A, decoded.
  const unknown = await invoiceOf(c, amount);
  const failed = await a.manager.forwards.sendToRoute(
    route(a, b, c, amount),
    sha256(unknown.paymentHash),
    unknown.recipient,
  );
  assert.equal(failed.status, 'failed');
  assert.equal(failed.failure?.hopIndex, 1, inspect(failed.failure));
  assert.equal(failed.failure?.name, 'incorrect_or_unknown_payment_details');
  await waitFor(
    () => b.manager.forwards.listForwards().filter((f) => f.status === 'failed').length === 1 || undefined,
    { what: 'the failed forward resolved at B' },
  );
  assert.equal(b.manager.forwards.listForwards().filter((f) => f.status === 'settled').length, n);
  assert.equal(local(a, b), CAPACITY_MSAT - total - FEE_MSAT * BigInt(n), 'the failure cost A nothing');
  assert.equal(local(b, c), CAPACITY_MSAT - total);
});

test('B restarted from its data dir rebuilds its channels in new host threads and forwards again', async () => {
  const { a, b, c } = await hostedLine();
  const amount = 2_000_000n;
  const first = await invoiceOf(c, amount);
  assert.equal(
    (await a.manager.forwards.sendToRoute(route(a, b, c, amount), first.paymentHash, first.recipient)).status,
    'succeeded',
  );
  await waitFor(() => local(b, c) === CAPACITY_MSAT - amount, { what: 'the first settled at B' });
  await b.manager.idle();
  const oldThreads = (b.hosts?.threads() ?? []).map((t) => t.threadId);
  await stopLineNode(b);

  const b2 = await hostedNode(2, { seed: b.seed, dir: b.dir });
  const threads = b2.hosts?.threads() ?? [];
  assert.deepEqual(
    threads.map((t) => t.channels),
    [1, 1],
    'both channels rebuilt, one in each new host',
  );
  assert.ok(threads.every((t) => !oldThreads.includes(t.threadId)));
  assert.equal(local(b2, c), CAPACITY_MSAT - amount, 'the balance the snapshot and monitor agree on');
  connectLinks(b2.link, a.link);
  connectLinks(b2.link, c.link);
  await waitFor(() => channelWith(a, b2).usable && channelWith(c, b2).usable, {
    what: 'both channels reestablished',
  });
  const second = await invoiceOf(c, amount);
  const outcome = await a.manager.forwards.sendToRoute(
    route(a, b2, c, amount),
    second.paymentHash,
    second.recipient,
  );
  assert.equal(outcome.status, 'succeeded', inspect(outcome.failure));
  await waitFor(
    () => local(c, b2) === 2n * amount && local(a, b2) === CAPACITY_MSAT - 2n * (amount + FEE_MSAT),
    { what: 'the second settled on both channels' },
  );
  await waitFor(() => b2.forwards.some((e) => e.type === 'PaymentForwarded'), {
    what: 'PaymentForwarded at B after the restart',
  });
  assert.deepEqual(
    b2.forwards
      .filter((e) => e.type === 'PaymentForwarded')
      .map((e) => e.type === 'PaymentForwarded' && e.feeMsat),
    [FEE_MSAT],
  );
});

test('B’s host thread of B–C dies as C’s fulfil reaches it: said at once; B stopped and started again from its data dir resumes both channels, and the payment completes with balances exact', async () => {
  const a = await hostedNode(1);
  const died: { thread: number; reason: string }[] = [];
  const b = await lineNode(logger, cleanups, undefined, undefined, {
    channelHosts: new ChannelHosts({
      threads: 2,
      logger,
      onThreadDied: (thread, reason) => died.push({ thread, reason }),
    }),
  });
  const c = await hostedNode(1);
  await openLine(
    [
      [a, b],
      [b, c],
    ],
    [a, b, c],
  );
  // B–C was placed second: in host 1, the one that had none.
  const amount = 4_000_000n;
  const { paymentHash, recipient } = await invoiceOf(c, amount);
  let killed = false;
  c.link.onSend = (to, type) => {
    if (to === b.nodeId && type === 130 && !killed) {
      killed = true;
      void b.hosts?.killThread(1);
    }
  };
  let settledOutcome: Awaited<ReturnType<typeof a.manager.forwards.sendToRoute>> | undefined;
  void a.manager.forwards.sendToRoute(route(a, b, c, amount), paymentHash, recipient).then((o) => {
    settledOutcome = o;
  });
  await waitFor(() => died.length === 1 || undefined, { what: 'the host’s death said' });
  assert.equal(died[0]?.thread, 1);
  c.link.onSend = undefined;
  assert.equal(local(c, b), 0n, 'C’s fulfil not taken by B yet');
  await stopLineNode(b);

  const b2 = await hostedNode(2, { seed: b.seed, dir: b.dir });
  assert.deepEqual(
    (b2.hosts?.threads() ?? []).map((t) => t.channels),
    [1, 1],
  );
  connectLinks(b2.link, a.link);
  connectLinks(b2.link, c.link);
  const outcome = await waitFor(() => settledOutcome, { what: 'A’s payment to end' });
  assert.equal(outcome.status, 'succeeded', inspect(outcome.failure));
  assert.equal(hex(sha256(outcome.preimage as Uint8Array)), hex(paymentHash));
  await waitFor(
    () =>
      local(a, b2) === CAPACITY_MSAT - amount - FEE_MSAT &&
      local(b2, a) === amount + FEE_MSAT &&
      local(b2, c) === CAPACITY_MSAT - amount &&
      local(c, b2) === amount,
    { what: 'both channels settled exactly after the restart' },
  );
});

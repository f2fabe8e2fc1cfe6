/**
 * End to end, multi-path payments (BOLT 4 basic_mpp): five lnkitd on one bcoin regtest chain,
 * A, three middle nodes M1, M2, M3, and C, with public channels A→M1, A→M2, A→M3 and M1→C,
 * M2→C, M3→C (the arrow from the node that opened it). No one path can carry the payment, the
 * three together can: A's router splits it over all three, and C claims the parts together.
 *
 *   - gossip brings all six channels, both directions of each, to A's graph;
 *   - a payment whose total never arrives is failed back whole: M3 (its daemon runs with
 *     --intercept-forwards) fails its part while C holds the other two; C fails them back when
 *     its MPP timeout runs out (30 s here, --mpp-timeout-ms), A's payment fails,
 *     C's invoice stays unpaid and not one msat moved on any of the twelve channel ends;
 *   - then A pays a second invoice of the same amount (M3's interceptor now resumes its part):
 *     the payment succeeds with the fees it paid, C's invoice is paid with exactly the amount,
 *     received in three parts (C's events: one PaymentClaimable for the whole, one
 *     PaymentClaimed per part), each middle node's forwardinghistory has a settled forward and
 *     its fee, and every channel end moved by exactly its forward's amounts (each middle node
 *     gained exactly its fee).
 *
 * The failure comes first: the payment that succeeds empties two of A's three channels (the
 * router fills each part to what its first channel can send), so nothing needing all three
 * paths could be sent after it.
 *
 * Run alone: nice node scripts/test.mjs test/e2e/mpp.test.ts (about four minutes on two busy
 * cores, one of them waiting out C's MPP timeout).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '@lnkit/test-support';
import { CLI_POLL_MS, type Daemon, eventStream } from './daemon.ts';
import {
  api,
  asBcoinAddress,
  channelsOf,
  type GraphChannelJson as GraphChannel,
  type NodeInfo,
  type PaymentJson as Payment,
  SEGWIT_HEIGHT,
  startTwoNodes,
  type TwoNodes,
  waitForChannel,
} from './two-nodes.ts';

/**
 * The amounts. A funds each A–Mi with 400,000 sat and pushes nothing. Of that it cannot send it
 * all: the reserve M_i asks of it (1 % of the channel, 4,000 sat), and, as the funder, the
 * commitment fee with one more HTLC and its spike buffer stay behind, about a thousand sat
 * more: what one A–Mi can send is about 395,000 sat (394,969 sat in a run: a part of 394,968 sat
 * and its middle node's 1 sat fee). 900,000 sat is more than any one path carries and less than
 * the three together carry (about 1,185,000 sat), with room for the fees: the router's split is
 * two full parts of about 395,000 sat and the rest, about 110,000 sat, over the third path.
 *
 * The router knows what A's own channels can send, but of the channels beyond only their
 * capacity (BOLT 7 gives no balances); it fills each part to what its first channel can send.
 * So the middle nodes open their channels to C a bit larger, 500,000 sat: what a middle node
 * can send to C (about 495,000 sat) is then well above any part, whatever the feerate of either
 * channel, and the capacity of M_i–C does not let one path carry the payment either. (With
 * 400,000 sat there too the test passed once, but only by the middle node's 1 sat fee: a full
 * part then needs all but that of what the middle node can send to C, and a feerate a little
 * higher on M_i–C than on A–M_i would fail the part at M_i, with no path left to send it again.)
 */
const A_SIDE_SAT = 400_000n;
const C_SIDE_SAT = 500_000n;
const AMOUNT_MSAT = 900_000_000n;
/** lnkit's default relay fee: 1000 msat base, 0 ppm (per part: each middle node forwards one). */
const FEE_MSAT = 1000n;
/** bcoin regtest halves the subsidy every 150 blocks: 12.5 BTC from 300 to 449. */
const COINBASE_SAT = 1_250_000_000n;
/**
 * C holds the parts it has this long before failing them back (--mpp-timeout-ms; lnkit's default
 * is 60 s): long enough for every part to arrive on a busy machine, short enough to wait out.
 */
const MPP_TIMEOUT_MS = 30_000;

interface Forward {
  inChannel: string;
  outChannel: string;
  paymentHash: string;
  amountInMsat: string;
  amountOutMsat: string;
  feeMsat: string;
  status: string;
  failure?: string;
}
interface Held {
  id: string;
  paymentHash: string;
  amountInMsat: string;
  amountOutMsat: string;
}
type Stream = Awaited<ReturnType<typeof eventStream>>;

let root: string;
let n: TwoNodes;
let a: Daemon;
/** M1 (two-nodes.ts's B), M2, M3. */
let m: Daemon[] = [];
let c: Daemon;
/** Channel ids: A–Mi, and Mi–C, by i. */
const am: string[] = [];
const mc: string[] = [];
let cEvents: Stream | undefined;

const infoOf = (d: Daemon) => d.json<NodeInfo>('getinfo');

/** `peer` connects to `opener`, which opens a public channel of `sat` to it; resolves once broadcast. */
async function openPublic(opener: Daemon, peer: Daemon, sat: bigint): Promise<string> {
  const o = infoOf(opener);
  const p = infoOf(peer);
  peer.json('connect', `${o.nodeId}@127.0.0.1:${o.listening.port}`);
  await waitFor(
    () =>
      opener.json<{ peers: { nodeId: string }[] }>('listpeers').peers.some((x) => x.nodeId === p.nodeId) ||
      undefined,
    { what: 'the peers connected', intervalMs: CLI_POLL_MS, timeoutMs: 60_000 },
  );
  const opened = opener.json<{ channelId: string; fundingTxid: string }>(
    'openchannel',
    p.nodeId,
    String(sat),
    '--public',
  );
  await waitFor(
    async () => (await n.chainRpc<string[]>('getrawmempool')).includes(opened.fundingTxid) || undefined,
    { what: 'the funding broadcast', intervalMs: CLI_POLL_MS, timeoutMs: 120_000 },
  );
  return opened.channelId;
}

const names = ['M1', 'M2', 'M3'];

/** Every channel end's local balance, msat: "A:A–M1", "M1:A–M1", "M1:M1–C", "C:M1–C", ... */
function ends(): Record<string, bigint> {
  const of = (d: Daemon) => new Map(channelsOf(d).map((x) => [x.channelId, BigInt(x.localBalanceMsat)]));
  const aChannels = of(a);
  const cChannels = of(c);
  const out: Record<string, bigint> = {};
  m.forEach((d, i) => {
    const mine = of(d);
    const name = names[i]!;
    out[`A:A–${name}`] = aChannels.get(am[i]!) ?? -1n;
    out[`${name}:A–${name}`] = mine.get(am[i]!) ?? -1n;
    out[`${name}:${name}–C`] = mine.get(mc[i]!) ?? -1n;
    out[`C:${name}–C`] = cChannels.get(mc[i]!) ?? -1n;
  });
  return out;
}

/** Waits until every channel end holds what `expected` says (the last commitments signed), then checks. */
async function endsBecome(expected: Record<string, bigint>, what: string): Promise<void> {
  let last: Record<string, bigint> = {};
  await waitFor(
    () => {
      last = ends();
      return Object.entries(expected).every(([k, v]) => last[k] === v) || undefined;
    },
    { what, intervalMs: CLI_POLL_MS, timeoutMs: 120_000 },
  ).catch(() => {});
  assert.deepEqual(last, expected, what);
}

/** Forwards of one payment hash a middle node knows of. */
async function forwardsOf(d: Daemon, paymentHash: string): Promise<Forward[]> {
  return (await api<{ forwards: Forward[] }>(d, 'GET', '/v1/forwardinghistory')).json.forwards.filter(
    (f) => f.paymentHash === paymentHash,
  );
}

/**
 * Answers every HTLC of `paymentHash` M3's interceptor holds with `answer`, until `done`
 * settles (a part sent again over another route would come here too). The ids answered.
 */
function answerHeld(
  paymentHash: string,
  answer: { action: 'resume' } | { action: 'fail'; failure: string },
  done: Promise<unknown>,
): Promise<Held[]> {
  const m3 = m[2]!;
  let over = false;
  done.then(
    () => {
      over = true;
    },
    () => {
      over = true;
    },
  );
  return (async () => {
    const answered: Held[] = [];
    const seen = new Set<string>();
    while (!over) {
      const held = await api<{ htlcs: Held[] }>(m3, 'GET', '/v1/intercepted').catch(() => undefined);
      for (const h of held?.json.htlcs ?? []) {
        if (h.paymentHash !== paymentHash || seen.has(h.id)) continue;
        seen.add(h.id);
        const r = await api(m3, 'POST', '/v1/resolvehtlc', { id: h.id, ...answer });
        assert.equal(r.status, 200, `M3 resolvehtlc ${answer.action}: ${JSON.stringify(r.json)}`);
        answered.push(h);
      }
      await new Promise((r) => setTimeout(r, CLI_POLL_MS));
    }
    return answered;
  })();
}

const eventsOf = (paymentHash: string, kind: string) =>
  (cEvents?.events ?? []).filter((e) => e.record.kind === kind && e.record.data.paymentHash === paymentHash);

describe('A pays C in three parts over M1, M2 and M3: five lnkitd, public channels, basic_mpp', {
  timeout: 1_800_000,
}, () => {
  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'lnkit-e2e-mpp-'));
    n = await startTwoNodes(root, { aArgs: ['--alias', 'A'], bArgs: ['--alias', 'M1'] });
    a = n.a;
    m = [n.b];
    // M3 holds every forward for its interceptor, answered by the tests (never timed out here).
    const [m2, m3, cc] = await Promise.all([
      n.another('m2', ['--alias', 'M2']),
      n.another('m3', ['--alias', 'M3', '--intercept-forwards', '--intercept-timeout-ms', '600000']),
      n.another('c', ['--alias', 'C', '--mpp-timeout-ms', String(MPP_TIMEOUT_MS)]),
    ]);
    m.push(m2, m3);
    c = cc;
    // One coinbase to each middle node, 102 to A (three of them mature at 432, one per channel:
    // the wallet spends confirmed coins only); segwit active at 432.
    const start = await n.chainRpc<number>('getblockcount');
    await n.burn(SEGWIT_HEIGHT - 3 - 102 - start);
    for (const d of m) {
      const addr = d.json<{ address: string }>('newaddress').address;
      await n.chainRpc('generatetoaddress', [1, asBcoinAddress(addr)]);
    }
    a.json('mine', '102');
    for (const [d, coins] of [...m.map((d) => [d, 1n] as const), [a, 3n] as const])
      await waitFor(
        () =>
          BigInt(d.json<{ onchain: { confirmedSat: string } }>('balance').onchain.confirmedSat) >=
            coins * COINBASE_SAT || undefined,
        { what: `${coins} coinbase(s) to spend`, intervalMs: CLI_POLL_MS, timeoutMs: 120_000 },
      );
    for (const d of m) am.push(await openPublic(a, d, A_SIDE_SAT));
    for (const d of m) mc.push(await openPublic(d, c, C_SIDE_SAT));
    await n.burn(6);
    for (const [i, d] of m.entries()) {
      await waitForChannel(a, am[i]!, (x) => x.state === 'ready', `A: A–${names[i]} ready`);
      await waitForChannel(d, am[i]!, (x) => x.state === 'ready', `${names[i]}: A–${names[i]} ready`);
      await waitForChannel(d, mc[i]!, (x) => x.state === 'ready', `${names[i]}: ${names[i]}–C ready`);
      await waitForChannel(c, mc[i]!, (x) => x.state === 'ready', `C: ${names[i]}–C ready`);
    }
    cEvents = await eventStream(c.api().url, c.api().token);
  });

  after(async () => {
    cEvents?.close();
    await Promise.all([c, ...m, a].map((d) => d?.kill('SIGTERM')));
    if (root) rmSync(root, { recursive: true, force: true });
  });

  test("gossip brings all six channels, both directions of each, to A's graph", async () => {
    await waitFor(
      () => {
        const channels = a.json<{ channels: GraphChannel[] }>('listgraphchannels').channels;
        return channels.length === 6 && channels.every((x) => x.directions[0] && x.directions[1])
          ? true
          : undefined;
      },
      {
        what: 'A: six channels with both directions in its graph',
        intervalMs: CLI_POLL_MS,
        timeoutMs: 300_000,
      },
    );
    const scids = [...channelsOf(a), ...channelsOf(c)]
      .map((x) => (x as unknown as { shortChannelId: string }).shortChannelId)
      .sort();
    assert.deepEqual(
      a
        .json<{ channels: GraphChannel[] }>('listgraphchannels')
        .channels.map((x) => x.shortChannelId)
        .sort(),
      scids,
    );
  });

  test('a payment whose total never arrives is failed back whole: M3 fails its part, C fails the others back at its MPP timeout, nothing moves', {
    timeout: 600_000,
  }, async () => {
    const before = ends();
    const inv = c.json<{ bolt11: string; paymentHash: string }>(
      'invoice',
      String(AMOUNT_MSAT),
      '--description',
      'never whole',
    );
    const started = Date.now();
    const paying = api<Payment>(a, 'POST', '/v1/pay', { bolt11: inv.bolt11 });
    // M1's and M2's parts go on to C (their forwards in flight), which holds them: short of the total.
    await waitFor(
      async () => {
        for (const d of [m[0]!, m[1]!])
          if (!(await forwardsOf(d, inv.paymentHash)).some((f) => f.status === 'in-flight')) return undefined;
        return true;
      },
      { what: "M1's and M2's parts forwarded to C", intervalMs: CLI_POLL_MS, timeoutMs: 120_000 },
    );
    const failed = answerHeld(
      inv.paymentHash,
      { action: 'fail', failure: 'temporary_channel_failure' },
      paying,
    );
    const out = await paying;
    const elapsedMs = Date.now() - started;
    const held = await failed;
    assert.equal(out.status, 200, JSON.stringify(out.json));
    assert.equal(out.json.status, 'failed', JSON.stringify(out.json));
    assert.equal(out.json.preimage, null);
    assert.ok(held.length >= 1, 'M3 held (and failed) a part');
    // The payment ends with its first part's failure: M3's, or C's mpp_timeout for one of the others.
    assert.match(out.json.reason ?? '', /temporary_channel_failure|mpp_timeout/, out.json.reason);
    // C held the two parts until its timeout ran out: not before (the payment waited for it).
    assert.ok(elapsedMs >= MPP_TIMEOUT_MS - 5_000, `the payment ended after ${elapsedMs} ms`);
    console.log(
      `# the failed payment took ${elapsedMs} ms (${held.length} part(s) failed by M3): ${out.json.reason}`,
    );

    const payments = (await api<{ payments: Payment[] }>(a, 'GET', '/v1/listpayments')).json.payments;
    const mine = payments.filter((p) => p.paymentHash === inv.paymentHash);
    assert.deepEqual(
      mine.map((p) => p.status),
      ['failed'],
    );
    const invoices = (
      await api<{ invoices: { paymentHash: string; status: string; paidAt: number | null }[] }>(
        c,
        'GET',
        '/v1/listinvoices',
      )
    ).json.invoices;
    const invoice = invoices.find((x) => x.paymentHash === inv.paymentHash);
    assert.equal(invoice?.status, 'unpaid', JSON.stringify(invoice));
    assert.equal(invoice?.paidAt, null);
    // M1 and M2 forwarded their parts and had them failed back from C.
    for (const [i, d] of [m[0]!, m[1]!].entries()) {
      const f = await waitFor(
        async () => {
          const fs = await forwardsOf(d, inv.paymentHash);
          return fs.length > 0 && fs.every((x) => x.status === 'failed') ? fs : undefined;
        },
        { what: `${names[i]}: its forward failed back`, intervalMs: CLI_POLL_MS, timeoutMs: 60_000 },
      );
      assert.equal(f.length, 1, `${names[i]}: ${JSON.stringify(f)}`);
      assert.deepEqual([f[0]!.inChannel, f[0]!.outChannel], [am[i], mc[i]]);
    }
    // C failed the set back when its timeout ran out (its log says so), and claimed nothing.
    assert.match(
      readFileSync(join(c.dataDir, 'lnkitd.log'), 'utf8'),
      /a multi-part payment to us failed back/,
    );
    assert.deepEqual(eventsOf(inv.paymentHash, 'PaymentClaimable'), []);
    assert.deepEqual(eventsOf(inv.paymentHash, 'PaymentClaimed'), []);
    await endsBecome(before, 'not one msat moved on any channel end');
  });

  test("A pays C's invoice in three parts: paid exactly, each middle node's forward settled for its fee, every channel end exact to the msat", {
    timeout: 600_000,
  }, async () => {
    const before = ends();
    const inv = c.json<{ bolt11: string; paymentHash: string }>(
      'invoice',
      String(AMOUNT_MSAT),
      '--description',
      'in three parts',
    );
    const started = Date.now();
    const paying = api<Payment>(a, 'POST', '/v1/pay', { bolt11: inv.bolt11 });
    const resumed = answerHeld(inv.paymentHash, { action: 'resume' }, paying);
    const out = await paying;
    const elapsedMs = Date.now() - started;
    await resumed;
    assert.equal(out.status, 200, JSON.stringify(out.json));
    assert.equal(out.json.status, 'succeeded', out.json.reason);
    assert.equal(out.json.amountMsat, String(AMOUNT_MSAT));
    assert.equal(out.json.feeMsat, String(3n * FEE_MSAT));
    assert.match(out.json.preimage ?? '', /^[0-9a-f]{64}$/);
    console.log(`# the payment in parts took ${elapsedMs} ms`);

    const listed = (await api<{ payments: Payment[] }>(a, 'GET', '/v1/listpayments')).json.payments.filter(
      (p) => p.paymentHash === inv.paymentHash,
    );
    assert.deepEqual(
      listed.map((p) => [p.status, p.amountMsat, p.feeMsat, p.preimage]),
      [['succeeded', String(AMOUNT_MSAT), String(3n * FEE_MSAT), out.json.preimage]],
    );

    // Each middle node forwarded one part, for its fee.
    const forwards: Forward[] = [];
    for (const [i, d] of m.entries()) {
      const f = await waitFor(
        async () => {
          const fs = await forwardsOf(d, inv.paymentHash);
          return fs.length > 0 && fs.every((x) => x.status === 'settled') ? fs : undefined;
        },
        { what: `${names[i]}: its forward settled`, intervalMs: CLI_POLL_MS, timeoutMs: 60_000 },
      );
      assert.equal(f.length, 1, `${names[i]} forwarded one part: ${JSON.stringify(f)}`);
      const x = f[0]!;
      assert.deepEqual([x.inChannel, x.outChannel], [am[i], mc[i]], `${names[i]}'s channels`);
      assert.equal(BigInt(x.amountInMsat) - BigInt(x.amountOutMsat), FEE_MSAT, `${names[i]}'s fee`);
      assert.equal(x.feeMsat, String(FEE_MSAT));
      // A part, not the whole: no one path carries it.
      assert.ok(BigInt(x.amountOutMsat) < AMOUNT_MSAT / 2n, `${names[i]}'s part ${x.amountOutMsat}`);
      forwards.push(x);
    }
    const parts = forwards.map((f) => BigInt(f.amountOutMsat));
    assert.equal(
      parts.reduce((s, x) => s + x, 0n),
      AMOUNT_MSAT,
      'the parts add up to the amount',
    );
    console.log(`# the parts: ${forwards.map((f, i) => `${names[i]} ${f.amountOutMsat}`).join(', ')} msat`);

    // C: the invoice paid; one PaymentClaimable for the whole, one PaymentClaimed per part.
    const invoice = (
      await api<{
        invoices: { paymentHash: string; amountMsat: string; status: string; paidAt: number | null }[];
      }>(c, 'GET', '/v1/listinvoices')
    ).json.invoices.find((x) => x.paymentHash === inv.paymentHash);
    assert.equal(invoice?.status, 'paid', JSON.stringify(invoice));
    assert.equal(invoice?.amountMsat, String(AMOUNT_MSAT));
    assert.ok(invoice?.paidAt, 'paidAt set');
    const claimed = await waitFor(
      () => {
        const e = eventsOf(inv.paymentHash, 'PaymentClaimed');
        return e.length >= 3 ? e : undefined;
      },
      { what: "C's three PaymentClaimed", intervalMs: CLI_POLL_MS, timeoutMs: 60_000 },
    );
    assert.deepEqual(
      eventsOf(inv.paymentHash, 'PaymentClaimable').map((e) => e.record.data.amountMsat),
      [String(AMOUNT_MSAT)],
    );
    const sorted = (xs: bigint[]) => [...xs].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
    assert.deepEqual(
      sorted(claimed.map((e) => BigInt(e.record.data.amountMsat as string))),
      sorted(parts),
      'a PaymentClaimed per part, for what its middle node forwarded',
    );

    // Every channel end moved by its forward's amounts, exactly; each middle node gained its fee.
    const expected = { ...before };
    forwards.forEach((f, i) => {
      const name = names[i]!;
      expected[`A:A–${name}`] = before[`A:A–${name}`]! - BigInt(f.amountInMsat);
      expected[`${name}:A–${name}`] = before[`${name}:A–${name}`]! + BigInt(f.amountInMsat);
      expected[`${name}:${name}–C`] = before[`${name}:${name}–C`]! - BigInt(f.amountOutMsat);
      expected[`C:${name}–C`] = before[`C:${name}–C`]! + BigInt(f.amountOutMsat);
    });
    await endsBecome(expected, 'every channel end moved by exactly its part');
    const after = ends();
    const sum = (side: (k: string) => boolean, e: Record<string, bigint>) =>
      Object.entries(e)
        .filter(([k]) => side(k))
        .reduce((s, [, v]) => s + v, 0n);
    for (const name of names)
      assert.equal(
        sum((k) => k.startsWith(`${name}:`), after) - sum((k) => k.startsWith(`${name}:`), before),
        FEE_MSAT,
        `${name} gained exactly its fee`,
      );
    assert.equal(
      sum((k) => k.startsWith('A:'), before) - sum((k) => k.startsWith('A:'), after),
      AMOUNT_MSAT + 3n * FEE_MSAT,
      'A paid the amount and the fees',
    );
    assert.equal(
      sum((k) => k.startsWith('C:'), after) - sum((k) => k.startsWith('C:'), before),
      AMOUNT_MSAT,
      'C received the amount',
    );
  });
});

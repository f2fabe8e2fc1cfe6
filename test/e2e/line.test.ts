/**
 * End to end, a line of three lnkitd on one bcoin regtest chain, A–B–C, with public channels
 * A→B and B→C: once they are six blocks deep, gossip brings both channels (and all three
 * nodes) to every graph; A pays C's invoice, which A has no channel with, over a route its
 * router finds through B; B forwards it for its fee, and its forwardinghistory shows the
 * forward; the balances on all four channel ends are exact to the msat. B runs with
 * `--channel-threads 2`: its two channels step on two threads of their own, one each.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '@lnkit/test-support';
import { CLI_POLL_MS, type Daemon } from './daemon.ts';
import {
  asBcoinAddress,
  channelsOf,
  type GraphChannelJson as GraphChannel,
  type NodeInfo,
  SEGWIT_HEIGHT,
  startTwoNodes,
  type TwoNodes,
  waitForChannel,
} from './two-nodes.ts';

const CHANNEL_SAT = 500_000n;
const AMOUNT_MSAT = 25_000_000n;
/** lnkit's default relay fee: 1000 msat base, 0 ppm. */
const FEE_MSAT = 1000n;

let root: string;
let n: TwoNodes;
let c: Daemon;
let ic: NodeInfo;
let ab: string;
let bc: string;

/** The peer connects to `opener`, which opens a public channel to it; resolves once broadcast. */
async function openPublic(opener: Daemon, openerInfo: NodeInfo, peer: Daemon, peerInfo: NodeInfo) {
  const connectFrom = peer;
  const connectTo = openerInfo;
  connectFrom.json('connect', `${connectTo.nodeId}@127.0.0.1:${connectTo.listening.port}`);
  await waitFor(
    () =>
      opener
        .json<{ peers: { nodeId: string }[] }>('listpeers')
        .peers.some((p) => p.nodeId === peerInfo.nodeId) || undefined,
    { what: 'the peers connected', intervalMs: CLI_POLL_MS },
  );
  const opened = opener.json<{ channelId: string; fundingTxid: string }>(
    'openchannel',
    peerInfo.nodeId,
    String(CHANNEL_SAT),
    '--public',
  );
  await waitFor(
    async () => (await n.chainRpc<string[]>('getrawmempool')).includes(opened.fundingTxid) || undefined,
    { what: 'the funding broadcast', intervalMs: CLI_POLL_MS, timeoutMs: 120_000 },
  );
  return opened.channelId;
}

const graphOf = (d: Daemon) => d.json<{ channels: GraphChannel[] }>('listgraphchannels').channels;
const local = (d: Daemon, channelId: string) =>
  BigInt(channelsOf(d).find((x) => x.channelId === channelId)?.localBalanceMsat ?? '-1');

describe('A pays C through B: three lnkitd, public channels, gossip and a routed payment', {
  timeout: 1_200_000,
}, () => {
  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'lnkit-e2e-line-'));
    n = await startTwoNodes(root, {
      aArgs: ['--alias', 'A'],
      bArgs: ['--alias', 'B', '--channel-threads', '2'],
    });
    c = await n.another('c', ['--alias', 'C']);
    ic = c.json<NodeInfo>('getinfo');
    // A's and B's wallets funded: one coinbase to B, 101 to A; all spendable once segwit is active.
    const start = await n.chainRpc<number>('getblockcount');
    await n.burn(SEGWIT_HEIGHT - 102 - start);
    const bAddress = n.b.json<{ address: string }>('newaddress').address;
    await n.chainRpc('generatetoaddress', [1, asBcoinAddress(bAddress)]);
    n.a.json('mine', '101');
    for (const d of [n.a, n.b])
      await waitFor(
        () =>
          d.json<{ onchain: { confirmedSat: string } }>('balance').onchain.confirmedSat !== '0' || undefined,
        { what: 'coins to spend', intervalMs: CLI_POLL_MS, timeoutMs: 120_000 },
      );
    ab = await openPublic(n.a, n.ia, n.b, n.ib);
    bc = await openPublic(n.b, n.ib, c, ic);
    await n.burn(6);
    for (const [d, id] of [
      [n.a, ab],
      [n.b, ab],
      [n.b, bc],
      [c, bc],
    ] as const)
      await waitForChannel(d, id, (x) => x.state === 'ready', 'the channel ready');
  });

  after(async () => {
    await c?.kill('SIGTERM');
    await n?.b.kill('SIGTERM');
    await n?.a.kill('SIGTERM');
    rmSync(root, { recursive: true, force: true });
  });

  test('gossip brings both channels, with both directions, and all three nodes to every graph', async () => {
    for (const [name, d] of [
      ['A', n.a],
      ['B', n.b],
      ['C', c],
    ] as const)
      await waitFor(
        () => {
          const channels = graphOf(d);
          const nodes = d.json<{ nodes: { alias?: string }[] }>('listnodes').nodes;
          return channels.length === 2 &&
            channels.every((x) => x.directions[0] && x.directions[1]) &&
            nodes.filter((x) => x.alias).length === 3
            ? true
            : undefined;
        },
        {
          what: `${name}: both channels and three nodes in its graph`,
          intervalMs: CLI_POLL_MS,
          timeoutMs: 180_000,
        },
      );
    const scids = channelsOf(n.b)
      .map((x) => (x as unknown as { shortChannelId: string }).shortChannelId)
      .sort();
    assert.deepEqual(
      graphOf(n.a)
        .map((x) => x.shortChannelId)
        .sort(),
      scids,
    );
  });

  test("A pays C's invoice through B: B forwards for its fee; forwardinghistory and the balances are exact", async () => {
    const before = { a: local(n.a, ab), bFromA: local(n.b, ab), bToC: local(n.b, bc), c: local(c, bc) };
    const inv = c.json<{ bolt11: string; paymentHash: string }>(
      'invoice',
      String(AMOUNT_MSAT),
      '--description',
      'via B',
    );
    const out = n.a.json<{ status: string; feeMsat: string; amountMsat: string; reason?: string }>(
      'pay',
      inv.bolt11,
    );
    assert.equal(out.status, 'succeeded', out.reason);
    assert.equal(out.feeMsat, String(FEE_MSAT));
    assert.equal(out.amountMsat, String(AMOUNT_MSAT));

    const history = await waitFor(
      () => {
        const f = n.b.json<{ forwards: { status: string }[] }>('forwardinghistory').forwards;
        return f.length === 1 && f[0]?.status === 'settled' ? f : undefined;
      },
      { what: "B's settled forward", intervalMs: CLI_POLL_MS, timeoutMs: 60_000 },
    );
    const f = history[0] as unknown as Record<string, string>;
    assert.deepEqual(
      [f.inChannel, f.outChannel, f.amountInMsat, f.amountOutMsat, f.feeMsat, f.paymentHash],
      [ab, bc, String(AMOUNT_MSAT + FEE_MSAT), String(AMOUNT_MSAT), String(FEE_MSAT), inv.paymentHash],
    );

    // The fundees had nothing before: what they hold now is what moved.
    assert.deepEqual([before.bFromA, before.c], [0n, 0n]);
    await waitFor(
      () => (local(c, bc) === AMOUNT_MSAT && local(n.b, ab) === AMOUNT_MSAT + FEE_MSAT ? true : undefined),
      { what: 'every channel settled', intervalMs: CLI_POLL_MS, timeoutMs: 60_000 },
    );
    assert.equal(local(n.a, ab), before.a - AMOUNT_MSAT - FEE_MSAT, "A's side of A–B");
    assert.equal(local(n.b, ab), AMOUNT_MSAT + FEE_MSAT, "B's side of A–B");
    assert.equal(local(n.b, bc), before.bToC - AMOUNT_MSAT, "B's side of B–C");
    assert.equal(local(c, bc), AMOUNT_MSAT, "C's side of B–C");

    // B's two channels stepped on two threads, one each; A's (default) in its manager's thread.
    const threads = (d: Daemon) =>
      d.json<{ channelThreads: { threadId: number; channels: number }[] }>('metrics').channelThreads;
    const bThreads = threads(n.b);
    assert.deepEqual(
      bThreads.map((t) => t.channels),
      [1, 1],
    );
    assert.notEqual(bThreads[0]?.threadId, bThreads[1]?.threadId);
    assert.deepEqual(threads(n.a), []);
    // Each is an actor of B's of its own: profiled alone.
    const p = n.b.json<{ path: string; samples: number }>('profile', 'channel-host-1', '--seconds', '1');
    assert.ok(p.samples > 0 && p.path.endsWith('.cpuprofile'), JSON.stringify(p));
  });
});

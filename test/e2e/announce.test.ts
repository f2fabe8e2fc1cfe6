/**
 * End to end, a public channel announced (BOLT 7, guide step 19): two lnkitd on one bcoin
 * regtest chain, A opening a public channel to B. Nothing is announced before six
 * confirmations; at six, announcement_signatures go both ways, and each node's own graph then
 * has the channel — with the short_channel_id listchannels gives, its capacity from the chain,
 * both directions' channel_updates — and both nodes' node_announcements as configured (alias,
 * color, address). A's setfees reaches B's graph as a new channel_update. A killed with
 * SIGKILL and started again still has it all, and announces again to B.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '@lnkit/test-support';
import { CLI_POLL_MS, type Daemon } from './daemon.ts';
import { channelsOf, fundA, openReadyChannel, startTwoNodes, type TwoNodes } from './two-nodes.ts';

interface Direction {
  feeBaseMsat: number;
  feeProportionalMillionths: number;
  cltvExpiryDelta: number;
  disabled: boolean;
}
interface GraphChannel {
  shortChannelId: string;
  nodeId1: string;
  nodeId2: string;
  capacitySat: string | null;
  directions: [Direction | null, Direction | null];
}
interface GraphNodeJson {
  node: { nodeId: string; alias?: string; color?: string; addresses?: string[] };
  channels: GraphChannel[];
}

const ANNOUNCED_ADDRESS = '203.0.113.7:9735';
const CHANNEL_SAT = 400_000n;

let root: string;
let n: TwoNodes;
let channelId: string;
let scid: string;

function graphChannels(d: Daemon): GraphChannel[] {
  return d.json<{ channels: GraphChannel[] }>('listgraphchannels').channels;
}

function nodeOf(d: Daemon, nodeId: string): GraphNodeJson | undefined {
  const r = d.cli('--json', 'getnode', nodeId);
  return r.status === 0 ? (JSON.parse(r.stdout) as GraphNodeJson) : undefined;
}

/** The direction set by `nodeId` of the channel, as `d`'s graph has it. */
function directionOf(d: Daemon, nodeId: string): Direction | null | undefined {
  const c = graphChannels(d).find((x) => x.shortChannelId === scid);
  if (!c) return undefined;
  return c.nodeId1 === nodeId ? c.directions[0] : c.directions[1];
}

/** Both graphs have the channel with both directions, and both nodes announced. */
function announcedEverywhere(d: Daemon): boolean {
  const c = graphChannels(d).find((x) => x.shortChannelId === scid);
  if (!c?.directions[0] || !c.directions[1]) return false;
  return [n.ia.nodeId, n.ib.nodeId].every((id) => nodeOf(d, id)?.node.alias !== undefined);
}

describe('a public channel between two lnkitd, announced', { timeout: 900_000 }, () => {
  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'lnkit-e2e-announce-'));
    n = await startTwoNodes(root, {
      aArgs: ['--alias', 'alice', '--color', 'ff8800', '--announce-addr', ANNOUNCED_ADDRESS],
      bArgs: ['--alias', 'bob'],
    });
    await fundA(n);
    channelId = await openReadyChannel(n, CHANNEL_SAT, 0n, { public: true });
    scid = (channelsOf(n.a).find((c) => c.channelId === channelId) as unknown as { shortChannelId: string })
      .shortChannelId;
  });

  after(async () => {
    await n?.b.kill('SIGTERM');
    await n?.a.kill('SIGTERM');
    rmSync(root, { recursive: true, force: true });
  });

  test('not announced before six confirmations', () => {
    const c = channelsOf(n.a).find((x) => x.channelId === channelId) as unknown as {
      public: boolean;
      minimumDepth: number;
    };
    assert.equal(c.public, true);
    assert.ok(c.minimumDepth < 6, 'the channel is ready below the announcement depth');
    assert.equal(graphChannels(n.a).length, 0);
    assert.equal(graphChannels(n.b).length, 0);
  });

  test('at six confirmations both graphs have the channel, both directions and both nodes', async () => {
    const c = channelsOf(n.a).find((x) => x.channelId === channelId) as unknown as { minimumDepth: number };
    await n.burn(6 - c.minimumDepth);
    for (const d of [n.a, n.b])
      await waitFor(() => announcedEverywhere(d) || undefined, {
        what: `${d === n.a ? 'A' : 'B'}: the channel and both nodes in its graph`,
        intervalMs: CLI_POLL_MS,
        timeoutMs: 120_000,
      });
    for (const d of [n.a, n.b]) {
      const [ch] = graphChannels(d);
      assert.equal(graphChannels(d).length, 1);
      assert.equal(ch?.shortChannelId, scid);
      assert.deepEqual([ch?.nodeId1, ch?.nodeId2], [n.ia.nodeId, n.ib.nodeId].sort());
      assert.equal(ch?.capacitySat, String(CHANNEL_SAT), 'the funding output, from the chain');
      const a = nodeOf(d, n.ia.nodeId)!.node;
      assert.deepEqual([a.alias, a.color, a.addresses], ['alice', 'ff8800', [ANNOUNCED_ADDRESS]]);
      const b = nodeOf(d, n.ib.nodeId)!.node;
      assert.equal(b.alias, 'bob');
      assert.equal(b.color, n.ib.nodeId.slice(2, 8), 'by default, from the node id');
      assert.deepEqual(b.addresses, []);
      // lnkit's default policy, as both sides announced it.
      for (const id of [n.ia.nodeId, n.ib.nodeId]) {
        const dir = directionOf(d, id)!;
        assert.deepEqual(
          [dir.feeBaseMsat, dir.feeProportionalMillionths, dir.cltvExpiryDelta, dir.disabled],
          [1000, 0, 72, false],
        );
      }
    }
  });

  test("A's setfees reaches B's graph as a new channel_update", async () => {
    n.a.json('setfees', channelId, '--base-msat', '2500', '--ppm', '40', '--cltv-delta', '50');
    await waitFor(() => (directionOf(n.b, n.ia.nodeId)?.feeBaseMsat === 2500 ? true : undefined), {
      what: "B's graph to have A's new fees",
      intervalMs: CLI_POLL_MS,
      timeoutMs: 60_000,
    });
    const dir = directionOf(n.b, n.ia.nodeId)!;
    assert.deepEqual([dir.feeBaseMsat, dir.feeProportionalMillionths, dir.cltvExpiryDelta], [2500, 40, 50]);
    // B's own direction is as it was.
    assert.equal(directionOf(n.b, n.ib.nodeId)?.feeBaseMsat, 1000);
  });

  test('A killed and started again still has the channel announced, and its node too', async () => {
    await n.a.kill('SIGKILL');
    await n.a.start();
    await waitFor(() => announcedEverywhere(n.a) || undefined, {
      what: 'A after its restart: the channel and both nodes in its graph',
      intervalMs: CLI_POLL_MS,
      timeoutMs: 120_000,
    });
    assert.equal(directionOf(n.a, n.ia.nodeId)?.feeBaseMsat, 2500, 'its own update as last set');
  });
});

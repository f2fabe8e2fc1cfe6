/**
 * BOLT 2 "Risks With HTLC Timeouts" (htlc/deadlines.ts): a channel with an HTLC past its
 * deadline is failed and our commitment broadcast, with an `error` to the peer — an HTLC we
 * offered that the peer never settles, `G` (2) blocks after its cltv_expiry; an HTLC we
 * fulfilled whose removal the peer never revokes, 18 blocks before its cltv_expiry. Not a block
 * sooner. Two managers over an in-memory link whose one end goes silent.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { randomBytes } from '@lnkit/crypto';
import { KeysManager } from '@lnkit/keys';
import { createRootLogger } from '@lnkit/runtime';
import { waitFor } from '@lnkit/test-support';
import { Transaction } from '@lnkit/tx';
import { decodeMessage } from '@lnkit/wire';
import { FULFILL_DEADLINE_BLOCKS, OFFERED_HTLC_GRACE_BLOCKS } from './htlc/deadlines.ts';
import {
  connectBlocks,
  linkedPeers,
  openReadyChannel,
  startTestManager,
  type TestManager,
} from './manager-test-kit.ts';

const logger = createRootLogger({ level: 'silent' });
const ERROR = 17;
const UPDATE_FULFILL_HTLC = 130;
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

async function pair(): Promise<[TestManager, TestManager]> {
  const [pa, pb] = linkedPeers(() => new KeysManager(randomBytes(32)));
  const a = await startTestManager({ ...pa, logger });
  cleanups.push(a.close);
  const b = await startTestManager({ ...pb, logger });
  cleanups.push(b.close);
  await openReadyChannel(a, b, 250_000n, 100_000_000n);
  return [a, b];
}

/** The cltv_expiry of the next update_add_htlc `to` receives. */
function nextAddExpiry(to: TestManager): Promise<number> {
  return new Promise((resolve) => {
    const sub = to.link.messages.subscribe(({ raw }) => {
      const m = decodeMessage(raw);
      if (m.kind !== 'update_add_htlc') return;
      sub.unsubscribe();
      resolve(m.cltvExpiry);
    });
  });
}

/** Feeds blocks up to `height` (from 504); each must leave `m`'s channel ready with nothing broadcast. */
async function quietUpTo(nodes: TestManager[], m: TestManager, height: number): Promise<void> {
  const broadcasts = m.broadcasts.length;
  await connectBlocks(nodes, 504, height);
  assert.equal(m.manager.listChannels()[0]?.state, 'ready', `still ready at ${height}`);
  assert.equal(m.broadcasts.length, broadcasts, `nothing broadcast by ${height}`);
  assert.ok(!m.link.sentTypes.includes(ERROR), `no error sent by ${height}`);
}

/** `m` failed its channel at this block: its commitment (spending the funding) out, an error sent. */
async function failedAtDeadline(m: TestManager, fundingTxid: string): Promise<void> {
  await waitFor(() => m.link.sentTypes.includes(ERROR) || undefined, { what: 'an error sent to the peer' });
  const commitment = Transaction.fromBuffer(Buffer.from(m.broadcasts.at(-1) as Uint8Array));
  assert.equal(Buffer.from(commitment.ins[0]!.hash).reverse().toString('hex'), fundingTxid);
  assert.equal(m.manager.listChannels()[0]?.state, 'closing');
}

const fundingTxidOf = (m: TestManager) =>
  Transaction.fromBuffer(Buffer.from(m.broadcasts[0] as Uint8Array)).getId();

test('an HTLC we offered that the peer never settles fails the channel 2 blocks after its expiry, not sooner', async () => {
  const [a, b] = await pair();
  b.link.holding = true; // B takes A's HTLC and commitment, and answers nothing
  const expiry = nextAddExpiry(b);
  void a.manager.payments.keysend(b.nodeId, 1_000_000n).catch(() => undefined);
  const cltvExpiry = await expiry;
  await waitFor(() => a.link.sentTypes.includes(132) || undefined, { what: 'A’s commitment_signed sent' });
  const deadline = cltvExpiry + OFFERED_HTLC_GRACE_BLOCKS;
  await quietUpTo([a, b], a, deadline - 1);
  await connectBlocks([a, b], deadline, deadline);
  await failedAtDeadline(a, fundingTxidOf(a));
});

test('an HTLC we fulfilled whose removal the peer never revokes fails the channel 18 blocks before its expiry, not sooner', async () => {
  const [a, b] = await pair();
  const expiry = nextAddExpiry(b);
  // A hears B's fulfill, and from then on answers nothing.
  const sub = a.link.messages.subscribe(({ raw }) => {
    if (Buffer.from(raw).readUInt16BE(0) === UPDATE_FULFILL_HTLC) a.link.holding = true;
  });
  const paid = await a.manager.payments.keysend(b.nodeId, 1_000_000n);
  sub.unsubscribe();
  assert.equal(paid.status, 'succeeded');
  const cltvExpiry = await expiry;
  const deadline = cltvExpiry - FULFILL_DEADLINE_BLOCKS;
  await quietUpTo([a, b], b, deadline - 1);
  await connectBlocks([a, b], deadline, deadline);
  await failedAtDeadline(b, fundingTxidOf(a));
});

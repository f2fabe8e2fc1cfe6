/**
 * The forwarding shell over made-up channels (no channel cores): what it asks the channels, in
 * what order, and what it keeps in its books — a restart's reconciliation of forwards paired
 * but never offered, and a downstream failure failed upstream only on the downstream's
 * resolution (never on the fail message alone), wrapped for the payer.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { randomBytes, sha256 } from '@lnkit/crypto';
import { createFailurePacket, decryptFailurePacket, failureName } from '@lnkit/onion';
import { createRootLogger } from '@lnkit/runtime';
import { Store } from '@lnkit/store';
import type { ChannelInput, ChannelState } from '../channel-state.ts';
import { type ForwardChannels, Forwarder } from './forwarder.ts';
import { DEFAULT_FORWARD_POLICY } from './policy.ts';
import { type ForwardRecord, LmdbForwardsStore, MemoryForwardsStore } from './store.ts';

const logger = createRootLogger({ level: 'silent' });
const IN = new Uint8Array(32).fill(1);
const OUT = new Uint8Array(32).fill(2);

/** A channel as the shell reads it: its id, peer, and the offered HTLC ids in its ledger. */
function state(channelId: Uint8Array, offered: bigint[], nextOfferedId: bigint): ChannelState {
  return {
    channelId,
    counterpartyNodeId: `02${'ab'.repeat(32)}`,
    phase: 'ready',
    link: 'connected',
    normal: {
      link: 'connected',
      ledger: { htlcs: offered.map((id) => ({ id, direction: 'offered' })), nextOfferedId },
    },
  } as unknown as ChannelState;
}

function channels(out: ChannelState): { api: ForwardChannels; sent: [number, ChannelInput][] } {
  const sent: [number, ChannelInput][] = [];
  const byId = new Map([
    [1, state(IN, [], 0n)],
    [2, out],
  ]);
  const find = (channelId: Uint8Array) => {
    for (const [id, s] of byId)
      if (Buffer.from(s.channelId ?? []).equals(Buffer.from(channelId))) return { id, state: s };
    return undefined;
  };
  return {
    sent,
    api: {
      byShortChannelId: () => undefined,
      byChannelId: find,
      channelsWith: () => [],
      stateOf: (id) => byId.get(id),
      command: async (id, input) => {
        sent.push([id, input]);
        return undefined;
      },
      offer: async () => undefined,
      bestHeight: () => 500,
    },
  };
}

const paired = (over: Partial<ForwardRecord> = {}): ForwardRecord => ({
  inChannelId: IN,
  inHtlcId: 3n,
  outShortChannelId: 1n << 40n,
  outChannelId: OUT,
  outHtlcId: 5n,
  paymentHash: randomBytes(32),
  amountInMsat: 2_001_000n,
  amountOutMsat: 2_000_000n,
  inCltvExpiry: 600,
  outCltvExpiry: 528,
  sharedSecret: randomBytes(32),
  status: 'offered',
  createdAt: 1_700_000_000,
  ...over,
});

/** A forwarder over the made-up channels, on `store`. */
const forwarderOver = (api: ForwardChannels, store: MemoryForwardsStore) =>
  new Forwarder({ channels: api, nodeId: new Uint8Array(33), chainHash: new Uint8Array(32), store, logger });

/** What the forwarder asked the channels, as [channel, input kind, HTLC id]. */
const asked = (sent: [number, ChannelInput][]) =>
  sent.map(([id, i]) => [id, i.kind, 'id' in i ? i.id : undefined]);

/** The downstream HTLC 5's resolution: fulfilled with `preimage`. */
const fulfilled5 = (preimage: Uint8Array) =>
  ({
    type: 'htlc-resolved',
    id: 5n,
    direction: 'offered',
    amountMsat: 2_000_000n,
    paymentHash: sha256(preimage),
    removal: { kind: 'fulfill', paymentPreimage: preimage },
  }) as const;

test('reconcile: a forward paired but never offered downstream is failed back; one offered waits', async () => {
  const store = new MemoryForwardsStore();
  const never = paired();
  const offered = paired({ inHtlcId: 4n, outHtlcId: 4n });
  await store.save(never);
  await store.save(offered);
  // The downstream channel has HTLC 4 and has never taken id 5.
  const { api, sent } = channels(state(OUT, [4n], 5n));
  const f = forwarderOver(api, store);
  f.reconcile();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(asked(sent), [
    [1, 'fail-htlc', 3n],
    [1, 'commit', undefined],
  ]);
  const fail = sent[0]?.[1];
  assert.ok(fail?.kind === 'fail-htlc');
  const d = decryptFailurePacket([never.sharedSecret as Uint8Array], fail.reason);
  assert.equal(d.hopIndex, 0);
  assert.equal(failureName(d.failureCode ?? 0), 'temporary_channel_failure');
  const [first, second] = store.load();
  assert.equal(first?.status, 'failed');
  assert.equal(first?.sharedSecret, undefined);
  assert.equal(second?.status, 'offered');
  // Heard again: nothing more to do.
  f.reconcile();
  await new Promise((r) => setImmediate(r));
  assert.equal(sent.length, 2);
});

test('reconcile: a forward whose downstream HTLC was fulfilled before a stop (its htlc-fulfilled told once, the upstream fulfil not yet made) is fulfilled upstream with that preimage', async () => {
  const store = new MemoryForwardsStore();
  const preimage = randomBytes(32);
  const r = paired({ paymentHash: sha256(preimage) });
  await store.save(r);
  // The restored downstream channel still has HTLC 5, its fulfil from the peer in the ledger.
  const out = state(OUT, [5n], 6n);
  const htlc = (out.normal as unknown as { ledger: { htlcs: Record<string, unknown>[] } }).ledger.htlcs[0];
  if (htlc) htlc.removal = { kind: 'fulfill', paymentPreimage: preimage };
  const { api, sent } = channels(out);
  const f = forwarderOver(api, store);
  f.reconcile();
  await new Promise((res) => setImmediate(res));
  assert.deepEqual(asked(sent), [
    [1, 'fulfill-htlc', 3n],
    [1, 'commit', undefined],
  ]);
  const fulfil = sent[0]?.[1];
  assert.ok(fulfil?.kind === 'fulfill-htlc');
  assert.deepEqual(fulfil.paymentPreimage, preimage);
  assert.equal(store.load()[0]?.status, 'fulfilled');
  // Its resolution later changes nothing: the upstream fulfil is made once.
  f.onHtlcEvent(2, fulfilled5(preimage));
  await new Promise((res) => setImmediate(res));
  assert.equal(sent.length, 2);
});

test('a downstream fulfil heard only as its resolution (its htlc-fulfilled missed) is fulfilled upstream then', async () => {
  const store = new MemoryForwardsStore();
  const preimage = randomBytes(32);
  await store.save(paired({ paymentHash: sha256(preimage) }));
  const { api, sent } = channels(state(OUT, [5n], 6n));
  const f = forwarderOver(api, store);
  f.reconcile();
  await new Promise((res) => setImmediate(res));
  assert.equal(sent.length, 0, 'offered and pending downstream: nothing yet');
  f.onHtlcEvent(2, fulfilled5(preimage));
  await new Promise((res) => setImmediate(res));
  assert.deepEqual(asked(sent), [
    [1, 'fulfill-htlc', 3n],
    [1, 'commit', undefined],
  ]);
});

test('a downstream failure goes upstream on the downstream’s resolution only, wrapped with our shared secret', async () => {
  const store = new MemoryForwardsStore();
  const r = paired();
  await store.save(r);
  const { api, sent } = channels(state(OUT, [5n], 6n));
  const f = forwarderOver(api, store);
  // The next hop's own failure, made with its shared secret (the payer's route: us, then it).
  const nextSecret = randomBytes(32);
  const theirs = createFailurePacket(nextSecret, {
    name: 'incorrect_or_unknown_payment_details',
    htlcMsat: 2n,
    height: 500,
  });
  // The downstream removal is irrevocable only at htlc-resolved: nothing goes upstream before.
  f.onHtlcEvent(2, {
    type: 'htlc-resolved',
    direction: 'received',
    id: 5n,
    amountMsat: 1n,
    paymentHash: r.paymentHash,
    removal: { kind: 'fail', reason: theirs },
  });
  await new Promise((res) => setImmediate(res));
  assert.equal(sent.length, 0, 'a received HTLC of the downstream channel is not our forward');
  f.onHtlcEvent(2, {
    type: 'htlc-resolved',
    direction: 'offered',
    id: 5n,
    amountMsat: 2_000_000n,
    paymentHash: r.paymentHash,
    removal: { kind: 'fail', reason: theirs },
  });
  await new Promise((res) => setImmediate(res));
  const fail = sent[0]?.[1];
  assert.ok(fail?.kind === 'fail-htlc' && fail.id === 3n);
  const d = decryptFailurePacket([r.sharedSecret as Uint8Array, nextSecret], fail.reason);
  assert.equal(d.hopIndex, 1, 'the payer attributes it to the next hop');
  assert.equal(failureName(d.failureCode ?? 0), 'incorrect_or_unknown_payment_details');
  assert.equal(store.load()[0]?.status, 'failed');
  assert.equal(store.load()[0]?.failure, 'downstream');
  // The upstream resolution ends it: resolvedAt set, no PaymentForwarded for a failure.
  const events: string[] = [];
  f.events$.subscribe((e) => events.push(e.type));
  f.onHtlcEvent(1, {
    type: 'htlc-resolved',
    direction: 'received',
    id: 3n,
    amountMsat: 2_001_000n,
    paymentHash: r.paymentHash,
    removal: { kind: 'fail', reason: fail.reason },
  });
  await new Promise((res) => setImmediate(res));
  assert.deepEqual(events, []);
  assert.equal(f.listForwards()[0]?.status, 'failed');
  assert.notEqual(f.listForwards()[0]?.resolvedAt, null);
});

test('a preimage learnt on chain on the downstream channel fulfils upstream; a wrong one, or another channel’s, does not', async () => {
  const store = new MemoryForwardsStore();
  const preimage = randomBytes(32);
  const r = paired({ paymentHash: sha256(preimage) });
  await store.save(r);
  const { api, sent } = channels(state(OUT, [5n], 6n));
  const f = forwarderOver(api, store);
  f.preimageLearnt(OUT, r.paymentHash, randomBytes(32));
  f.preimageLearnt(IN, r.paymentHash, preimage);
  await new Promise((res) => setImmediate(res));
  assert.equal(sent.length, 0);
  f.preimageLearnt(OUT, r.paymentHash, preimage);
  await new Promise((res) => setImmediate(res));
  assert.deepEqual(
    sent.map(([id, i]) => [id, i.kind]),
    [
      [1, 'fulfill-htlc'],
      [1, 'commit'],
    ],
  );
  const fulfil = sent[0]?.[1];
  assert.ok(fulfil?.kind === 'fulfill-htlc' && fulfil.id === 3n);
  assert.deepEqual(Buffer.from(fulfil.paymentPreimage), Buffer.from(preimage));
  assert.equal(store.load()[0]?.status, 'fulfilled');
  // Learnt again (a later block, a restart): the forward is fulfilled already.
  f.preimageLearnt(OUT, r.paymentHash, preimage);
  await new Promise((res) => setImmediate(res));
  assert.equal(sent.length, 2);
});

test('setfees: a channel’s fees and all channels’ are durable (a restarted forwarder has them over its configured default); bad values and unknown channels refused, naming them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lnkit-forward-policy-'));
  const store = await Store.open(dir, { schemaVersion: 1 });
  try {
    const configured = { ...DEFAULT_FORWARD_POLICY, feeBaseMsat: 2_000 };
    const make = () =>
      new Forwarder({
        channels: channels(state(OUT, [], 0n)).api,
        nodeId: new Uint8Array(33),
        chainHash: new Uint8Array(32),
        store: new LmdbForwardsStore(store),
        policy: configured,
        logger,
      });
    const out = Buffer.from(OUT).toString('hex');
    const other = Buffer.from(IN).toString('hex');
    const f = make();
    const set = await f.setPolicy(out, { feeBaseMsat: 10, feeProportionalMillionths: 250 });
    assert.equal(set.feeBaseMsat, 10);
    assert.equal(set.feeProportionalMillionths, 250);
    assert.equal(set.cltvExpiryDelta, DEFAULT_FORWARD_POLICY.cltvExpiryDelta);
    assert.equal(f.policyOf(other).feeBaseMsat, 2_000, 'another channel keeps the default');
    // all: the default and every channel's, the fields given only.
    await f.setPolicy('all', { cltvExpiryDelta: 80 });
    assert.equal(f.policyOf(out).cltvExpiryDelta, 80);
    assert.equal(f.policyOf(out).feeBaseMsat, 10);
    assert.equal(f.policyOf(other).cltvExpiryDelta, 80);

    const again = make();
    assert.deepEqual(again.policyOf(out), f.policyOf(out));
    assert.deepEqual(again.policyOf(other), { ...configured, cltvExpiryDelta: 80 });

    const refused = async (channel: string, change: object, re: RegExp) =>
      assert.rejects(again.setPolicy(channel, change), (e: Error & { code?: string }) => re.test(e.message));
    await refused(
      out,
      { cltvExpiryDelta: 17 },
      /cltv expiry delta must be a whole number from 18 to 65535; got 17/,
    );
    await refused(out, { feeBaseMsat: 2 ** 32 }, /base fee .* from 0 to 4294967295/);
    await refused(out, { feeProportionalMillionths: -1 }, /proportional fee/);
    await refused(
      out,
      { htlcMinimumMsat: 10n, htlcMaximumMsat: 9n },
      /minimum 10 msat is above the maximum 9 msat/,
    );
    await refused(out, {}, /nothing to change/);
    await refused('33'.repeat(32), { feeBaseMsat: 1 }, /no open channel 3333/);
    assert.deepEqual(make().policyOf(out), f.policyOf(out), 'nothing refused was stored');
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

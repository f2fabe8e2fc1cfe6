/**
 * BOLT 7 announcement_signatures between two channel cores (test-fixtures.ts): when they are
 * sent (six confirmations, a public channel only), what each side builds of them (the same
 * channel_announcement, which lnkit's gossip validator takes as valid with both sides'
 * channel_updates), what a bad one gets (a warning), what a dropped connection changes (sent
 * again, answered, announced once), and what a restart keeps.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inThreadCrypto, secp, sha256d } from '@lnkit/crypto';
import { GossipValidator, NetworkGraph, runBatch } from '@lnkit/gossip';
import { KeysError } from '@lnkit/keys';
import {
  type AnnouncementSignatures,
  channelAnnouncement,
  channelAnnouncementSignedBytes,
  type Message,
} from '@lnkit/wire';
import { ANNOUNCEMENT_DEPTH, channelAnnouncementDigest } from './announcement.ts';
import { fundingDepth } from './confirmation.ts';
import { signedChannelUpdate } from './forward/channel-update.ts';
import { DEFAULT_FORWARD_POLICY } from './forward/policy.ts';
import {
  announcementFromSnapshot,
  decodeChannelSnapshot,
  encodeChannelSnapshot,
  snapshotOf,
} from './snapshot.ts';
import { CHAIN_HASH, disconnect, openToReady, pump, reconnect, type Side } from './test-fixtures.ts';

const sigsSent = (s: Side) =>
  s.sent.filter((m): m is AnnouncementSignatures => m.kind === 'announcement_signatures');
const warnings = (s: Side) =>
  s.sent
    .filter((m) => m.kind === 'warning')
    .map((m) => new TextDecoder().decode((m as Extract<Message, { kind: 'warning' }>).data));

async function publicChannelAtDepth(depth: number) {
  const r = await openToReady({ announce: true });
  const { funder, chain } = r;
  const state = funder.state;
  assert.ok(state);
  await chain.mine(depth - fundingDepth(state));
  assert.equal(fundingDepth(funder.state!), depth);
  return r;
}

test('a public channel sends announcement_signatures at 6 confirmations, not before; both build one channel_announcement that the gossip validator takes with both channel_updates', async () => {
  const { funder, fundee, chain } = await publicChannelAtDepth(ANNOUNCEMENT_DEPTH - 1);
  await pump(funder, fundee);
  assert.equal(funder.state?.phase, 'ready');
  assert.deepEqual(
    [sigsSent(funder).length, sigsSent(fundee).length],
    [0, 0],
    'nothing before 6 confirmations',
  );

  await chain.mine(1);
  await pump(funder, fundee);
  assert.deepEqual([sigsSent(funder).length, sigsSent(fundee).length], [1, 1]);
  const scid = funder.state?.shortChannelId;
  assert.ok(scid !== undefined);
  for (const m of [...sigsSent(funder), ...sigsSent(fundee)]) {
    assert.equal(m.shortChannelId, scid);
    assert.deepEqual(m.channelId, funder.state?.channelId);
  }
  assert.equal(funder.announcements.length, 1);
  assert.equal(fundee.announcements.length, 1);
  const raw = funder.announcements[0]!;
  assert.deepEqual(fundee.announcements[0], raw, 'both sides build the same bytes');

  // BOLT 7 order: node_id_1 is the lesser, and bitcoin_key_1 is node 1's funding key.
  const ann = channelAnnouncement.decode(raw);
  const [n1, n2] = [funder, fundee].sort((a, b) => a.nodeId.localeCompare(b.nodeId)) as [Side, Side];
  assert.equal(Buffer.from(ann.nodeId1).toString('hex'), n1.nodeId);
  assert.equal(Buffer.from(ann.nodeId2).toString('hex'), n2.nodeId);
  assert.deepEqual(ann.bitcoinKey1, n1.signer.pubkeys.fundingPubkey);
  assert.deepEqual(ann.bitcoinKey2, n2.signer.pubkeys.fundingPubkey);
  assert.equal(ann.shortChannelId, scid);
  assert.equal(ann.features.toBytes().length, 0);
  // Each of the four signatures signs the double SHA-256 from offset 256.
  const h = sha256d(channelAnnouncementSignedBytes(raw));
  assert.ok(secp.verify(ann.nodeSignature1, h, ann.nodeId1));
  assert.ok(secp.verify(ann.nodeSignature2, h, ann.nodeId2));
  assert.ok(secp.verify(ann.bitcoinSignature1, h, ann.bitcoinKey1));
  assert.ok(secp.verify(ann.bitcoinSignature2, h, ann.bitcoinKey2));

  // An independent reader: lnkit's gossip validator, as a peer would check it.
  const graph = new NetworkGraph({ chainHash: CHAIN_HASH });
  const validator = new GossipValidator(graph);
  const updates = await Promise.all(
    [funder, fundee].map((side) =>
      signedChannelUpdate(
        {
          chainHash: CHAIN_HASH,
          shortChannelId: scid,
          localNodeId: side.keysManager.nodeId,
          remoteNodeId: side.other.keysManager.nodeId,
          policy: DEFAULT_FORWARD_POLICY,
          timestamp: Math.floor(Date.now() / 1000),
          isPrivate: false,
        },
        (d) => side.keysManager.signWithNodeKey(d),
      ),
    ),
  );
  await runBatch(
    validator,
    [raw, ...updates].map((r) => ({ peer: 'test', raw: r })),
    { crypto: inThreadCrypto },
  );
  const c = graph.channel(scid);
  assert.ok(c, 'the graph has the channel');
  assert.ok(c.directions[0] && c.directions[1], 'and both directions');

  // Settled: more blocks send nothing more.
  await chain.mine(3);
  await pump(funder, fundee);
  assert.deepEqual([sigsSent(funder).length, sigsSent(fundee).length], [1, 1]);
  assert.equal(funder.announcements.length, 1);
});

test('a private channel sends no announcement_signatures, and answers one from the peer with a warning', async () => {
  const { funder, fundee, chain } = await openToReady();
  await chain.mine(ANNOUNCEMENT_DEPTH);
  await pump(funder, fundee);
  assert.deepEqual([sigsSent(funder).length, sigsSent(fundee).length], [0, 0]);
  await funder.input({
    kind: 'message',
    message: {
      type: 259,
      kind: 'announcement_signatures',
      channelId: funder.state!.channelId!,
      shortChannelId: funder.state!.shortChannelId!,
      nodeSignature: new Uint8Array(64).fill(1),
      bitcoinSignature: new Uint8Array(64).fill(1),
    },
  });
  assert.match(warnings(funder).join('\n'), /not opened with announce_channel/);
  assert.equal(funder.state?.phase, 'ready');
  assert.equal(funder.announcements.length, 0);
});

test('announcement_signatures with a bad signature or another short_channel_id gets a warning; the channel stays ready and unannounced', async () => {
  const { funder } = await publicChannelAtDepth(ANNOUNCEMENT_DEPTH);
  // The fundee's true message, kept from the funder.
  const real = funder.inbox.find((m): m is AnnouncementSignatures => m.kind === 'announcement_signatures');
  assert.ok(real, 'the fundee sent its signatures');
  funder.inbox.length = 0;
  const flip = (b: Uint8Array) => {
    const c = Uint8Array.from(b);
    c[10]! ^= 1;
    return c;
  };
  const cases: [string, AnnouncementSignatures, RegExp][] = [
    ['node_signature', { ...real, nodeSignature: flip(real.nodeSignature) }, /node_signature does not sign/],
    [
      'bitcoin_signature',
      { ...real, bitcoinSignature: flip(real.bitcoinSignature) },
      /bitcoin_signature does not sign/,
    ],
    // The funder's own signatures: valid, but not for the fundee's keys.
    [
      'signatures of the wrong side',
      { ...real, ...sigsSent(funder)[0]!, channelId: real.channelId },
      /node_signature does not sign/,
    ],
    ['short_channel_id', { ...real, shortChannelId: real.shortChannelId + 1n }, /is not this channel's/],
  ];
  for (const [what, m, expected] of cases) {
    const before = warnings(funder).length;
    await funder.input({ kind: 'message', message: m });
    assert.equal(warnings(funder).length, before + 1, what);
    assert.match(warnings(funder).at(-1)!, expected, what);
    assert.equal(funder.state?.phase, 'ready', what);
    assert.equal(funder.announcements.length, 0, what);
    assert.equal(funder.state?.announcement?.remote, undefined, what);
  }
  // The true one still makes the announcement.
  await funder.input({ kind: 'message', message: real });
  assert.equal(funder.announcements.length, 1);
  // Once in, a copy of it changes nothing and is not answered again on this connection.
  await funder.input({ kind: 'message', message: real });
  assert.equal(funder.announcements.length, 1);
  assert.equal(sigsSent(funder).length, 1);
});

test('both lost on a dropped connection: after reestablish each sends again, and each announces once', async () => {
  const { funder, fundee } = await publicChannelAtDepth(ANNOUNCEMENT_DEPTH);
  assert.deepEqual([sigsSent(funder).length, sigsSent(fundee).length], [1, 1]);
  await disconnect(funder, fundee); // both messages lost in flight
  assert.equal(funder.announcements.length + fundee.announcements.length, 0);
  await reconnect(funder, fundee);
  await pump(funder, fundee);
  assert.deepEqual([sigsSent(funder).length, sigsSent(fundee).length], [2, 2]);
  assert.deepEqual([funder.announcements.length, fundee.announcements.length], [1, 1]);
  assert.deepEqual(funder.announcements[0], fundee.announcements[0]);
});

test("one side has the other's signatures, the other not: after reestablish only that one sends, and is answered", async () => {
  const { funder, fundee } = await publicChannelAtDepth(ANNOUNCEMENT_DEPTH);
  // The fundee's message reaches the funder; the funder's is lost.
  const toFunder = funder.inbox.splice(0);
  fundee.inbox.length = 0;
  for (const m of toFunder) await funder.input({ kind: 'message', message: m as never });
  assert.equal(funder.announcements.length, 1);
  assert.equal(sigsSent(funder).length, 1, 'already sent on this connection: no second answer');
  await disconnect(funder, fundee);
  await reconnect(funder, fundee);
  await pump(funder, fundee);
  // BOLT 7 upon reconnection: the fundee has not received the funder's, so it sends its own;
  // the funder, which has, sends again only in answer.
  assert.deepEqual([sigsSent(funder).length, sigsSent(fundee).length], [2, 2]);
  assert.deepEqual([funder.announcements.length, fundee.announcements.length], [1, 1]);
  assert.deepEqual(funder.announcements[0], fundee.announcements[0]);
  // Reconnecting again, with both in, sends nothing.
  await disconnect(funder, fundee);
  await reconnect(funder, fundee);
  await pump(funder, fundee);
  assert.deepEqual([sigsSent(funder).length, sigsSent(fundee).length], [2, 2]);
});

test('the snapshot keeps both signatures: a restarted channel neither signs nor announces again', async () => {
  const { funder, fundee } = await publicChannelAtDepth(ANNOUNCEMENT_DEPTH);
  await pump(funder, fundee);
  const state = funder.state!;
  const snap = snapshotOf(state);
  assert.ok(snap?.announcement);
  const back = decodeChannelSnapshot(encodeChannelSnapshot(snap));
  const restored = announcementFromSnapshot(back.announcement);
  assert.deepEqual(restored, { ...state.announcement, signing: false, sentOnThisLink: false });
  // The digest both sign comes from the bytes, whatever signatures are in them.
  assert.deepEqual(
    channelAnnouncementDigest(funder.announcements[0]!),
    sha256d(channelAnnouncementSignedBytes(funder.announcements[0]!)),
  );
});

test('the signer signs a channel_announcement of its own channel only, and nothing that is not one', async () => {
  const { funder, fundee } = await publicChannelAtDepth(ANNOUNCEMENT_DEPTH);
  await pump(funder, fundee);
  const raw = funder.announcements[0]!;
  const stranger = (await openToReady()).funder;
  await assert.rejects(
    stranger.signer.signChannelAnnouncement(raw),
    KeysError,
    "neither bitcoin key is the stranger's",
  );
  await assert.rejects(
    funder.signer.signChannelAnnouncement(sha256d(raw)),
    KeysError,
    'a digest is not a message',
  );
  await assert.rejects(funder.signer.signChannelAnnouncement(raw.subarray(0, 300)), KeysError, 'truncated');
  const sig = await funder.signer.signChannelAnnouncement(raw);
  assert.ok(secp.verify(sig, channelAnnouncementDigest(raw), funder.signer.pubkeys.fundingPubkey));
});

test('a private channel sends its channel_update to the peer once per connection, once ready; a public one does not', async () => {
  const priv = await openToReady();
  assert.deepEqual([priv.funder.privateUpdates, priv.fundee.privateUpdates], [1, 1]);
  await priv.chain.mine(3);
  await pump(priv.funder, priv.fundee);
  assert.deepEqual([priv.funder.privateUpdates, priv.fundee.privateUpdates], [1, 1], 'not again for a block');
  await disconnect(priv.funder, priv.fundee);
  assert.deepEqual([priv.funder.privateUpdates, priv.fundee.privateUpdates], [1, 1], 'not while away');
  await reconnect(priv.funder, priv.fundee);
  await pump(priv.funder, priv.fundee);
  assert.deepEqual(
    [priv.funder.privateUpdates, priv.fundee.privateUpdates],
    [2, 2],
    'again after reestablish',
  );

  const pub = await publicChannelAtDepth(ANNOUNCEMENT_DEPTH);
  assert.deepEqual([pub.funder.privateUpdates, pub.fundee.privateUpdates], [0, 0]);
});

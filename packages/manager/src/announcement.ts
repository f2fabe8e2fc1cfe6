/**
 * A public channel's announcement (BOLT 7 "The announcement_signatures Message"): once the
 * funding is deep enough not to be reorganised away, each side signs the channel_announcement
 * both would build — with its node key and its funding key — and sends the two signatures in
 * announcement_signatures. With the peer's checked and ours made, the channel_announcement is
 * whole, and the manager hands it to gossip.
 *
 * Pure, like the rest of the core: the signatures come back from the shell as an input
 * (`announcement-signed`) answering a `sign-announcement` effect. `announceIfDue` runs after
 * every step, so every way the conditions come true (a block, channel_ready, a reconnection)
 * leads here without each caller knowing.
 */
import { secp, sha256d } from '@lnkit/crypto';
import {
  type AnnouncementSignatures,
  channelAnnouncement,
  channelAnnouncementSignedBytes,
  Features,
  formatShortChannelId,
} from '@lnkit/wire';
import type { ChannelEffect, ChannelState, Step } from './channel-state.ts';
import { fundingDepth } from './confirmation.ts';

/**
 * BOLT 7: announce after "enough confirmations to ensure that it won't be reorganized"; the
 * recipient "SHOULD queue the channel_announcement" once the funding "has at least 6
 * confirmations". Gossip peers refuse a channel_announcement shallower than that.
 */
export const ANNOUNCEMENT_DEPTH = 6;

export interface AnnouncementSignaturePair {
  nodeSignature: Uint8Array;
  bitcoinSignature: Uint8Array;
}

/** Where a public channel's announcement stands (kept in the snapshot). */
export interface AnnouncementState {
  /** The short_channel_id both signatures are for (a reorg that moves the funding starts over). */
  shortChannelId: bigint;
  /** A `sign-announcement` is out and not answered yet. */
  signing: boolean;
  local?: AnnouncementSignaturePair | undefined;
  /** The peer's, checked against its node id and funding key. */
  remote?: AnnouncementSignaturePair | undefined;
  /** Ours went out at least once. */
  sent: boolean;
  /** Ours went out on this connection (reset when the peer goes away). */
  sentOnThisLink: boolean;
  /** The whole channel_announcement was handed to gossip. */
  announced: boolean;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const warning = (channelId: Uint8Array, text: string) =>
  ({ type: 1, kind: 'warning', channelId, data: new TextEncoder().encode(text) }) as const;

/** Node 1 is the one whose node id is the lesser (BOLT 7), and its bitcoin key goes first. */
function weAreNode1(s: ChannelState, localNodeId: Uint8Array): boolean {
  return Buffer.compare(Buffer.from(localNodeId), Buffer.from(s.counterpartyNodeId, 'hex')) < 0;
}

/**
 * The channel_announcement both sides sign, with zeroed signatures: no channel features (none
 * are defined that lnkit or LDK set), both node ids and funding keys in BOLT 7 order.
 */
export function unsignedChannelAnnouncement(
  s: ChannelState,
  localNodeId: Uint8Array,
  scid: bigint,
  signatures?: { local: AnnouncementSignaturePair; remote: AnnouncementSignaturePair },
): Uint8Array {
  const remoteFundingKey = s.remote?.fundingPubkey;
  if (!remoteFundingKey) throw new Error('channel_announcement without the peer funding key');
  const remoteNodeId = Uint8Array.from(Buffer.from(s.counterpartyNodeId, 'hex'));
  const first = weAreNode1(s, localNodeId);
  const zero = new Uint8Array(64);
  const l = signatures?.local;
  const r = signatures?.remote;
  return channelAnnouncement.encode({
    type: 256,
    kind: 'channel_announcement',
    nodeSignature1: (first ? l?.nodeSignature : r?.nodeSignature) ?? zero,
    nodeSignature2: (first ? r?.nodeSignature : l?.nodeSignature) ?? zero,
    bitcoinSignature1: (first ? l?.bitcoinSignature : r?.bitcoinSignature) ?? zero,
    bitcoinSignature2: (first ? r?.bitcoinSignature : l?.bitcoinSignature) ?? zero,
    features: Features.empty(),
    chainHash: s.chainHash,
    shortChannelId: scid,
    nodeId1: first ? localNodeId : remoteNodeId,
    nodeId2: first ? remoteNodeId : localNodeId,
    bitcoinKey1: first ? s.keys.pubkeys.fundingPubkey : remoteFundingKey,
    bitcoinKey2: first ? remoteFundingKey : s.keys.pubkeys.fundingPubkey,
  });
}

/** The digest both signatures sign: the double SHA-256 of the message after its four signatures. */
export function channelAnnouncementDigest(unsigned: Uint8Array): Uint8Array {
  return sha256d(channelAnnouncementSignedBytes(unsigned));
}

/**
 * BOLT 7: "If the open_channel message has the announce_channel bit set AND a shutdown message
 * has not been sent: After channel_ready has been sent and received AND the funding transaction
 * has enough confirmations [...]: MUST send announcement_signatures".
 */
function mayAnnounce(s: ChannelState): boolean {
  return (
    s.announce &&
    s.phase === 'ready' &&
    !s.forceClose &&
    !s.normal?.shutdownSent &&
    !s.normal?.shutdownReceived &&
    s.shortChannelId !== undefined &&
    s.remote !== undefined &&
    fundingDepth(s) >= ANNOUNCEMENT_DEPTH
  );
}

const connected = (s: ChannelState) =>
  s.link === 'connected' && (s.normal?.link ?? 'connected') === 'connected';

/**
 * A private channel's policy goes to the peer alone (BOLT 7: a node "MAY create a channel_update
 * to communicate the channel parameters to the channel peer, even though the channel has not
 * yet been announced"): once per connection, when ready, so the peer can put us in its
 * invoices' route hints.
 */
function privateUpdateIfDue(r: Step): Step {
  const s = r.state;
  if (
    s.phase !== 'ready' ||
    s.privateUpdateSent ||
    s.shortChannelId === undefined ||
    !connected(s) ||
    s.normal?.shutdownSent ||
    s.normal?.shutdownReceived
  )
    return r;
  return {
    state: { ...s, privateUpdateSent: true },
    effects: [...r.effects, { kind: 'send-channel-update' }],
  };
}

/** What the announcement needs next, after any step: a signature, our message, the whole announcement. */
export function announceIfDue(r: Step, localNodeId: Uint8Array | undefined): Step {
  const s = r.state;
  if (!s.announce) return privateUpdateIfDue(r);
  if (!localNodeId || s.phase === 'closed') return r;
  let a = s.announcement;
  // The funding moved to another block (a reorg): signatures for the old position are worthless.
  if (a && a.shortChannelId !== s.shortChannelId) a = undefined;
  if (!mayAnnounce(s) || s.shortChannelId === undefined) {
    return a === s.announcement ? r : { state: { ...s, announcement: a }, effects: r.effects };
  }
  const effects: ChannelEffect[] = [...r.effects];
  a ??= {
    shortChannelId: s.shortChannelId,
    signing: false,
    sent: false,
    sentOnThisLink: false,
    announced: false,
  };
  if (!a.local && !a.signing) {
    a = { ...a, signing: true };
    effects.push({
      kind: 'sign-announcement',
      shortChannelId: a.shortChannelId,
      unsigned: unsignedChannelAnnouncement(s, localNodeId, a.shortChannelId),
    });
  }
  const channelId = s.channelId;
  // Sent once when due; then "upon reconnection: If it has NOT previously received
  // announcement_signatures [...]: MUST send its own". Once theirs is in, ours goes again only
  // in answer to theirs (onAnnouncementSignatures).
  if (a.local && channelId && connected(s) && !a.sentOnThisLink && (!a.sent || !a.remote)) {
    effects.push({
      kind: 'send',
      message: announcementSignaturesMessage(channelId, a.shortChannelId, a.local),
    });
    a = { ...a, sent: true, sentOnThisLink: true };
  }
  if (a.local && a.remote && !a.announced) {
    effects.push({
      kind: 'announce',
      shortChannelId: a.shortChannelId,
      channelAnnouncement: unsignedChannelAnnouncement(s, localNodeId, a.shortChannelId, {
        local: a.local,
        remote: a.remote,
      }),
    });
    a = { ...a, announced: true };
  }
  return { state: { ...s, announcement: a }, effects };
}

function announcementSignaturesMessage(
  channelId: Uint8Array,
  shortChannelId: bigint,
  sigs: AnnouncementSignaturePair,
): AnnouncementSignatures {
  return {
    type: 259,
    kind: 'announcement_signatures',
    channelId,
    shortChannelId,
    nodeSignature: sigs.nodeSignature,
    bitcoinSignature: sigs.bitcoinSignature,
  };
}

/** The signer's answer to `sign-announcement`: kept if it is still for the funding's position. */
export function onAnnouncementSigned(
  s: ChannelState,
  shortChannelId: bigint,
  sigs: AnnouncementSignaturePair,
): Step {
  const a = s.announcement;
  if (!a || a.shortChannelId !== shortChannelId) return { state: s, effects: [] };
  return { state: { ...s, announcement: { ...a, signing: false, local: sigs } }, effects: [] };
}

/**
 * The peer's announcement_signatures. Checked before anything is kept: the short_channel_id
 * must be this channel's (BOLT 7: "SHOULD send a warning" otherwise), and both signatures must
 * sign the announcement we would build (a bad one gets a warning; the channel goes on, unannounced).
 */
export function onAnnouncementSignatures(
  s: ChannelState,
  m: AnnouncementSignatures,
  localNodeId: Uint8Array | undefined,
): Step {
  const channelId = s.channelId ?? m.channelId;
  const refuse = (text: string): Step => ({
    state: s,
    effects: [
      { kind: 'send', message: warning(channelId, text) },
      { kind: 'log', level: 'warn', message: `announcement_signatures refused: ${text}` },
    ],
  });
  if (!s.announce) return refuse('announcement_signatures for a channel not opened with announce_channel');
  if (!localNodeId) return { state: s, effects: [] };
  // "If it has not sent channel_ready: SHOULD defer handling": a funding we have not seen deep
  // enough yet has no short_channel_id to check against. The peer sends it again at reconnection.
  if (s.shortChannelId === undefined || !s.channelReadySent || s.remote === undefined)
    return {
      state: s,
      effects: [
        { kind: 'log', level: 'info', message: 'announcement_signatures before our channel_ready: ignored' },
      ],
    };
  if (m.shortChannelId !== s.shortChannelId)
    return refuse(
      `short_channel_id ${formatShortChannelId(m.shortChannelId)} is not this channel's (${formatShortChannelId(s.shortChannelId)})`,
    );
  const digest = channelAnnouncementDigest(unsignedChannelAnnouncement(s, localNodeId, s.shortChannelId));
  const remoteNodeId = Uint8Array.from(Buffer.from(s.counterpartyNodeId, 'hex'));
  if (!secp.verify(m.nodeSignature, digest, remoteNodeId))
    return refuse('node_signature does not sign the channel_announcement');
  if (!secp.verify(m.bitcoinSignature, digest, s.remote.fundingPubkey))
    return refuse('bitcoin_signature does not sign the channel_announcement');
  const before = s.announcement?.shortChannelId === s.shortChannelId ? s.announcement : undefined;
  const a: AnnouncementState = {
    ...(before ?? {
      shortChannelId: s.shortChannelId,
      signing: false,
      sent: false,
      sentOnThisLink: false,
      announced: false,
    }),
    remote: { nodeSignature: m.nodeSignature, bitcoinSignature: m.bitcoinSignature },
  };
  const effects: ChannelEffect[] = [];
  // "If it receives announcement_signatures for the funding transaction: MUST respond with its
  // own" — once per connection, so two nodes answering each other never loop.
  if (a.local && !a.sentOnThisLink && connected(s)) {
    effects.push({
      kind: 'send',
      message: announcementSignaturesMessage(channelId, a.shortChannelId, a.local),
    });
    a.sent = true;
    a.sentOnThisLink = true;
  }
  return { state: { ...s, announcement: a }, effects };
}

/** The peer went away: ours is owed again after the next reestablish (if theirs has not come). */
export function announcementDisconnected(s: ChannelState): ChannelState {
  const a = s.announcement;
  const out = s.privateUpdateSent ? { ...s, privateUpdateSent: false } : s;
  return a?.sentOnThisLink ? { ...out, announcement: { ...a, sentOnThisLink: false } } : out;
}

/** For logs: which channel, by its short_channel_id. */
export const announcementName = (s: ChannelState): string =>
  s.shortChannelId !== undefined ? formatShortChannelId(s.shortChannelId) : hex(s.temporaryChannelId);

/**
 * Step 19, node announcements: our public channels' gossip and our node_announcement, handed
 * to the gossip actor (step 12), which applies them to our own graph and sends them to every
 * peer at once.
 *
 * - A channel announced now (both sides' announcement_signatures in, manager step 9): its
 *   channel_announcement and our channel_update, then our node_announcement — BOLT 7 lets a
 *   node announce itself only once it has a public channel, and peers ignore the announcement
 *   of a node they know no channel of, so it goes after.
 * - At start, every channel announced before (the gossip store has them; peers met since may
 *   not), with fresh channel_updates.
 * - A step-18 task, every `announcementRefreshMs` (a day): the same again, with new
 *   timestamps, so no peer prunes our channels as stale (BOLT 7: two weeks without an update).
 * - `refresh()` (setfees): new channel_updates with the new policy at once.
 */
import { sha256d } from '@lnkit/crypto';
import type { OwnChannelGossip } from '@lnkit/manager';
import { LNKIT_INIT_FEATURES } from '@lnkit/peer-net';
import {
  aliasBytes,
  type Features,
  type NodeAddress,
  type NodeAnnouncement,
  nodeAnnouncement,
  nodeAnnouncementSignedBytes,
} from '@lnkit/wire';
import type { Subscription } from 'rxjs';
import type { NodeComponent } from '../component.ts';
import type { NodeContext } from '../context.ts';
import { NodeError } from '../errors.ts';

/** Our gossip is sent again this often (BOLT 7 prunes a channel without an update for two weeks). */
export const ANNOUNCEMENT_REFRESH_INTERVAL_MS = 24 * 60 * 60_000;

export function nodeAnnouncementStep(): NodeComponent {
  let announced: Subscription | undefined;
  let updates: Subscription | undefined;
  let stopped = false;
  let lastTimestamp = 0;
  return {
    step: 19,
    name: 'node announcement',
    start(ctx) {
      const manager = ctx.get('channelManager');
      const gossip = ctx.get('gossip');
      const sign = ctx.get('signWithNodeKey');
      const nodeId = Uint8Array.from(Buffer.from(ctx.get('nodeId'), 'hex'));
      const color = colorOf(ctx.config.color, nodeId);
      const addresses = (ctx.config.announceAddresses ?? []).map((a) => nodeAddressOf(a.host, a.port));
      const alias = aliasBytes(ctx.config.alias ?? '');
      const features = nodeFeatures(ctx);
      const log = ctx.log.child({ component: 'announcements' });

      /** Later than any we sent, in seconds: a peer keeps only a newer node_announcement. */
      const timestamp = () => {
        lastTimestamp = Math.max(Math.floor(Date.now() / 1000), lastTimestamp + 1);
        return lastTimestamp;
      };

      const ourNodeAnnouncement = async (): Promise<Uint8Array | undefined> =>
        sign &&
        signedNodeAnnouncement(
          { nodeId, features, timestamp: timestamp(), rgbColor: color, alias, addresses },
          sign,
        );

      async function broadcast(channels: OwnChannelGossip[]): Promise<void> {
        if (stopped || channels.length === 0) return;
        const list = channels.flatMap((c) => [c.channelAnnouncement, c.channelUpdate]);
        const accepted = await gossip.ref.broadcastLocal(list);
        const node = await ourNodeAnnouncement();
        const nodeAccepted = node ? await gossip.ref.broadcastLocal([node]) : 0;
        log.info(
          {
            channels: channels.map((c) => c.shortChannelId),
            accepted: accepted + nodeAccepted,
            of: list.length + (node ? 1 : 0),
          },
          'our channels and node announced',
        );
      }

      const refresh = async () => broadcast(await manager.ref.ownGossip());
      announced = manager.ref.announcements$().subscribe((g) => {
        broadcast([g]).catch((err: unknown) =>
          log.warn(
            { err: (err as Error).message, scid: g.shortChannelId },
            'our channel could not be announced',
          ),
        );
      });
      // A channel disabled while its peer is away, or enabled again: only its update.
      updates = manager.ref.channelUpdates$().subscribe((g) => {
        if (stopped) return;
        gossip.ref
          .broadcastLocal([g.channelUpdate])
          .catch((err: unknown) =>
            log.warn(
              { err: (err as Error).message, scid: g.shortChannelId },
              'our channel_update could not be sent',
            ),
          );
      });
      ctx.set('announcer', { refresh });
      ctx.background.push({
        name: 'announcements',
        everyMs: ctx.config.announcementRefreshMs ?? ANNOUNCEMENT_REFRESH_INTERVAL_MS,
        run: refresh,
      });
      // Peers met since the last run may not have them; our own graph has them from the store.
      refresh().catch((err: unknown) =>
        log.warn({ err: (err as Error).message }, 'our channels could not be announced at start'),
      );
    },
    stop() {
      stopped = true;
      announced?.unsubscribe();
      updates?.unsubscribe();
    },
  };
}

/** Our node_announcement (type and payload), signed with the node key. */
export async function signedNodeAnnouncement(
  fields: Pick<NodeAnnouncement, 'nodeId' | 'features' | 'timestamp' | 'rgbColor' | 'alias' | 'addresses'>,
  sign: (digest: Uint8Array) => Promise<Uint8Array>,
): Promise<Uint8Array> {
  const unsigned = nodeAnnouncement.encode({
    type: 257,
    kind: 'node_announcement',
    signature: new Uint8Array(64),
    ...fields,
  });
  // BOLT 7: "signature: the signature of the double-SHA256 of the entire remaining packet after signature".
  const out = new Uint8Array(unsigned);
  out.set(await sign(sha256d(nodeAnnouncementSignedBytes(unsigned))), 2);
  return out;
}

/** BOLT 7 node_announcement features: those we offer in init (BOLT 9 gives most both contexts). */
function nodeFeatures(ctx: NodeContext): Features {
  return ctx.peerHandlers.reduce((f, h) => (h.initFeatures ? f.or(h.initFeatures) : f), LNKIT_INIT_FEATURES);
}

/** `RRGGBB`, or the node id's first three bytes after its parity prefix. */
export function colorOf(text: string | undefined, nodeId: Uint8Array): Uint8Array {
  if (text === undefined) return nodeId.slice(1, 4);
  if (!/^[0-9a-fA-F]{6}$/.test(text))
    throw new NodeError(
      'invalid-config',
      `color must be 6 hex digits (RRGGBB); got ${JSON.stringify(text).slice(0, 40)}`,
    );
  return Uint8Array.from(Buffer.from(text, 'hex'));
}

/** An address to announce: IPv4, IPv6 or a DNS name (BOLT 7 address descriptors 1, 2 and 5). */
export function nodeAddressOf(host: string, port: number): NodeAddress {
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new NodeError('invalid-config', `an announced address needs a port from 1 to 65535; got ${port}`);
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (v4) {
    const bytes = v4.slice(1).map(Number);
    if (bytes.some((b) => b > 255)) throw new NodeError('invalid-config', `${host} is not an IPv4 address`);
    return { kind: 'ipv4', addr: Uint8Array.from(bytes), port };
  }
  if (host.includes(':')) return { kind: 'ipv6', addr: ipv6Bytes(host), port };
  if (
    !/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(host) ||
    host.length > 255
  )
    throw new NodeError(
      'invalid-config',
      `${JSON.stringify(host).slice(0, 80)} is not an IP address or a DNS name`,
    );
  return { kind: 'dns', hostname: host, port };
}

function ipv6Bytes(host: string): Uint8Array {
  const bad = () =>
    new NodeError('invalid-config', `${JSON.stringify(host).slice(0, 80)} is not an IPv6 address`);
  const text = host.replace(/^\[|\]$/g, '');
  const halves = text.split('::');
  if (halves.length > 2) throw bad();
  const groups = (s: string) => (s === '' ? [] : s.split(':'));
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) throw bad();
  const all = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) throw bad();
    const v = Number.parseInt(g, 16);
    out[2 * i] = v >> 8;
    out[2 * i + 1] = v & 0xff;
  });
  return out;
}

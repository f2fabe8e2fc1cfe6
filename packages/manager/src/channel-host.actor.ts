/**
 * A channel host: a worker thread that holds channels for a ChannelManager in another thread
 * (issue: the channels of a forward on different threads, so that a routing node's channel
 * work uses every core). Each channel is the same in-thread actor as in the manager's own
 * thread (channel.actor.ts): its core steps here, its snapshot is encoded here and the messages
 * it sends are encoded here. What the channel asks of the node (the signer, the monitor's
 * persist, the peer, the store, the payments and forwards that hear its HTLCs) is asked of the
 * manager over one port (remote-channel.ts serves it), so the manager hears a channel's
 * notices, its new states and the answer to an input in the order the channel made them.
 *
 * The manager calls it over the same port (`open`, `handle`, `start`, `flush`, `state`,
 * `close`); the actor's own mailbox only connects the port and says which thread it is.
 */

import type { MessagePort } from 'node:worker_threads';
import { threadId } from 'node:worker_threads';
import type { ChannelSigner } from '@lnkit/keys';
import { defineActor, type Logger, PortPeer, spawnLocal } from '@lnkit/runtime';
import type { PersistStatus } from '@lnkit/store';
import { decodeMessage, encodeMessage, Features, type Message } from '@lnkit/wire';
import { type ChannelServices, channelActor } from './channel.actor.ts';
import type { ChannelContext } from './channel.ts';
import type { ChannelEffect, ChannelInput, ChannelState } from './channel-state.ts';
import type { PeerFeatures } from './checks.ts';
import type { ChannelConfig } from './config.ts';
import type { NormalContext } from './htlc/index.ts';
import { encodeChannelSnapshot, snapshotOf } from './snapshot.ts';

/** What the manager reads from its fee estimator for a channel's steps, sent with each input. */
export interface LiveContext {
  normal?: NormalContext | undefined;
  closeFeeratePerKw: number;
}

/** A channel as the manager hands it to a host. */
export interface HostedChannelInit {
  name: string;
  state: ChannelState;
  config: ChannelConfig;
  features: PeerFeatures;
  localNodeId?: Uint8Array | undefined;
  live: LiveContext;
  initialEffects: ChannelEffect[];
  writesInIssueOrder: boolean;
  /** Which optional services the manager gives this channel. */
  has: { record: boolean; signWithNodeKey: boolean };
  /** Log fields (the peer's node id, the channel). */
  bindings: Record<string, string>;
}

/** The signer's methods a channel calls (ChannelSigner's, less `pubkeys`, which the manager reads). */
export const SIGNER_METHODS = [
  'getPerCommitmentPoint',
  'validateHolderCommitment',
  'releaseCommitmentSecret',
  'signCounterpartyCommitment',
  'signHolderCommitment',
  'signClosingTransaction',
  'signChannelAnnouncement',
] as const;
export type SignerMethod = (typeof SIGNER_METHODS)[number];

/**
 * A message copied across threads loses its classes: the feature vectors of open_channel and
 * accept_channel (channel_type) are made Features again.
 */
function reviveMessage<M extends Message>(m: M): M {
  const t = (m as { channelType?: unknown }).channelType;
  if (t && !(t instanceof Features)) Object.setPrototypeOf(t, Features.prototype);
  return m;
}

function reviveEffects(effects: ChannelEffect[]): ChannelEffect[] {
  for (const e of effects) if (e.kind === 'send') reviveMessage(e.message);
  return effects;
}

const hostActor = defineActor({
  name: 'channel-host',
  // Set up, read, or end at once: nothing of a channel goes through the mailbox.
  concurrent: ['connect', 'threadId', 'exit'],
  create(actx, _config: Record<string, never>) {
    const log = actx.logger;
    let peer: PortPeer | undefined;
    const channels = new Map<
      number,
      {
        ref: Awaited<ReturnType<typeof spawnChannel>>;
        live: LiveContext;
      }
    >();

    function servicesOf(key: number, init: HostedChannelInit) {
      const p = peer as PortPeer;
      const call = <T>(method: string, ...args: unknown[]) => p.call<T>('service', key, method, args);
      const notify = (method: string, ...args: unknown[]) => p.notify('service', key, method, args);
      const logger: Logger = log.child(init.bindings);
      const signer = Object.fromEntries(
        SIGNER_METHODS.map((m) => [m, (...args: unknown[]) => call(`signer.${m}`, ...args)]),
      ) as unknown as ChannelSigner;
      const services: ChannelServices = {
        send: (message) => call('send', message.kind, encodeMessage(message)),
        signer,
        persist: (update) => call<PersistStatus>('persist', update),
        writesInIssueOrder: init.writesInIssueOrder,
        requestFunding: (request) => call('requestFunding', request),
        releaseFunding: () => call('releaseFunding'),
        broadcast: (tx, what) => call('broadcast', tx, what),
        watchFunding: (outpoint, scriptPubKey) => notify('watchFunding', outpoint, scriptPubKey),
        emit: (event) => notify('emit', event),
        ...(init.has.record ? { record: (event) => call<void>('record', event) } : {}),
        htlcEvent: (event) => notify('htlcEvent', event),
        ...(init.has.signWithNodeKey
          ? { signWithNodeKey: (digest: Uint8Array) => call<Uint8Array>('signWithNodeKey', digest) }
          : {}),
        sendChannelUpdate: () => call('sendChannelUpdate'),
        announce: (scid, channelAnnouncement) => notify('announce', scid, channelAnnouncement),
        commandRefused: (command, refusal) => notify('commandRefused', command, refusal),
        // The snapshot is encoded here, with the core's step: the manager only writes the bytes.
        changed: (state) => {
          const snapshot = snapshotOf(state);
          return call<void>('changed', state, snapshot, snapshot && encodeChannelSnapshot(snapshot));
        },
        logger,
      };
      return services;
    }

    function contextOf(init: HostedChannelInit, entry: { live: LiveContext }): ChannelContext {
      return {
        config: init.config,
        features: init.features,
        localNodeId: init.localNodeId,
        get normal() {
          return entry.live.normal;
        },
        get closeFeeratePerKw() {
          return entry.live.closeFeeratePerKw;
        },
      };
    }

    async function spawnChannel(init: HostedChannelInit, services: ChannelServices, ctx: ChannelContext) {
      return spawnLocal(channelActor, {
        name: init.name,
        logger: log,
        config: { state: init.state, ctx, services, initialEffects: reviveEffects(init.initialEffects) },
      });
    }

    const get = (key: number) => {
      const c = channels.get(key);
      if (!c) throw new Error(`no channel ${key} in this host`);
      return c;
    };

    const methods: Record<string, (...args: never[]) => unknown> = {
      open: async (key: number, init: HostedChannelInit) => {
        const entry = { live: init.live };
        const services = servicesOf(key, init);
        const ref = await spawnChannel(init, services, contextOf(init, entry));
        channels.set(key, Object.assign(entry, { ref }));
      },
      start: (key: number) => get(key).ref.ref.start(),
      handle: async (key: number, input: ChannelInput, raw: Uint8Array | undefined, live: LiveContext) => {
        const c = get(key);
        c.live = live;
        const revived: ChannelInput =
          raw !== undefined
            ? { kind: 'message', message: reviveMessage(decodeMessage(raw) as Message) as never }
            : input;
        // The state itself went to the manager with the step (changed), ahead of this answer.
        await c.ref.ref.handle(revived);
      },
      /** Answers once every input before it is handled (the state is the manager's already). */
      state: async (key: number) => {
        await get(key).ref.ref.state();
      },
      flush: (key: number) => get(key).ref.ref.flush(),
      close: async (key: number) => {
        const c = channels.get(key);
        if (!c) return;
        channels.delete(key);
        await c.ref.ref.flush().catch(() => undefined);
        await c.ref.stop();
      },
    };

    return {
      /** The port the manager talks to this host's channels over (PortPeer at both ends). */
      connect: (port: MessagePort): void => {
        peer?.close();
        peer = new PortPeer(port, (method, args) => {
          const m = methods[method];
          if (!m) throw new Error(`channel host has no method ${method}`);
          return (m as (...a: unknown[]) => unknown)(...args);
        });
      },
      threadId: (): number => threadId,
      /** Ends this thread at once, as a crash would (ChannelHosts.killThread: a fault drill). */
      exit: (code: number): void => {
        setImmediate(() => process.exit(code));
      },
      /** Every channel's writes durable, then the port closed (the manager's stop). */
      shutdown: async (): Promise<void> => {
        for (const key of [...channels.keys()]) await methods.close!(key as never);
        peer?.close();
        peer = undefined;
      },
    };
  },
});

export default hostActor;

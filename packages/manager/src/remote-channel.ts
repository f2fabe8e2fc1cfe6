/**
 * Channels placed in channel hosts (channel-host.actor.ts): worker threads beside the
 * manager's, so that the channels of a forward step on different cores. The manager keeps its
 * directory, its forwards and payments; a hosted channel's handle looks like an in-thread one
 * (`ChannelHandle`), and what the channel asks of its services is served here, from the same
 * ChannelServices an in-thread channel is given, in the order the channel asked.
 *
 * A channel goes to the host holding the fewest, so the two channels of a forward between two
 * peers are on different threads whenever there are two hosts.
 */
import type { MessagePort } from 'node:worker_threads';
import { MessageChannel } from 'node:worker_threads';
import {
  type ActorHandle,
  type ActorMetricsSnapshot,
  type Logger,
  type LogLevel,
  PortPeer,
  spawn,
} from '@lnkit/runtime';
import type { ChannelServices } from './channel.actor.ts';
import type { ChannelContext } from './channel.ts';
import type { HostedChannelInit, LiveContext, SignerMethod } from './channel-host.actor.ts';
import { channelHostActor } from './channel-host.module.ts';
import type { ChannelEffect, ChannelInput, ChannelState } from './channel-state.ts';
import type { ChannelSnapshot } from './snapshot.ts';

/** A channel as the manager drives it, in its own thread (spawnLocal) or in a host. */
export interface ChannelHandle {
  readonly ref: {
    /** `raw`: the peer's message as it came, for a host to decode (input is then that message). */
    handle(input: ChannelInput, raw?: Uint8Array): Promise<ChannelState>;
    state(): Promise<ChannelState>;
    start(): Promise<void>;
    flush(): Promise<void>;
  };
  stop(): Promise<void>;
}

/** What a hosted channel's services get beyond an in-thread one's: its message already encoded, its snapshot too. */
export interface HostedServices extends ChannelServices {
  sendEncoded(kind: string, bytes: Uint8Array): Promise<void>;
  changedEncoded(
    state: ChannelState,
    encoded?: { snapshot: ChannelSnapshot; bytes: Uint8Array },
  ): Promise<void>;
}

export interface ChannelHostsOptions {
  /** How many host threads (at least 1). */
  threads: number;
  logger: Logger;
  logFile?: string | undefined;
  logLevel?: LogLevel | undefined;
  /**
   * What starts each host (a node's Supervisor, so that its metrics and profiles list them);
   * the runtime's spawn by default. Hosts are never restarted (see below).
   */
  spawn?: typeof spawn | undefined;
  /**
   * A host thread died (not stopped): its channels answer no more. Nothing here can bring them
   * back safely in place (their peers expect the steps they were in the middle of), so the
   * owner must stop the manager and start it again: each channel resumes from its monitor and
   * snapshot, as after a crash of the process.
   */
  onThreadDied?: ((thread: number, reason: string) => void) | undefined;
}

interface Host {
  actor: ActorHandle<{
    connect(port: MessagePort): void;
    threadId(): number;
    exit(code: number): void;
    shutdown(): Promise<void>;
  }>;
  peer: PortPeer;
  threadId: number;
  channels: number;
  dead: boolean;
}

/**
 * The host threads, started when the first channel is placed (or by `start()`); the manager
 * given them stops them with itself.
 */
export class ChannelHosts {
  readonly #options: ChannelHostsOptions;
  readonly #hosts: Host[] = [];
  readonly #services = new Map<number, HostedServices>();
  #started: Promise<void> | undefined;
  #stopped = false;
  #nextKey = 1;

  constructor(options: ChannelHostsOptions) {
    if (!Number.isInteger(options.threads) || options.threads < 1)
      throw new Error(`channel host threads must be a whole number of at least 1; got ${options.threads}`);
    this.#options = options;
  }

  /** Starts the threads (once); open() waits for this. */
  start(): Promise<void> {
    this.#started ??= this.#spawn();
    return this.#started;
  }

  async #spawn(): Promise<void> {
    const options = this.#options;
    const hosts = this.#hosts;
    try {
      for (let i = 0; i < options.threads; i++) {
        const actor = await (options.spawn ?? spawn)(channelHostActor, {
          name: `channel-host-${i}`,
          placement: 'worker',
          config: {},
          logger: options.logger,
          ...(options.logFile ? { logFile: options.logFile } : {}),
          ...(options.logLevel ? { logLevel: options.logLevel } : {}),
          // A host that dies takes its channels' steps with it: the node must restart from its
          // monitors and snapshot, not carry on with channels that no longer answer.
          restart: false,
        });
        const { port1, port2 } = new MessageChannel();
        const peer = new PortPeer(port1, (method, args) => this.#serve(method, args));
        await actor.ref.connect(port2);
        const host: Host = { actor, peer, threadId: await actor.ref.threadId(), channels: 0, dead: false };
        actor.events$.subscribe((e) => {
          if (e.type !== 'crashed' || this.#stopped || host.dead) return;
          host.dead = true;
          peer.close();
          options.logger.error({ thread: i, reason: e.reason }, 'a channel host thread died');
          options.onThreadDied?.(i, e.reason);
        });
        hosts.push(host);
      }
    } catch (err) {
      for (const h of hosts.splice(0)) await h.actor.stop().catch(() => {});
      throw err;
    }
  }

  /** The hosts' thread ids, and how many channels each holds. */
  threads(): { threadId: number; channels: number }[] {
    return this.#hosts.map((h) => ({ threadId: h.threadId, channels: h.channels }));
  }

  /** Each host's actor metrics (event-loop utilisation since the last call, among them). */
  metrics(): Promise<ActorMetricsSnapshot[]> {
    return Promise.all(this.#hosts.map((h) => h.actor.metrics()));
  }

  /** Ends host `index`'s thread at once, as a crash would: a fault drill (onThreadDied follows). */
  async killThread(index: number): Promise<void> {
    const h = this.#hosts[index];
    if (!h) throw new Error(`no channel host ${index}`);
    await h.actor.ref.exit(70);
  }

  /** Places a channel in the host holding the fewest; resolves once the host has built it. */
  async open(init: {
    name: string;
    state: ChannelState;
    ctx: ChannelContext;
    services: HostedServices;
    initialEffects: ChannelEffect[];
    /**
     * The channel's state as the manager last heard it (its services' changed): a call's answer
     * comes after the changes it made, on the same port, so this is the state after it.
     */
    current: () => ChannelState;
  }): Promise<ChannelHandle & { threadId: number }> {
    if (this.#stopped) throw new Error('the channel hosts are stopped');
    await this.start();
    const alive = this.#hosts.filter((h) => !h.dead);
    if (alive.length === 0) throw new Error('every channel host thread has died');
    const host = alive.reduce((a, b) => (b.channels < a.channels ? b : a));
    const key = this.#nextKey++;
    const { ctx, services } = init;
    this.#services.set(key, services);
    host.channels++;
    const live = (): LiveContext => ({ normal: ctx.normal, closeFeeratePerKw: ctx.closeFeeratePerKw });
    const hosted: HostedChannelInit = {
      name: init.name,
      state: init.state,
      config: ctx.config,
      features: ctx.features,
      localNodeId: ctx.localNodeId,
      live: live(),
      initialEffects: init.initialEffects,
      writesInIssueOrder: services.writesInIssueOrder === true,
      has: { record: services.record !== undefined, signWithNodeKey: services.signWithNodeKey !== undefined },
      bindings: bindingsOf(services.logger),
    };
    try {
      await host.peer.call('open', key, hosted);
    } catch (err) {
      this.#services.delete(key);
      host.channels--;
      throw err;
    }
    const peer = host.peer;
    let stopped = false;
    return {
      threadId: host.threadId,
      ref: {
        handle: async (input, raw) => {
          await peer.call('handle', key, raw === undefined ? input : { kind: input.kind }, raw, live());
          return init.current();
        },
        state: async () => {
          await peer.call('state', key);
          return init.current();
        },
        start: () => peer.call<void>('start', key),
        flush: () => peer.call<void>('flush', key),
      },
      stop: async () => {
        if (stopped) return;
        stopped = true;
        await peer.call('close', key).catch(() => undefined);
        this.#services.delete(key);
        host.channels--;
      },
    };
  }

  /** Every host's channels closed (their writes durable), then the threads ended. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await this.#started?.catch(() => undefined);
    for (const h of this.#hosts) {
      await h.actor.ref.shutdown().catch(() => undefined);
      h.peer.close();
      await h.actor.stop().catch(() => undefined);
    }
    this.#services.clear();
  }

  /** A hosted channel's request of its services (channel-host.actor.ts's `servicesOf`). */
  #serve(method: string, args: unknown[]): unknown {
    if (method !== 'service') throw new Error(`channel hosts serve no ${method}`);
    const [key, name, a] = args as [number, string, unknown[]];
    const s = this.#services.get(key);
    if (!s) {
      this.#options.logger.debug({ key, service: name }, 'a closed channel asked its services');
      return undefined;
    }
    if (name.startsWith('signer.')) {
      const m = name.slice('signer.'.length) as SignerMethod;
      return (s.signer[m] as (...x: unknown[]) => unknown).apply(s.signer, a);
    }
    switch (name) {
      case 'send':
        return s.sendEncoded(a[0] as string, a[1] as Uint8Array);
      case 'changed':
        return s.changedEncoded(
          a[0] as ChannelState,
          a[1] ? { snapshot: a[1] as ChannelSnapshot, bytes: a[2] as Uint8Array } : undefined,
        );
      case 'persist':
        return s.persist(a[0] as never);
      case 'requestFunding':
        return s.requestFunding(a[0] as never);
      case 'releaseFunding':
        return s.releaseFunding();
      case 'broadcast':
        return s.broadcast(a[0] as Uint8Array, a[1] as never);
      case 'watchFunding':
        return s.watchFunding(a[0] as never, a[1] as Uint8Array);
      case 'emit':
        return s.emit(a[0] as never);
      case 'record':
        return s.record?.(a[0] as never);
      case 'htlcEvent':
        return s.htlcEvent?.(a[0] as never);
      case 'signWithNodeKey':
        return s.signWithNodeKey?.(a[0] as Uint8Array);
      case 'sendChannelUpdate':
        return s.sendChannelUpdate?.();
      case 'announce':
        return s.announce?.(a[0] as bigint, a[1] as Uint8Array);
      case 'commandRefused':
        return s.commandRefused?.(a[0] as string, a[1] as never);
      default:
        throw new Error(`no channel service ${name}`);
    }
  }
}

/** A pino child's bindings (peer, channel), for the host's logger to carry the same fields. */
function bindingsOf(logger: Logger): Record<string, string> {
  const b = (logger as { bindings?: () => Record<string, unknown> }).bindings?.() ?? {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(b)) if (typeof v === 'string' && k !== 'actor') out[k] = v;
  return out;
}

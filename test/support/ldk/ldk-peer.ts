/**
 * An LDK node (the npm package `lightningdevkit`, LDK compiled to WASM) reduced to what a
 * transport interop test needs: a ChannelManager (so its init features are LDK's real
 * ones), a PeerManager, and TCP sockets wired to it by hand — LDK's PeerManager does no
 * I/O itself. Test code only.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import * as ldk from 'lightningdevkit';

let ready: Promise<void> | undefined;

/** Loads the WASM once per process (its banner goes to console.log, which we silence so bench stdout stays JSON). */
export function initLdk(): Promise<void> {
  if (!ready) {
    ready = (async () => {
      const require = createRequire(import.meta.url);
      const wasmPath = require.resolve('lightningdevkit/liblightningjs.wasm');
      const log = console.log;
      console.log = () => {};
      try {
        await ldk.initializeWasmFromBinary(readFileSync(wasmPath));
      } finally {
        console.log = log;
      }
    })();
  }
  return ready;
}

export interface LdkPeerInfo {
  nodeId: string;
  inbound: boolean;
  /** InitFeatures the peer sent, as BOLT 9 bytes (big-endian) in hex. */
  featuresHex: string;
}

export interface LdkPeerOptions {
  seed?: Uint8Array;
  /** Milliseconds between `timer_tick_occurred` calls (LDK pings then, and drops peers that missed the last ping). 0 = never. */
  tickMs?: number;
  /** Custom message types (>= 32768) this node accepts, for the benchmark. */
  customTypes?: number[];
  /** Keep every LDK log line (trace level) in `logs`, not only warnings and errors. */
  traceLogs?: boolean;
  /** The routing (gossip) message handler; default: one that ignores gossip. */
  routingHandler?: ldk.RoutingMessageHandler;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
let nextDescriptorId = 1n;

class Connection {
  readonly id = nextDescriptorId++;
  /** Set when LDK asked for the disconnect: then socket_disconnected must not be called. */
  ldkClosed = false;
  readonly descriptor: ldk.SocketDescriptor;
  constructor(
    readonly socket: net.Socket,
    peer: LdkPeer,
  ) {
    const self = this;
    this.descriptor = ldk.SocketDescriptor.new_impl({
      send_data(data: Uint8Array, resumeRead: boolean): number {
        if (socket.destroyed) return 0;
        socket.write(data);
        if (resumeRead) socket.resume();
        return data.length;
      },
      disconnect_socket(): void {
        self.ldkClosed = true;
        socket.destroy();
      },
      eq(other: ldk.SocketDescriptor): boolean {
        return other.hash() === self.id;
      },
      hash(): bigint {
        return self.id;
      },
    });
    socket.setNoDelay(true);
    socket.on('data', (data: Buffer) => {
      if (this.ldkClosed) return;
      const r = peer.pm.read_event(
        this.descriptor,
        new Uint8Array(data.buffer, data.byteOffset, data.length),
      );
      if (r instanceof ldk.Result_boolPeerHandleErrorZ_OK) {
        if (r.res) socket.pause();
      } else {
        // An Err means LDK has dropped the peer already.
        this.ldkClosed = true;
        socket.destroy();
      }
      peer.pm.process_events();
      peer.notify();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      peer.connections.delete(this);
      if (!this.ldkClosed) {
        this.ldkClosed = true;
        peer.pm.socket_disconnected(this.descriptor);
        peer.pm.process_events();
      }
      peer.notify();
    });
  }
}

export class LdkPeer {
  pm!: ldk.PeerManager;
  private chanMan!: ldk.ChannelManager;
  readonly connections = new Set<Connection>();
  private readonly checks = new Set<() => void>();
  private server: net.Server | undefined;
  private timers: NodeJS.Timeout[] = [];
  private pendingCustom: ldk.TwoTuple_PublicKeyTypeZ[] = [];
  /** Count and bytes of custom messages received (benchmark). */
  customReceived = { count: 0, bytes: 0 };
  /** Warnings and errors LDK logged, for assertions and debugging. */
  readonly logs: string[] = [];
  nodeId = '';
  port = 0;

  static async create(options: LdkPeerOptions = {}): Promise<LdkPeer> {
    await initLdk();
    const p = new LdkPeer();
    p.build(options);
    return p;
  }

  private build(options: LdkPeerOptions): void {
    const seed = options.seed ?? crypto.getRandomValues(new Uint8Array(32));
    const logger = ldk.Logger.new_impl({
      log: (record: ldk.Record) => {
        if (options.traceLogs || record.get_level() >= ldk.Level.LDKLevel_Warn)
          this.logs.push(record.get_args());
      },
    });
    const feeEstimator = ldk.FeeEstimator.new_impl({ get_est_sat_per_1000_weight: () => 253 });
    const broadcaster = ldk.BroadcasterInterface.new_impl({ broadcast_transactions: () => {} });
    const completed = ldk.ChannelMonitorUpdateStatus.LDKChannelMonitorUpdateStatus_Completed;
    const persister = ldk.Persist.new_impl({
      persist_new_channel: () => completed,
      update_persisted_channel: () => completed,
      archive_persisted_channel: () => {},
    });
    const chainMonitor = ldk.ChainMonitor.constructor_new(
      ldk.Option_FilterZ.constructor_none(),
      broadcaster,
      logger,
      feeEstimator,
      persister,
    );
    const now = Date.now();
    const keys = ldk.KeysManager.constructor_new(seed, BigInt(Math.floor(now / 1000)), (now % 1000) * 1e6);
    const network = ldk.Network.LDKNetwork_Regtest;
    const graph = ldk.NetworkGraph.constructor_new(network, logger);
    const scorer = ldk.ProbabilisticScorer.constructor_new(
      ldk.ProbabilisticScoringDecayParameters.constructor_default(),
      graph,
      logger,
    );
    const score = ldk.MultiThreadedLockableScore.constructor_new(scorer.as_Score());
    const router = ldk.DefaultRouter.constructor_new(
      graph,
      logger,
      keys.as_EntropySource(),
      score.as_LockableScore(),
      ldk.ProbabilisticScoringFeeParameters.constructor_default(),
    );
    const messageRouter = ldk.DefaultMessageRouter.constructor_new(graph, keys.as_EntropySource());
    const params = ldk.ChainParameters.constructor_new(
      network,
      ldk.BestBlock.constructor_from_network(network),
    );
    this.chanMan = ldk.ChannelManager.constructor_new(
      feeEstimator,
      chainMonitor.as_Watch(),
      broadcaster,
      router.as_Router(),
      messageRouter.as_MessageRouter(),
      logger,
      keys.as_EntropySource(),
      keys.as_NodeSigner(),
      keys.as_SignerProvider(),
      ldk.UserConfig.constructor_default(),
      params,
      Math.floor(now / 1000),
    );
    const ignorer = ldk.IgnoringMessageHandler.constructor_new();
    const customTypes = new Set(options.customTypes ?? []);
    const custom = customTypes.size
      ? ldk.CustomMessageHandler.new_impl(
          {
            handle_custom_message: () => ldk.Result_NoneLightningErrorZ.constructor_ok(),
            get_and_clear_pending_msg: () => {
              const out = this.pendingCustom;
              this.pendingCustom = [];
              return out;
            },
            peer_disconnected: () => {},
            peer_connected: () => ldk.Result_NoneNoneZ.constructor_ok(),
            provided_node_features: () => ldk.NodeFeatures.constructor_empty(),
            provided_init_features: () => ldk.InitFeatures.constructor_empty(),
          },
          {
            read: (signedType: number, buffer: Uint8Array) => {
              // The bindings hand the u16 message type over as a signed 16-bit number.
              const type = signedType & 0xffff;
              if (!customTypes.has(type))
                return ldk.Result_COption_TypeZDecodeErrorZ.constructor_ok(
                  ldk.Option_TypeZ.constructor_none(),
                );
              this.customReceived.count++;
              this.customReceived.bytes += buffer.length;
              return ldk.Result_COption_TypeZDecodeErrorZ.constructor_ok(
                ldk.Option_TypeZ.constructor_some(customMessage(type, buffer)),
              );
            },
          },
        )
      : ignorer.as_CustomMessageHandler();
    this.pm = ldk.PeerManager.constructor_new(
      this.chanMan.as_ChannelMessageHandler(),
      options.routingHandler ?? ignorer.as_RoutingMessageHandler(),
      ignorer.as_OnionMessageHandler(),
      custom,
      Math.floor(now / 1000),
      keys.as_EntropySource().get_secure_random_bytes(),
      logger,
      keys.as_NodeSigner(),
    );
    this.nodeId = hex(this.chanMan.get_our_node_id());
    // LDK expects process_events on a timer too (messages generated outside read_event).
    this.timers.push(setInterval(() => this.pm.process_events(), 50));
    if (options.tickMs) this.timers.push(setInterval(() => this.timerTick(), options.tickMs));
  }

  /** LDK's ping round: pings every peer and drops those that did not answer the previous one. */
  timerTick(): void {
    this.pm.timer_tick_occurred();
    this.pm.process_events();
  }

  /** Starts listening on loopback; port 0 lets the OS choose. Returns the bound port. */
  async start(listenPort = 0): Promise<number> {
    const server = net.createServer((socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(listenPort, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as net.AddressInfo).port;
    return this.port;
  }

  private accept(socket: net.Socket): void {
    const c = new Connection(socket, this);
    this.connections.add(c);
    const r = this.pm.new_inbound_connection(c.descriptor, ldk.Option_SocketAddressZ.constructor_none());
    if (!(r instanceof ldk.Result_NonePeerHandleErrorZ_OK)) {
      c.ldkClosed = true;
      socket.destroy();
    }
  }

  /** Dials a node; resolves when LDK lists it as a peer (handshake and init done). */
  async connect(pubkeyHex: string, host: string, port: number, timeoutMs = 30_000): Promise<void> {
    const socket = net.connect(port, host);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('error', reject);
    });
    const c = new Connection(socket, this);
    this.connections.add(c);
    const r = this.pm.new_outbound_connection(
      Buffer.from(pubkeyHex, 'hex'),
      c.descriptor,
      ldk.Option_SocketAddressZ.constructor_none(),
    );
    if (!(r instanceof ldk.Result_CVec_u8ZPeerHandleErrorZ_OK)) {
      c.ldkClosed = true;
      socket.destroy();
      throw new Error('LDK refused the outbound connection');
    }
    socket.write(r.res);
    await this.waitFor(
      () => this.listPeers().some((p) => p.nodeId === pubkeyHex),
      timeoutMs,
      `LDK connect to ${pubkeyHex}`,
    );
  }

  listPeers(): LdkPeerInfo[] {
    return this.pm.list_peers().map((p) => ({
      nodeId: hex(p.get_counterparty_node_id()),
      inbound: Boolean(p.get_is_inbound_connection()),
      featuresHex: hex(Uint8Array.from(p.get_init_features().le_flags()).reverse()),
    }));
  }

  /** Queues a custom (odd, >= 32768) message to a connected peer; sent on the next process_events. */
  sendCustom(nodeIdHex: string, type: number, payload: Uint8Array): void {
    this.pendingCustom.push(
      ldk.TwoTuple_PublicKeyTypeZ.constructor_new(
        Buffer.from(nodeIdHex, 'hex'),
        customMessage(type, payload),
      ),
    );
  }

  processEvents(): void {
    this.pm.process_events();
  }

  disconnect(nodeIdHex: string): void {
    this.pm.disconnect_by_node_id(Buffer.from(nodeIdHex, 'hex'));
    this.pm.process_events();
  }

  disconnectAll(): void {
    this.pm.disconnect_all_peers();
    this.pm.process_events();
  }

  /** Resolves when `cond` holds, checked after every socket event (no polling delay, so benchmarks are fair). */
  waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (cond()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!cond()) return;
        clearTimeout(timer);
        this.checks.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.checks.delete(check);
        if (cond()) resolve();
        else reject(new Error(`timed out waiting for ${what}`));
      }, timeoutMs);
      this.checks.add(check);
    });
  }

  /** Runs pending waitFor checks (called after each socket event). */
  notify(): void {
    for (const c of [...this.checks]) c();
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.pm.disconnect_all_peers();
    for (const c of this.connections) c.socket.destroy();
    if (this.server) {
      const server = this.server;
      this.server = undefined;
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }
}

function customMessage(type: number, payload: Uint8Array): ldk.Type {
  return ldk.Type.new_impl({
    type_id: () => type,
    debug_str: () => `custom ${type}`,
    write: () => payload,
  });
}

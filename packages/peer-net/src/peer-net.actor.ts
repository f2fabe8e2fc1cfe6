/**
 * The PeerManager as a runtime actor: the same module runs in its own worker thread or
 * in-process (`spawn(new URL('./peer-net.actor.ts', ...), { placement, config })`). Calls
 * become Promises and `$` methods Observables bridged across the thread boundary, so what
 * crosses is plain data: messages go out as raw bytes (type + payload), and the subscriber
 * decodes them with @lnkit/wire on its own thread.
 */
import { CryptoPool, inThreadCrypto } from '@lnkit/crypto';
import { ChannelSignerPool } from '@lnkit/keys';
import { defineActor } from '@lnkit/runtime';
import { Features } from '@lnkit/wire';
import { filter, map, type Observable } from 'rxjs';
import { PeerNetError } from './errors.ts';
import { type NodeKeyEcdh, nodeKeyEcdh } from './noise.ts';
import {
  type ConnectionStats,
  type ConnectOptions,
  type PeerEvent,
  type PeerInfo,
  PeerManager,
  type PeerManagerOptions,
  type PeerNetStats,
  type PeerState,
} from './peer-manager.ts';

export interface PeerNetActorConfig {
  /**
   * Where the node key comes from; exactly one of the two:
   * - `nodeKeyDataDir`: the node's data dir. A signer pool (its own worker threads) reads
   *   `keys_seed` there and does the handshake ECDH, so the node secret is never in this
   *   thread, which parses peer input (DESIGN.md, crypto).
   * - `nodeSecret`: the 32-byte secret itself, copied once into this thread at spawn (tests,
   *   embedders with their own key storage). Never logged or returned.
   */
  nodeKeyDataDir?: string;
  nodeSecret?: Uint8Array;
  /** Run the node key's ECDH in a CryptoPool of this many threads (0: in-thread). */
  ecdhInPool?: number;
  /** Init features as BOLT 9 bytes (hex); default LNKIT_INIT_FEATURES. */
  featuresHex?: string;
  chainHashes?: Uint8Array[];
  options?: Omit<PeerManagerOptions, 'nodeKey' | 'features' | 'chainHashes' | 'logger' | 'frameSealer'>;
}

/** A message as it crosses threads: who sent it, its type, and its bytes (type + payload). */
export interface RawPeerMessage {
  nodeId: string;
  type: number;
  raw: Uint8Array;
}

export default defineActor({
  name: 'peer-net',
  // Calls that wait on the network run outside the mailbox, or one slow peer would stall every
  // caller. Each changes the PeerManager's state synchronously before it waits (the directory,
  // a waiter, the connection's queue), so nothing of it changes across its await.
  concurrent: [
    'connect', // waits for the dial, the BOLT 8 handshake and init (seconds, up to the timeouts)
    'ping', // waits for the pong (up to pongTimeoutMs)
    'send', // waits until the socket takes the bytes; queued at once, so a peer's order is kept
  ],
  async create(ctx, config: PeerNetActorConfig) {
    if ((config.nodeSecret === undefined) === (config.nodeKeyDataDir === undefined)) {
      throw new PeerNetError(
        'invalid-argument',
        'give the peer actor exactly one of nodeSecret or nodeKeyDataDir',
      );
    }
    const pool = config.ecdhInPool ? new CryptoPool({ threads: config.ecdhInPool }) : undefined;
    const signerPool = config.nodeKeyDataDir
      ? new ChannelSignerPool({ dataDir: config.nodeKeyDataDir, threads: 1 })
      : undefined;
    let nodeKey: NodeKeyEcdh;
    try {
      nodeKey = signerPool
        ? await signerPool.nodeKey()
        : nodeKeyEcdh(config.nodeSecret!, pool ?? inThreadCrypto);
    } catch (e) {
      await signerPool?.close();
      await pool?.close();
      throw e;
    }
    const pm = new PeerManager({
      ...config.options,
      nodeKey,
      logger: ctx.logger,
      ...(config.featuresHex !== undefined
        ? { features: Features.fromBytes(Buffer.from(config.featuresHex, 'hex')) }
        : {}),
      ...(config.chainHashes ? { chainHashes: config.chainHashes } : {}),
    });
    return {
      nodeId: (): string => pm.nodeId,
      listen: (host: string, port: number) => pm.listen(host, port),
      connect: (nodeId: string, host: string, port: number, options?: ConnectOptions): Promise<PeerInfo> =>
        pm.connect(nodeId, host, port, options),
      disconnect: (nodeId: string) => pm.disconnect(nodeId),
      listPeers: (): PeerInfo[] => pm.listPeers(),
      /** The logical peer (connected or not, persistent or not, its pending redial). */
      peer: (nodeId: string): PeerState | undefined => pm.peer(nodeId),
      /** The current connection's counters: traffic, and pings and pongs (proof a ping crossed). */
      connectionStats: (nodeId: string): ConnectionStats | undefined => pm.connectionStats(nodeId),
      send: (nodeId: string, message: Uint8Array) => pm.send(nodeId, message),
      ping: (nodeId: string, numPongBytes?: number) => pm.ping(nodeId, numPongBytes),
      queueLength: (nodeId: string) => pm.queueLength(nodeId),
      /** The limits in force, what they hold now, and each hit counted: for the node's metrics. */
      stats: (): PeerNetStats => pm.stats(),
      registerMessageTypes: (types: number[]) => pm.registerMessageTypes(types),
      events$: (): Observable<PeerEvent> => pm.events$,
      /** Messages of the given types (all, if none given); filtered here so only those cross threads. */
      messages$: (types?: number[]): Observable<RawPeerMessage> => {
        if (types?.length) pm.registerMessageTypes(types);
        const wanted = types?.length ? new Set(types) : undefined;
        return pm.messages$.pipe(
          filter((m) => !wanted || wanted.has(m.message.type)),
          map((m) => ({ nodeId: m.nodeId, type: m.message.type, raw: m.raw })),
        );
      },
      close: async () => {
        await pm.close();
        await pool?.close();
        await signerPool?.close();
      },
    };
  },
  async stop(api) {
    await api.close();
  },
});

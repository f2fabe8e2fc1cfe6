/**
 * The PeerManager actor (guide steps 13-14): BOLT 8 transport and BOLT 1 session rules for
 * every peer, in its own thread. It loads the node key from the seed file itself, so the
 * key never crosses a thread boundary.
 */
import { KeysManager, loadOrCreateSeed } from '@lnkit/keys';
import { type ConnectOptions, type PeerEvent, type PeerInfo, PeerManager } from '@lnkit/peer-net';
import { defineActor } from '@lnkit/runtime';
import type { Observable } from 'rxjs';

export interface PeerActorConfig {
  dataDir: string;
  /** Hex of the chain hash (internal byte order) for init's `networks`. */
  chainHashHex: string;
  pingIntervalMs?: number;
  pongTimeoutMs?: number;
  reconnectInitialDelayMs?: number;
  reconnectMaxDelayMs?: number;
}

export default defineActor({
  name: 'peer-manager',
  create(ctx, config: PeerActorConfig) {
    const { seed } = loadOrCreateSeed(config.dataDir);
    const keys = new KeysManager(seed);
    seed.fill(0);
    const manager = new PeerManager({
      nodeKey: { publicKey: keys.nodeId, ecdh: (pub) => keys.ecdhWithNodeKey(pub) },
      chainHashes: [Uint8Array.from(Buffer.from(config.chainHashHex, 'hex'))],
      logger: ctx.logger,
      ...(config.pingIntervalMs ? { pingIntervalMs: config.pingIntervalMs } : {}),
      ...(config.pongTimeoutMs ? { pongTimeoutMs: config.pongTimeoutMs } : {}),
      ...(config.reconnectInitialDelayMs ? { reconnectInitialDelayMs: config.reconnectInitialDelayMs } : {}),
      ...(config.reconnectMaxDelayMs ? { reconnectMaxDelayMs: config.reconnectMaxDelayMs } : {}),
    });
    return {
      nodeId: (): string => Buffer.from(keys.nodeId).toString('hex'),
      listen: (host: string, port: number) => manager.listen(host, port),
      connect: (
        nodeId: string,
        host: string,
        port: number,
        options: ConnectOptions = {},
      ): Promise<PeerInfo> => manager.connect(nodeId, host, port, options),
      disconnect: (nodeId: string) => manager.disconnect(nodeId),
      listPeers: (): PeerInfo[] => manager.listPeers(),
      ping: (nodeId: string) => manager.ping(nodeId),
      events$: (): Observable<PeerEvent> => manager.events$,
      close: () => manager.close(),
    };
  },
  async stop(api) {
    await api.close();
  },
});

/**
 * Transport figures, lnkit beside LDK in the same run:
 * - handshakes/s in memory, as LDK's are measured: two peers in one process, the bytes of one
 *   handed to the other with no socket. lnkit: the BOLT 8 handshake (noise.ts), the init
 *   exchange through PeerSession with its frames encrypted and decrypted, and the PeerDirectory
 *   bookkeeping of both sides — the pure cores the PeerManager runs. LDK: two PeerManagers
 *   (with their ChannelManagers) wired by SocketDescriptors that queue bytes for the other;
 * - handshakes/s over loopback TCP: connect + BOLT 8 handshake + init exchange, then
 *   disconnect, one at a time, through the PeerManager; LDK through its PeerManager and
 *   node:net as in test/support/ldk;
 *   each with the node key in-thread, in the keys signer pool (where the node keeps it; its ECDH
 *   through the shared-memory lane) and in the signer pool with one task per ECDH (the lane
 *   off). Arms are measured in turn, round after round (`interleaved`), and `ratio` is the
 *   median of the round-by-round ratios to LDK, so that the machine's load falls on both alike;
 * - MB/s of 1 KiB messages (a custom odd type, 2-byte type + 1022 bytes) from one peer to another;
 * - bulk frame encryption (1 KiB, BOLT 8 framing) in-thread against a Piscina pool, to show
 *   which one peer-net should use.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CryptoPool, randomBytes } from '@lnkit/crypto';
import { ChannelSignerPool, loadOrCreateSeed } from '@lnkit/keys';
import {
  DEFAULT_RECONNECT_POLICY,
  type FrameSealer,
  HandshakeInitiator,
  HandshakeResponder,
  LNKIT_INIT_FEATURES,
  MessageDecryptor,
  MessageEncryptor,
  type NodeKeyEcdh,
  nodeKeyEcdh,
  PeerDirectory,
  PeerManager,
  PeerSession,
} from '@lnkit/peer-net';
import * as ldk from 'lightningdevkit';
import { filter, firstValueFrom } from 'rxjs';
import { LdkPeer } from '../support/ldk/ldk-peer.ts';
import {
  type Emit,
  interleaved,
  median,
  medianRatio,
  opsPerSecond,
  opsPerSecondSync,
  round,
} from './harness.ts';

const CUSTOM_TYPE = 32769;
const MESSAGE_SIZE = 1024;
const MESSAGES = 20_000;
const MS = 2000;
/** Rounds of the interleaved handshake figures, and each arm's time per round. */
const ROUNDS = 5;
const ROUND_MS = 1000;
/**
 * The extra in-memory figure: this many handshakes in flight at once (a node accepting many
 * connections), each between its own pair of directories with the same node keys. The
 * headline figures are one at a time, as LDK's.
 */
const IN_FLIGHT = 8;

function customMessage(): Uint8Array {
  const m = new Uint8Array(MESSAGE_SIZE);
  m[0] = CUSTOM_TYPE >> 8;
  m[1] = CUSTOM_TYPE & 0xff;
  return m;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

const SESSION_OPTIONS = {
  localFeatures: LNKIT_INIT_FEATURES,
  chainHashes: [],
  isHandledType: () => false,
  pingIntervalMs: 30_000,
  pongTimeoutMs: 15_000,
  initTimeoutMs: 10_000,
};

/** One side of the in-memory lnkit pair: its node key and its directory of peers. */
interface MemorySide {
  key: NodeKeyEcdh;
  nodeId: string;
  directory: PeerDirectory;
}

function memorySide(key: NodeKeyEcdh): MemorySide {
  return {
    key,
    nodeId: hex(key.publicKey),
    directory: new PeerDirectory({ policy: DEFAULT_RECONNECT_POLICY, random: Math.random }),
  };
}

/** Each side sends its init, receives the other's, and checks it, as PeerSession does over a socket. */
function exchangeInit(
  keysA: ConstructorParameters<typeof MessageEncryptor>[0] &
    ConstructorParameters<typeof MessageDecryptor>[0],
  keysB: typeof keysA,
  now: number,
): void {
  const sessionA = new PeerSession(SESSION_OPTIONS, now);
  const sessionB = new PeerSession(SESSION_OPTIONS, now);
  const toB = new MessageEncryptor(keysA).encrypt((sessionA.start()[0] as { message: Uint8Array }).message);
  const toA = new MessageEncryptor(keysB).encrypt((sessionB.start()[0] as { message: Uint8Array }).message);
  const atB = sessionB.receive(new MessageDecryptor(keysB).push(toB)[0]!, now);
  const atA = sessionA.receive(new MessageDecryptor(keysA).push(toA)[0]!, now);
  if (atA[0]?.kind !== 'initialized' || atB[0]?.kind !== 'initialized') throw new Error('init refused');
}

/** One lnkit handshake in memory: a dials b, the three acts, init both ways, then both forget it. */
async function lnkitMemoryHandshake(a: MemorySide, b: MemorySide): Promise<void> {
  const now = Date.now();
  const dial = a.directory.connect(b.nodeId, { host: 'memory', port: 1 }, {}, now);
  const initiator = new HandshakeInitiator(a.key, b.key.publicKey);
  const responder = new HandshakeResponder(b.key);
  const actTwo = await responder.actOne(initiator.actOne());
  const { actThree, keys: keysA } = await initiator.actTwo(actTwo);
  const keysB = responder.actThree(actThree);
  const inbound = b.directory.inboundOpened(hex(keysB.remoteStatic), now);
  exchangeInit(keysA, keysB, now);
  a.directory.ready(dial.connection, now);
  b.directory.ready(inbound, now);
  a.directory.closed(dial.connection, now, undefined, 'done');
  b.directory.closed(inbound, now, undefined, 'done');
}

let nextDescriptorId = 1n << 40n;

/**
 * One LDK handshake in memory: SocketDescriptors that queue what LDK sends for the other
 * PeerManager's read_event, pumped until both list the other as a peer (init done).
 */
function ldkMemoryHandshake(a: LdkPeer, b: LdkPeer): void {
  const queue: [LdkPeer, ldk.SocketDescriptor, Uint8Array][] = [];
  const descriptor = (to: () => [LdkPeer, ldk.SocketDescriptor]) => {
    const id = nextDescriptorId++;
    return ldk.SocketDescriptor.new_impl({
      send_data(data: Uint8Array): number {
        queue.push([...to(), data.slice()]);
        return data.length;
      },
      disconnect_socket() {},
      eq: (other: ldk.SocketDescriptor) => other.hash() === id,
      hash: () => id,
    });
  };
  const da: ldk.SocketDescriptor = descriptor(() => [b, db]);
  const db: ldk.SocketDescriptor = descriptor(() => [a, da]);
  b.pm.new_inbound_connection(db, ldk.Option_SocketAddressZ.constructor_none());
  const first = a.pm.new_outbound_connection(
    Buffer.from(b.nodeId, 'hex'),
    da,
    ldk.Option_SocketAddressZ.constructor_none(),
  );
  if (!(first instanceof ldk.Result_CVec_u8ZPeerHandleErrorZ_OK))
    throw new Error('LDK refused the connection');
  queue.push([b, db, first.res]);
  // Until neither side has anything more to send (init is the last message of both); peers
  // are listed once at the end, not every turn (each list_peers costs LDK's bindings more
  // than a turn).
  for (let turn = 0; turn < 20 && queue.length > 0; turn++) {
    for (let item = queue.shift(); item; item = queue.shift()) item[0].pm.read_event(item[1], item[2]);
    a.pm.process_events();
    b.pm.process_events();
  }
  if (a.pm.list_peers().length !== 1 || b.pm.list_peers().length !== 1)
    throw new Error('LDK did not connect');
  a.pm.socket_disconnected(da);
  b.pm.socket_disconnected(db);
}

/** Two signer pools, one per side, each holding its side's node key as the node does. */
async function signerPoolKeys(nodeKeyLane: boolean) {
  const dirs = [0, 1].map((i) => mkdtempSync(join(tmpdir(), `lnkit-bench-${i}-`)));
  const pools = dirs.map((dataDir) => {
    loadOrCreateSeed(dataDir);
    return new ChannelSignerPool({ dataDir, threads: 1, nodeKeyLane });
  });
  const [a, b] = await Promise.all(pools.map((p) => p.nodeKey()));
  return {
    keys: [a!, b!] as [NodeKeyEcdh, NodeKeyEcdh],
    close: async () => {
      await Promise.all(pools.map((p) => p.close()));
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    },
  };
}

type Placement = 'in-thread' | 'signer-pool' | 'signer-pool-tasks';

async function placements() {
  const lane = await signerPoolKeys(true);
  const tasks = await signerPoolKeys(false);
  const keys: Record<Placement, [NodeKeyEcdh, NodeKeyEcdh]> = {
    'in-thread': [nodeKeyEcdh(randomBytes(32)), nodeKeyEcdh(randomBytes(32))],
    'signer-pool': lane.keys,
    'signer-pool-tasks': tasks.keys,
  };
  return { keys, close: () => Promise.all([lane.close(), tasks.close()]) };
}

const PLACEMENT_NOTE: Record<Placement, string> = {
  'in-thread': 'node key in the peer thread',
  'signer-pool': 'node key in the signer pool, ECDH through its shared-memory lane',
  'signer-pool-tasks': 'node key in the signer pool, one pool task per ECDH',
};

function emitHandshakes(
  emit: Emit,
  transport: 'memory' | 'tcp',
  includes: string,
  rounds: Record<string, number[]>,
): void {
  const ldkRounds = rounds.ldk!;
  for (const placement of ['in-thread', 'signer-pool', 'signer-pool-tasks'] as Placement[]) {
    const mine = rounds[placement]!;
    emit({
      name: 'peer-net.handshakes',
      value: round(median(mine)),
      unit: 'handshakes/s',
      transport,
      includes,
      nodeKey: placement,
      note: PLACEMENT_NOTE[placement],
      ldk: round(median(ldkRounds)),
      ratio: round(medianRatio(mine, ldkRounds), 2),
      rounds: mine.length,
      perRound: mine.map((v) => round(v)).join(' '),
      ldkPerRound: ldkRounds.map((v) => round(v)).join(' '),
      loadAverage: round(loadavg()[0]!, 1),
    });
  }
}

async function memoryHandshakes(
  emit: Emit,
  keys: Record<Placement, [NodeKeyEcdh, NodeKeyEcdh]>,
): Promise<void> {
  const ldkA = await LdkPeer.create();
  const ldkB = await LdkPeer.create();
  try {
    const sides = Object.fromEntries(
      Object.entries(keys).map(([p, [a, b]]) => [p, [memorySide(a), memorySide(b)]]),
    ) as Record<Placement, [MemorySide, MemorySide]>;
    // IN_FLIGHT pairs per placement for the concurrent figure, sharing that placement's keys.
    const concurrent = (p: Placement) => {
      const pairs = Array.from({ length: IN_FLIGHT }, () => [memorySide(keys[p][0]), memorySide(keys[p][1])]);
      return () => Promise.all(pairs.map(([a, b]) => lnkitMemoryHandshake(a!, b!)));
    };
    const rounds = await interleaved(
      {
        ldk: () => ldkMemoryHandshake(ldkA, ldkB),
        'in-thread': () => lnkitMemoryHandshake(...sides['in-thread']),
        'signer-pool': () => lnkitMemoryHandshake(...sides['signer-pool']),
        'signer-pool-tasks': () => lnkitMemoryHandshake(...sides['signer-pool-tasks']),
        'in-thread-concurrent': concurrent('in-thread'),
        'signer-pool-concurrent': concurrent('signer-pool'),
      },
      ROUNDS,
      ROUND_MS,
    );
    emitHandshakes(emit, 'memory', 'noise+init+directory', rounds);
    for (const placement of ['in-thread', 'signer-pool'] as const) {
      // Each call completes IN_FLIGHT handshakes.
      const mine = rounds[`${placement}-concurrent`]!.map((v) => v * IN_FLIGHT);
      emit({
        name: 'peer-net.handshakes',
        value: round(median(mine)),
        unit: 'handshakes/s',
        transport: 'memory',
        includes: 'noise+init+directory',
        nodeKey: placement,
        inFlight: IN_FLIGHT,
        note: `extra figure: ${IN_FLIGHT} handshakes in flight at once, which hides the signer pool's latency; ${PLACEMENT_NOTE[placement]}; LDK one at a time`,
        ldk: round(median(rounds.ldk!)),
        ratio: round(medianRatio(mine, rounds.ldk!), 2),
        rounds: mine.length,
        perRound: mine.map((v) => round(v)).join(' '),
        loadAverage: round(loadavg()[0]!, 1),
      });
    }
  } finally {
    await ldkA.stop();
    await ldkB.stop();
  }
}

async function lnkitPair(keyA: NodeKeyEcdh, keyB: NodeKeyEcdh, frameSealer?: FrameSealer) {
  const a = new PeerManager({ nodeKey: keyA, maxQueueLength: 100_000 });
  const b = new PeerManager({
    nodeKey: keyB,
    maxQueueLength: 100_000,
    ...(frameSealer ? { frameSealer } : {}),
  });
  const { port } = await a.listen('127.0.0.1', 0);
  return { a, b, port, close: async () => Promise.all([a.close(), b.close()]) };
}

/** One TCP handshake: b dials a, init both ways, b disconnects, and a has dropped it too. */
async function lnkitTcpHandshake(pair: Awaited<ReturnType<typeof lnkitPair>>): Promise<void> {
  const { a, b, port } = pair;
  const aGone =
    a.listPeers().length === 0
      ? null
      : firstValueFrom(a.events$.pipe(filter((e) => e.type === 'disconnected')));
  await b.connect(a.nodeId, '127.0.0.1', port);
  await b.disconnect(a.nodeId);
  // The listener must have dropped the old connection before the next one (as LDK below).
  if (a.listPeers().length > 0)
    await (aGone ?? firstValueFrom(a.events$.pipe(filter((e) => e.type === 'disconnected'))));
}

async function tcpHandshakes(emit: Emit, keys: Record<Placement, [NodeKeyEcdh, NodeKeyEcdh]>): Promise<void> {
  const ldkA = await LdkPeer.create();
  const ldkB = await LdkPeer.create();
  const ldkPort = await ldkB.start();
  const pairs = await Promise.all(
    (Object.keys(keys) as Placement[]).map(async (p) => [p, await lnkitPair(...keys[p])] as const),
  );
  try {
    const byPlacement = Object.fromEntries(pairs) as Record<Placement, Awaited<ReturnType<typeof lnkitPair>>>;
    const rounds = await interleaved(
      {
        ldk: async () => {
          await ldkA.connect(ldkB.nodeId, '127.0.0.1', ldkPort);
          ldkA.disconnect(ldkB.nodeId);
          await ldkB.waitFor(() => ldkB.listPeers().length === 0, 5000, 'LDK listener drops the peer');
        },
        'in-thread': () => lnkitTcpHandshake(byPlacement['in-thread']),
        'signer-pool': () => lnkitTcpHandshake(byPlacement['signer-pool']),
        'signer-pool-tasks': () => lnkitTcpHandshake(byPlacement['signer-pool-tasks']),
      },
      ROUNDS,
      ROUND_MS,
    );
    emitHandshakes(emit, 'tcp', 'tcp+noise+init', rounds);
  } finally {
    await Promise.all(pairs.map(([, p]) => p.close()));
    await ldkA.stop();
    await ldkB.stop();
  }
}

/** Sends MESSAGES 1 KiB messages from b to a; returns MB/s from first send to last receipt. */
async function lnkitThroughput(frameSealer?: FrameSealer): Promise<number> {
  const { a, b, port, close } = await lnkitPair(
    nodeKeyEcdh(randomBytes(32)),
    nodeKeyEcdh(randomBytes(32)),
    frameSealer,
  );
  try {
    await b.connect(a.nodeId, '127.0.0.1', port);
    let received = 0;
    let done: () => void = () => {};
    const all = new Promise<void>((r) => {
      done = r;
    });
    a.messagesOfType(CUSTOM_TYPE).subscribe(() => {
      if (++received === MESSAGES) done();
    });
    const message = customMessage();
    const start = performance.now();
    // A window of 1,000 unacknowledged sends: the queue's backpressure, not memory, bounds it.
    let last: Promise<void> = Promise.resolve();
    for (let i = 0; i < MESSAGES; i++) {
      last = b.send(a.nodeId, message);
      if (i % 1000 === 999) await last;
    }
    await all;
    const seconds = (performance.now() - start) / 1000;
    return (MESSAGES * MESSAGE_SIZE) / seconds / 1e6;
  } finally {
    await close();
  }
}

async function ldkThroughput(): Promise<number> {
  const a = await LdkPeer.create({ customTypes: [CUSTOM_TYPE] });
  const b = await LdkPeer.create({ customTypes: [CUSTOM_TYPE] });
  const port = await a.start();
  try {
    await b.connect(a.nodeId, '127.0.0.1', port);
    const payload = new Uint8Array(MESSAGE_SIZE - 2);
    const start = performance.now();
    for (let i = 0; i < MESSAGES; i++) {
      b.sendCustom(a.nodeId, CUSTOM_TYPE, payload);
      if (i % 1000 === 999) {
        b.processEvents();
        await new Promise((r) => setImmediate(r));
      }
    }
    b.processEvents();
    await a.waitFor(() => a.customReceived.count >= MESSAGES, 60_000, 'LDK receives every message');
    const seconds = (performance.now() - start) / 1000;
    return (MESSAGES * MESSAGE_SIZE) / seconds / 1e6;
  } finally {
    await a.stop();
    await b.stop();
  }
}

async function frameEncryption(emit: Emit, pool: CryptoPool): Promise<number> {
  const message = customMessage();
  const enc = new MessageEncryptor({ sendingKey: randomBytes(32), chainingKey: randomBytes(32) });
  const inThread = (opsPerSecondSync(() => enc.encrypt(message), MS) * MESSAGE_SIZE) / 1e6;
  emit({
    name: 'peer-net.frame-encrypt',
    value: round(inThread),
    unit: 'MB/s',
    placement: 'in-thread',
    messageBytes: MESSAGE_SIZE,
  });
  let best = 0;
  for (const batch of [16, 64, 256]) {
    const messages = Array.from({ length: batch }, () => message);
    // Four connections at once; each plans its frames (keys, nonces) in order, the pool encrypts.
    const encryptors = Array.from(
      { length: 4 },
      () => new MessageEncryptor({ sendingKey: randomBytes(32), chainingKey: randomBytes(32) }),
    );
    const perSecond = await opsPerSecond(
      () => Promise.all(encryptors.map((e) => pool.encryptBatch(messages.flatMap((m) => e.plan(m))))),
      MS,
      batch * encryptors.length,
    );
    const mb = (perSecond * MESSAGE_SIZE) / 1e6;
    best = Math.max(best, mb);
    emit({
      name: 'peer-net.frame-encrypt',
      value: round(mb),
      unit: 'MB/s',
      placement: 'crypto-pool',
      threads: pool.threads,
      batch,
      connections: encryptors.length,
      messageBytes: MESSAGE_SIZE,
      inThread: round(inThread),
    });
  }
  return best;
}

export default async function peerNetBench(emit: Emit): Promise<void> {
  const pool = new CryptoPool({ threads: 2 });
  const { keys, close } = await placements();
  try {
    await memoryHandshakes(emit, keys);
    await tcpHandshakes(emit, keys);
  } finally {
    await close();
  }
  try {
    const ldkMb = await ldkThroughput();
    const lnkitMb = await lnkitThroughput();
    emit({
      name: 'peer-net.throughput',
      value: round(lnkitMb),
      unit: 'MB/s',
      frames: 'in-thread',
      messageBytes: MESSAGE_SIZE,
      messages: MESSAGES,
      ldk: round(ldkMb),
      ratio: round(lnkitMb / ldkMb, 2),
    });
    const pooledMb = await lnkitThroughput(pool);
    emit({
      name: 'peer-net.throughput',
      value: round(pooledMb),
      unit: 'MB/s',
      frames: 'crypto-pool',
      messageBytes: MESSAGE_SIZE,
      messages: MESSAGES,
      inThread: round(lnkitMb),
      ldk: round(ldkMb),
      ratio: round(pooledMb / ldkMb, 2),
    });

    await frameEncryption(emit, pool);
  } finally {
    await pool.close();
  }
}

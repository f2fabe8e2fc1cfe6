/**
 * One TCP connection carrying BOLT 8: the handshake, then framed encrypted messages in
 * both directions, with an outbound queue bounded in messages and in bytes. It writes only
 * while the socket takes more (socket.write's return, then 'drain'), so what a slow peer
 * has not read waits here, counted, and not in the socket's own unbounded buffer. It knows
 * nothing of init, ping or message types (that is PeerSession) and dies with its socket;
 * the logical peer that outlives reconnects lives in the PeerManager ("connection apart
 * from peer").
 */
import type { Socket } from 'node:net';
import { PeerNetError } from './errors.ts';
import {
  ACT_ONE_SIZE,
  ACT_THREE_SIZE,
  ACT_TWO_SIZE,
  type FrameSealer,
  HandshakeInitiator,
  HandshakeResponder,
  MAX_MESSAGE_SIZE,
  MessageDecryptor,
  MessageEncryptor,
  type NodeKeyEcdh,
  type TransportKeys,
} from './noise.ts';

export interface ConnectionOptions {
  /** The whole three-act handshake must finish within this (a silent peer is dropped). */
  handshakeTimeoutMs: number;
  /** Messages waiting to be written before `send` rejects with 'queue-full'. */
  maxQueueLength: number;
  /**
   * Bytes of messages waiting (queued, being encrypted, or encrypted and not yet handed to the
   * socket) before `send` rejects with 'queue-full'. Default DEFAULT_MAX_QUEUE_BYTES.
   */
  maxQueueBytes?: number;
  /** Largest frame body accepted (at most 65535, BOLT 8). */
  maxMessageSize?: number;
  /**
   * Where bulk frame encryption runs. Without it, in-thread. With it, once `sealerMinBatch`
   * messages are queued they are encrypted in batches there (e.g. the CryptoPool); fewer go
   * in-thread, because a pool round trip costs more than a few encryptions.
   */
  frameSealer?: FrameSealer;
  /** Queued messages that make a batch worth sending to the sealer. Default 32. */
  sealerMinBatch?: number;
}

/**
 * 1 MiB: sixteen of the largest messages, more than any reply a peer can ask for at once, and
 * what a sender that awaits its sends never reaches; with the socket's own buffer below, at
 * most about 1.3 MiB per peer, so 256 peers that stop reading hold about a third of a GiB
 * until the stall timeout drops them.
 */
export const DEFAULT_MAX_QUEUE_BYTES = 1024 * 1024;

/**
 * The socket's write buffer: writes stop once it holds this much, and go on at 'drain'.
 * Node's default (16 KiB) would split bulk sends into many more rounds; 256 KiB keeps the
 * throughput of writing whole batches while bounding what sits outside the queue's count.
 */
export const SOCKET_WRITE_BUFFER_BYTES = 256 * 1024;

/** Messages per sealer batch, and batches encrypting at once per connection. */
const SEALER_BATCH = 128;
const MAX_BATCHES_IN_FLIGHT = 4;

/** Frames the sealer encrypts, in send order: two ciphertexts per item (length, then body); null while it works. */
interface Batch {
  items: Pending[];
  frames: Uint8Array[] | null;
  /** Items already written. */
  written: number;
}

/** Structured clone copies a view's whole ArrayBuffer: give the pool exactly the message bytes. */
function ownBytes(b: Uint8Array): Uint8Array {
  return b.byteOffset === 0 && b.byteLength === b.buffer.byteLength ? b : b.slice();
}

interface Pending {
  message: Uint8Array;
  resolve: () => void;
  reject: (e: Error) => void;
}

/** Act three plus one largest frame (init), twice over for slack. */
const HANDSHAKE_BUFFER_LIMIT = 2 * (ACT_THREE_SIZE + 18 + MAX_MESSAGE_SIZE + 16);

/** Reads fixed-size acts from a socket during the handshake, keeping any bytes that follow. */
class ActReader {
  private chunks: Buffer[] = [];
  private length = 0;
  private waiter: { size: number; resolve: (b: Uint8Array) => void; reject: (e: Error) => void } | null =
    null;
  private failure: PeerNetError | null = null;
  private readonly onData = (chunk: Buffer) => {
    if (this.failure) return;
    this.chunks.push(chunk);
    this.length += chunk.length;
    // Before our init, a peer may have sent act three and its own init (BOLT 1: nothing else
    // before it receives ours): more than that is a flood, not a handshake. Drop it now, not
    // when the node key's ECDH (perhaps in a busy pool) returns: until then nothing reads.
    if (this.length > HANDSHAKE_BUFFER_LIMIT) {
      this.fail(new PeerNetError('message-too-long', 'too much data during the handshake'));
      this.chunks = [];
      this.length = 0;
      this.socket.destroy();
      return;
    }
    this.check();
  };
  private readonly onEnd = () =>
    this.fail(new PeerNetError('handshake-short-read', 'connection closed during the handshake'));

  constructor(private readonly socket: Socket) {
    socket.on('data', this.onData);
    socket.on('close', this.onEnd);
    socket.on('end', this.onEnd);
  }

  read(size: number): Promise<Uint8Array> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiter = { size, resolve, reject };
      this.check();
    });
  }

  fail(e: PeerNetError): void {
    if (!this.failure) this.failure = e;
    const w = this.waiter;
    this.waiter = null;
    w?.reject(this.failure);
  }

  /** Stops listening; returns bytes received beyond the acts (the first transport frames). */
  detach(): Uint8Array {
    // Paused until Connection.start() listens, so no frame is emitted to nobody.
    this.socket.pause();
    this.socket.off('data', this.onData);
    this.socket.off('close', this.onEnd);
    this.socket.off('end', this.onEnd);
    return new Uint8Array(Buffer.concat(this.chunks));
  }

  private check(): void {
    const w = this.waiter;
    if (!w || this.length < w.size) return;
    const all = Buffer.concat(this.chunks);
    this.chunks = all.length > w.size ? [all.subarray(w.size)] : [];
    this.length = all.length - w.size;
    this.waiter = null;
    w.resolve(new Uint8Array(all.subarray(0, w.size)));
  }
}

async function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout();
      reject(new PeerNetError('timeout', `handshake did not complete within ${ms} ms`));
    }, ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export class Connection {
  /** Called for each decrypted message, in order. Set before `start()`. */
  onMessage: (message: Uint8Array) => void = () => {};
  /** Called once when the connection ends; `error` is why, if it was not a clean close. */
  onClose: (error: PeerNetError | undefined) => void = () => {};
  /** Called when the socket refuses more (`true`) and when it drains again (`false`). */
  onBackpressure: (blocked: boolean) => void = () => {};
  /** Called each time `send` refuses a message with 'queue-full' (for metrics). */
  onQueueFull: () => void = () => {};

  private readonly encryptor: MessageEncryptor;
  private readonly decryptor: MessageDecryptor;
  private readonly queue: Pending[] = [];
  private readonly inflight: Batch[] = [];
  private waitingForDrain = false;
  private pumpScheduled = false;
  private closed = false;
  private closeError: PeerNetError | undefined;
  private closeTimer: NodeJS.Timeout | undefined;
  private leftover: Uint8Array;
  /** Act three waits corked in the socket, to leave in one segment with our init (see outbound). */
  private handshakeCorked = false;
  /** Bytes of the messages in `queue` and `inflight` (not yet handed to the socket). */
  private pendingBytes = 0;
  private readonly maxQueueBytes: number;
  /** Bytes and messages through this connection, for metrics. */
  readonly stats = { messagesIn: 0, messagesOut: 0, bytesIn: 0, bytesOut: 0 };

  private constructor(
    readonly socket: Socket,
    keys: TransportKeys,
    readonly inbound: boolean,
    leftover: Uint8Array,
    private readonly options: ConnectionOptions,
  ) {
    this.remoteNodeId = keys.remoteStatic;
    this.encryptor = new MessageEncryptor(keys);
    this.decryptor = new MessageDecryptor(keys, options.maxMessageSize ?? MAX_MESSAGE_SIZE);
    this.leftover = leftover;
    this.remoteAddress = formatAddress(socket.remoteAddress, socket.remotePort);
    this.maxQueueBytes = options.maxQueueBytes ?? DEFAULT_MAX_QUEUE_BYTES;
  }

  readonly remoteNodeId: Uint8Array;
  readonly remoteAddress: string;

  /** BOLT 8 initiator over a connected socket. Destroys the socket and rejects on any failure. */
  static async outbound(
    socket: Socket,
    localKey: NodeKeyEcdh,
    remoteNodeId: Uint8Array,
    options: ConnectionOptions,
  ): Promise<Connection> {
    const reader = new ActReader(socket);
    socket.on('error', () => {});
    const run = async (): Promise<Connection> => {
      const hs = new HandshakeInitiator(localKey, remoteNodeId);
      socket.write(hs.actOne());
      const actTwo = await reader.read(ACT_TWO_SIZE);
      const { actThree, keys } = await hs.actTwo(actTwo);
      // Corked: act three goes out with the first frames (our init, BOLT 1) in one write, so
      // the responder reads both at once rather than waking twice.
      socket.cork();
      socket.write(actThree);
      const connection = new Connection(socket, keys, false, reader.detach(), options);
      connection.handshakeCorked = true;
      return connection;
    };
    try {
      return await withTimeout(run(), options.handshakeTimeoutMs, () =>
        reader.fail(new PeerNetError('timeout', 'handshake timed out')),
      );
    } catch (e) {
      reader.detach();
      socket.destroy();
      throw e;
    }
  }

  /** BOLT 8 responder over an accepted socket. Destroys the socket and rejects on any failure. */
  static async inbound(
    socket: Socket,
    localKey: NodeKeyEcdh,
    options: ConnectionOptions,
  ): Promise<Connection> {
    const reader = new ActReader(socket);
    socket.on('error', () => {});
    const run = async (): Promise<Connection> => {
      const hs = new HandshakeResponder(localKey);
      const actOne = await reader.read(ACT_ONE_SIZE);
      socket.write(await hs.actOne(actOne));
      const actThree = await reader.read(ACT_THREE_SIZE);
      const keys = hs.actThree(actThree);
      return new Connection(socket, keys, true, reader.detach(), options);
    };
    try {
      return await withTimeout(run(), options.handshakeTimeoutMs, () =>
        reader.fail(new PeerNetError('timeout', 'handshake timed out')),
      );
    } catch (e) {
      reader.detach();
      socket.destroy();
      throw e;
    }
  }

  /** Starts delivering messages to `onMessage` (including any that arrived with act three). */
  start(): void {
    const socket = this.socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) =>
      this.receive(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length)),
    );
    socket.on('drain', () => {
      this.waitingForDrain = false;
      this.onBackpressure(false);
      this.pump();
    });
    // After closeAfterFlush, a late write fails with an error; the reason stays the original one.
    socket.on('error', (e: Error) =>
      this.finish(this.closeError ?? new PeerNetError('disconnected', `socket error: ${e.message}`)),
    );
    socket.on('close', () => this.finish(this.closeError));
    socket.on('end', () => {
      // The peer half-closed: BOLT 8 has no half-open use, so close our side too.
      socket.end();
    });
    const first = this.leftover;
    this.leftover = new Uint8Array(0);
    if (first.length > 0) this.receive(first);
    if (socket.destroyed) this.finish(this.closeError);
    else socket.resume();
    // Act three leaves with the first flush; if nothing is sent this turn, on its own.
    if (this.handshakeCorked) setImmediate(() => this.releaseHandshakeCork());
  }

  private releaseHandshakeCork(): void {
    if (!this.handshakeCorked) return;
    this.handshakeCorked = false;
    this.socket.uncork();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Messages sent but not yet handed to the socket (queued or being encrypted). */
  get queueLength(): number {
    return this.queue.length + this.inflight.reduce((n, b) => n + b.items.length - b.written, 0);
  }

  /** Bytes of those messages, plus what the socket holds and has not yet given to the kernel. */
  get queueBytes(): number {
    return this.pendingBytes + this.socket.writableLength;
  }

  /** Queues an encrypted message; resolves once the socket has taken it, rejects if full or closed. */
  send(message: Uint8Array): Promise<void> {
    if (this.closed) return Promise.reject(new PeerNetError('not-connected', 'connection is closed'));
    if (message.length > MAX_MESSAGE_SIZE) {
      return Promise.reject(
        new PeerNetError(
          'message-too-long',
          `message of ${message.length} bytes exceeds ${MAX_MESSAGE_SIZE}`,
        ),
      );
    }
    const length = this.queueLength;
    if (length >= this.options.maxQueueLength) {
      this.onQueueFull();
      return Promise.reject(new PeerNetError('queue-full', `outbound queue holds ${length} messages`));
    }
    if (this.pendingBytes + message.length > this.maxQueueBytes) {
      this.onQueueFull();
      return Promise.reject(
        new PeerNetError(
          'queue-full',
          `outbound queue holds ${this.pendingBytes} bytes; ${message.length} more exceed ${this.maxQueueBytes}`,
        ),
      );
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ message, resolve, reject });
      this.pendingBytes += message.length;
      if (!this.pumpScheduled) {
        this.pumpScheduled = true;
        // Messages sent in the same tick go out in one corked write.
        queueMicrotask(() => {
          this.pumpScheduled = false;
          this.pump();
        });
      }
    });
  }

  /** Closes at once; pending sends reject. */
  close(error?: PeerNetError): void {
    if (this.closed) return;
    this.closeError ??= error;
    this.socket.destroy();
    this.finish(this.closeError);
  }

  /** Writes what is queued (e.g. a warning), then closes. */
  closeAfterFlush(error: PeerNetError, graceMs = 1000): void {
    if (this.closed) return;
    this.closeError ??= error;
    this.pump();
    this.socket.end();
    this.closeTimer = setTimeout(() => this.close(error), graceMs);
    this.closeTimer.unref();
  }

  /**
   * Hands big runs of queued messages to the sealer (when there is one), then writes. Keys
   * and nonces are assigned in send order: a batch is planned from the head of the queue,
   * and a message encrypted in-thread is encrypted only when every batch before it is written.
   */
  private pump(): void {
    const sealer = this.options.frameSealer;
    if (!sealer) {
      this.flush();
      return;
    }
    for (;;) {
      while (
        !this.closed &&
        !this.waitingForDrain &&
        this.forSealer() &&
        this.inflight.length < MAX_BATCHES_IN_FLIGHT
      ) {
        this.seal(sealer);
      }
      this.flush();
      // Go round again only if the flush stopped to leave a batch's worth to the sealer, and one fits.
      if (this.closed || this.waitingForDrain || !this.forSealer()) break;
      if (this.inflight.length >= MAX_BATCHES_IN_FLIGHT) break;
    }
  }

  /** Enough is queued for a sealer batch to pay; fewer are encrypted in-thread. */
  private forSealer(): boolean {
    return this.options.frameSealer !== undefined && this.queue.length >= (this.options.sealerMinBatch ?? 32);
  }

  /** Takes the next batch from the head of the queue; its keys and nonces are assigned now, in order. */
  private seal(sealer: FrameSealer): void {
    const items = this.queue.splice(0, SEALER_BATCH);
    const requests = items.flatMap((i) => this.encryptor.plan(ownBytes(i.message)));
    const batch: Batch = { items, frames: null, written: 0 };
    this.inflight.push(batch);
    sealer.encryptBatch(requests).then(
      (frames) => {
        batch.frames = frames;
        this.pump();
      },
      () => this.close(new PeerNetError('disconnected', 'frame encryption failed')),
    );
  }

  /** Writes, in send order, until the socket says it holds enough (then 'drain' resumes it). */
  private flush(): void {
    // After closeAfterFlush has ended the socket, later sends wait for the close that rejects them.
    if (this.closed || this.waitingForDrain || this.socket.writableEnded) return;
    const socket = this.socket;
    socket.cork();
    try {
      while (!this.waitingForDrain) {
        const batch = this.inflight[0];
        if (batch) {
          if (!batch.frames) break; // the sealer is still at work on the next frames
          const i = batch.written++;
          const frames = batch.frames;
          this.write(batch.items[i]!, [frames[2 * i]!, frames[2 * i + 1]!]);
          if (batch.written === batch.items.length) this.inflight.shift();
          continue;
        }
        if (this.forSealer()) break; // pump hands these to the sealer
        const item = this.queue.shift();
        if (!item) break;
        this.write(item, [this.encryptor.encrypt(item.message)]);
      }
    } finally {
      socket.uncork();
      this.releaseHandshakeCork();
    }
  }

  /** One message's frames to the socket; its send resolves once the socket has written them. */
  private write(item: Pending, frames: Uint8Array[]): void {
    let ok = true;
    frames.forEach((frame, k) => {
      this.stats.bytesOut += frame.length;
      const last = k === frames.length - 1;
      ok = this.socket.write(
        frame,
        last
          ? (err) => {
              if (err)
                item.reject(
                  new PeerNetError('disconnected', 'connection closed before the message was written'),
                );
              else item.resolve();
            }
          : undefined,
      );
    });
    this.pendingBytes -= item.message.length;
    this.stats.messagesOut++;
    if (!ok) {
      this.waitingForDrain = true;
      this.onBackpressure(true);
    }
  }

  private receive(bytes: Uint8Array): void {
    if (this.closed) return;
    this.stats.bytesIn += bytes.length;
    let messages: Uint8Array[];
    try {
      messages = this.decryptor.push(bytes);
    } catch (e) {
      // BOLT 8: a MAC failure MUST close the connection; nothing can be said to the peer any more.
      this.close(e instanceof PeerNetError ? e : new PeerNetError('bad-mac', 'frame does not decrypt'));
      return;
    }
    for (const m of messages) {
      if (this.closed) return;
      this.stats.messagesIn++;
      this.onMessage(m);
    }
    // The frames before a failing one in the same chunk were delivered; now BOLT 8's close.
    const failure = this.decryptor.failure;
    if (failure) this.close(failure);
  }

  private finish(error: PeerNetError | undefined): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.closeTimer);
    const pending = [
      ...this.inflight.splice(0).flatMap((b) => b.items.slice(b.written)),
      ...this.queue.splice(0),
    ];
    this.pendingBytes = 0;
    for (const p of pending)
      p.reject(new PeerNetError('disconnected', 'connection closed before the message was written'));
    if (!this.socket.destroyed) this.socket.destroy();
    const onClose = this.onClose;
    // Nothing of the closed connection stays reachable through its callbacks.
    this.onMessage = () => {};
    this.onClose = () => {};
    this.onBackpressure = () => {};
    this.onQueueFull = () => {};
    onClose(error);
  }
}

/** host:port of a socket's remote end; a socket reset before it was read has neither. */
export function formatAddress(host: string | undefined, port: number | undefined): string {
  if (host === undefined) return 'unknown';
  return `${host.includes(':') ? `[${host}]` : host}:${port ?? 0}`;
}

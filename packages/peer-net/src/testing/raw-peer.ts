/**
 * Test helper (not exported by the package): a hand-driven BOLT 8 initiator over a raw
 * socket, to send what a well-behaved node never would — a flood of pings, bad frames, or
 * nothing at all — and to stop reading whenever a test says so.
 */
import net from 'node:net';
import { randomBytes } from '@lnkit/crypto';
import { waitFor } from '@lnkit/test-support';
import { encodeMessage, Features } from '@lnkit/wire';
import { LNKIT_INIT_FEATURES } from '../features.ts';
import { HandshakeInitiator, MessageDecryptor, MessageEncryptor, nodeKeyEcdh } from '../noise.ts';

export interface RawPeerOptions {
  /** The local address to connect from (127.0.0.2, 127.0.0.3, … are all loopback on Linux). */
  localAddress?: string;
  host?: string;
}

export interface RawPeer {
  readonly socket: net.Socket;
  readonly nodeId: string;
  readonly closed: boolean;
  /** One message as a frame, without sending it. */
  frame(message: Uint8Array): Uint8Array;
  send(message: Uint8Array): boolean;
  sendInit(): boolean;
  /** Messages received so far, decrypted. */
  messages(): Uint8Array[];
}

/** A BOLT 1 ping asking for `numPongBytes` of pong. */
export function pingMessage(numPongBytes: number): Uint8Array {
  return encodeMessage({ type: 18, kind: 'ping', numPongBytes, ignored: new Uint8Array(0) });
}

/** Opens a TCP connection and runs the BOLT 8 handshake as initiator; resolves once act three is sent. */
export async function rawPeer(
  port: number,
  remoteNodeIdHex: string,
  opts: RawPeerOptions = {},
): Promise<RawPeer> {
  const socket = net.connect({
    port,
    host: opts.host ?? '127.0.0.1',
    ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const initiatorKey = nodeKeyEcdh(randomBytes(32));
  const hs = new HandshakeInitiator(initiatorKey, Uint8Array.from(Buffer.from(remoteNodeIdHex, 'hex')));
  const received: Buffer[] = [];
  let closed = false;
  socket.on('data', (d: Buffer) => received.push(d));
  socket.on('close', () => {
    closed = true;
  });
  socket.on('error', () => {});
  socket.write(hs.actOne());
  await waitFor(() => Buffer.concat(received).length >= 50, { what: 'act two' });
  const all = Buffer.concat(received);
  received.length = 0;
  if (all.length > 50) received.push(all.subarray(50));
  const { actThree, keys } = await hs.actTwo(new Uint8Array(all.subarray(0, 50)));
  socket.write(actThree);
  const enc = new MessageEncryptor(keys);
  const dec = new MessageDecryptor(keys);
  const init = () =>
    encodeMessage({
      type: 16,
      kind: 'init',
      globalFeatures: Features.empty(),
      features: LNKIT_INIT_FEATURES,
    });
  return {
    socket,
    nodeId: Buffer.from(initiatorKey.publicKey).toString('hex'),
    get closed() {
      return closed;
    },
    frame: (message) => enc.encrypt(message),
    send: (message) => socket.write(enc.encrypt(message)),
    sendInit: () => socket.write(enc.encrypt(init())),
    messages: () => dec.push(new Uint8Array(Buffer.concat(received.splice(0)))),
  };
}

/** Whether this host routes 127.0.0.2 to itself (Linux does; some systems only have 127.0.0.1). */
export async function extraLoopbackWorks(): Promise<boolean> {
  const server = net.createServer((s) => s.destroy());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  try {
    return await new Promise<boolean>((resolve) => {
      const s = net.connect({ port, host: '127.0.0.1', localAddress: '127.0.0.2' });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
  }
}

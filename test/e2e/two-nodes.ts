/**
 * Two lnkitd on one bcoin regtest chain, for the e2e tests that need a channel between them:
 * A embeds the chain, B reaches it through --bitcoind-rpc, both on fixed ports so each finds
 * the other (and the chain) again after a restart. `fundA` mines A's wallet past segwit;
 * `openReadyChannel` opens A→B with a push and waits until both say ready.
 */
import { readFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import { waitFor } from '@lnkit/test-support';
import { address } from 'bitcoinjs-lib';
import { CLI_POLL_MS, Daemon, request } from './daemon.ts';

export interface NodeInfo {
  nodeId: string;
  blockHeight: number;
  listening: { host: string; port: number };
}

export interface ChannelJson {
  channelId: string;
  peer: string;
  state: string;
  localBalanceMsat: string;
  remoteBalanceMsat: string;
  minimumDepth: number;
}

/** Nobody's: a P2WPKH of twenty zero bytes, in bcoin's regtest bech32. Blocks mined here pay no wallet. */
export const BURN = address.toBech32(Buffer.alloc(20), 0, 'rb');
/** bcoin regtest activates segwit at 432: the wallet's P2WPKH coins cannot be spent before. */
export const SEGWIT_HEIGHT = 432;

/** A payment as the REST API and the CLI show it (`pay`, `keysend`, `listpayments`). */
export interface PaymentJson {
  paymentId: string;
  paymentHash: string;
  status: string;
  amountMsat: string;
  feeMsat: string;
  preimage: string | null;
  reason?: string;
}

/** A channel of `listgraphchannels`, as far as the line tests read it. */
export interface GraphChannelJson {
  shortChannelId: string;
  directions: [unknown, unknown];
}

/** bcoin mines only to its own regtest prefix (rb1...); the same witness program from bcrt1... */
export function asBcoinAddress(addr: string): string {
  const { version, data } = address.fromBech32(addr);
  return address.toBech32(data, version, 'rb');
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  await new Promise((r) => server.close(r));
  return port;
}

export interface TwoNodes {
  a: Daemon;
  b: Daemon;
  ia: NodeInfo;
  ib: NodeInfo;
  chainRpc<T>(method: string, params?: unknown[]): Promise<T>;
  burn(blocks: number): Promise<string[]>;
  /** Another lnkitd on A's chain (through --bitcoind-rpc), in `root/<name>`. */
  another(name: string, args?: string[]): Promise<Daemon>;
}

/**
 * A daemon started on ports found free just before: on a busy machine another process may take
 * one in between, so a start that cannot listen is tried again on fresh ports (twice at most).
 */
async function startOnFreePorts(dataDir: string, args: () => Promise<string[]>): Promise<Daemon> {
  for (let attempt = 1; ; attempt++) {
    const d = new Daemon(dataDir, await args());
    try {
      await d.start();
      return d;
    } catch (e) {
      if (attempt >= 3 || !/already in use/.test((e as Error).message)) throw e;
    }
  }
}

/** Options of each daemon beyond the ones startTwoNodes gives (its alias, say). */
export interface TwoNodesOptions {
  aArgs?: string[];
  bArgs?: string[];
}

export async function startTwoNodes(root: string, o: TwoNodesOptions = {}): Promise<TwoNodes> {
  const a = await startOnFreePorts(join(root, 'a'), async () => [
    ...(o.aArgs ?? []),
    '--listen',
    `127.0.0.1:${await freePort()}`,
    '--api',
    '127.0.0.1:0',
    '--log-level',
    'debug',
    '--embedded-rpc-port',
    String(await freePort()),
  ]);
  const chain = JSON.parse(readFileSync(join(a.dataDir, 'embedded-chain.json'), 'utf8'));
  let b: Daemon;
  const onChain = (name: string, args: string[]) =>
    startOnFreePorts(join(root, name), async () => [
      ...args,
      '--listen',
      `127.0.0.1:${await freePort()}`,
      '--api',
      '127.0.0.1:0',
      '--log-level',
      'debug',
      '--bitcoind-rpc',
      chain.rpcUrl,
      '--bitcoind-rpcuser',
      chain.rpcUser,
      '--bitcoind-rpcpassword',
      chain.rpcPassword,
    ]);
  try {
    b = await onChain('b', o.bArgs ?? []);
  } catch (e) {
    await a.kill('SIGKILL');
    throw e;
  }
  const chainRpc = async <T>(method: string, params: unknown[] = []): Promise<T> => {
    const r = await request(chain.rpcUrl, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${chain.rpcUser}:${chain.rpcPassword}`).toString('base64')}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ jsonrpc: '1.0', id: 1, method, params }),
    });
    const reply = (await r.json()) as { result: T; error: { message: string } | null };
    if (reply.error) throw new Error(`${method}: ${reply.error.message}`);
    return reply.result;
  };
  return {
    a,
    b,
    ia: a.json<NodeInfo>('getinfo'),
    ib: b.json<NodeInfo>('getinfo'),
    chainRpc,
    burn: (blocks) => chainRpc<string[]>('generatetoaddress', [blocks, BURN]),
    another: (name, args = []) => onChain(name, args),
  };
}

/** Segwit active and 101 blocks to A's wallet: two coinbases spendable at 432. */
export async function fundA(n: TwoNodes): Promise<void> {
  const start = await n.chainRpc<number>('getblockcount');
  await n.burn(SEGWIT_HEIGHT - 101 - start);
  n.a.json('mine', '101');
  await waitFor(
    () =>
      n.a.json<{ onchain: { confirmedSat: string } }>('balance').onchain.confirmedSat !== '0' || undefined,
    { what: "A's coinbases spendable", intervalMs: CLI_POLL_MS, timeoutMs: 120_000 },
  );
}

export function channelsOf(d: Daemon): ChannelJson[] {
  return d.json<{ channels: ChannelJson[] }>('listchannels').channels;
}

export function waitForChannel(
  d: Daemon,
  channelId: string,
  done: (c: ChannelJson) => boolean,
  what: string,
): Promise<ChannelJson> {
  let last: ChannelJson | undefined;
  return waitFor(
    () => {
      last = channelsOf(d).find((c) => c.channelId === channelId);
      return last && done(last) ? last : undefined;
    },
    { what, intervalMs: CLI_POLL_MS, timeoutMs: 180_000 },
  ).catch((e: Error) => {
    throw new Error(`${e.message}; the last listchannels entry: ${JSON.stringify(last)}`);
  });
}

/** B connects to A, A opens `amountSat` to B pushing `pushMsat`; resolves once both say ready. */
export async function openReadyChannel(
  n: TwoNodes,
  amountSat: bigint,
  pushMsat: bigint,
  o: { public?: boolean } = {},
): Promise<string> {
  const { a, b, ia, ib } = n;
  b.json('connect', `${ia.nodeId}@127.0.0.1:${ia.listening.port}`);
  await waitFor(
    () =>
      a.json<{ peers: { nodeId: string }[] }>('listpeers').peers.some((p) => p.nodeId === ib.nodeId) ||
      undefined,
    { what: 'A to see B connected', intervalMs: CLI_POLL_MS },
  );
  const opened = a.json<{ channelId: string; fundingTxid: string }>(
    'openchannel',
    ib.nodeId,
    String(amountSat),
    '--push-msat',
    String(pushMsat),
    ...(o.public ? ['--public'] : []),
  );
  await waitFor(
    async () => (await n.chainRpc<string[]>('getrawmempool')).includes(opened.fundingTxid) || undefined,
    { what: 'the funding broadcast', intervalMs: CLI_POLL_MS, timeoutMs: 120_000 },
  );
  const pending = channelsOf(a).find((c) => c.channelId === opened.channelId)!;
  await n.burn(pending.minimumDepth);
  await waitForChannel(a, opened.channelId, (c) => c.state === 'ready', 'A: the channel ready');
  await waitForChannel(b, opened.channelId, (c) => c.state === 'ready', 'B: the channel ready');
  return opened.channelId;
}

/** A JSON call on a daemon's API with its token: the status and the parsed answer. */
export async function api<T>(d: Daemon, method: 'GET' | 'POST', path: string, body?: unknown) {
  const { url, token } = d.api();
  const r = await request(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: r.status, json: JSON.parse(r.text) as T };
}
